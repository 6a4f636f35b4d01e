//! Word `.docx` files (stub: filled in by the next commit).

use std::path::Path;

use super::{ExtractError, Extracted};

/// Whether `bytes` are a zip holding `word/document.xml`.
pub(crate) fn has_document_part(bytes: &[u8]) -> bool {
    zip::ZipArchive::new(std::io::Cursor::new(bytes)).is_ok_and(|z| z.index_for_name("word/document.xml").is_some())
}

pub fn extract(path: &Path, _bytes: &[u8]) -> Result<Extracted, ExtractError> {
    Err(ExtractError::NotWord { path: path.to_path_buf() })
}
