//! Tests across formats: the same places read from every format land in the same spot.
