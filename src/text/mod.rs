//! Text and linking: the gazetteer (places, names in both scripts, the matcher), documents split
//! into passages with their mentions, and presentation stories built from them.

pub mod document;
pub mod gazetteer;
pub mod story;
