//! PDFs (stub: filled in by a later commit).

use std::path::Path;

use super::{ExtractError, Extracted};

pub fn extract(path: &Path, _bytes: &[u8]) -> Result<Extracted, ExtractError> {
    Err(ExtractError::BadPdf { path: path.to_path_buf(), message: "not yet read".into() })
}
