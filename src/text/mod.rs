//! Text and linking: the gazetteer (places, names in both scripts), the regional table it is
//! built on, folding and matching names in text, resolving which place a name means, documents
//! split into passages with their mentions, and presentation stories built from them.

pub mod corpus;
pub mod coverage;
pub mod date;
pub mod document;
pub mod extract;
pub mod fold;
pub mod gazetteer;
pub mod matcher;
pub mod region;
pub mod resolve;
pub mod sample;
pub mod segment;
pub mod story;

#[cfg(test)]
mod linking_tests;
