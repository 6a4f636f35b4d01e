//! placeholder
use super::{FormatError, OpenOptions, RawLayer};
use crate::diagnostic::Diagnostics;
use std::path::Path;
pub fn read(path: &Path, _o: &OpenOptions, _d: &mut Diagnostics) -> Result<Vec<RawLayer>, FormatError> {
    Err(FormatError::Unsupported { path: path.to_path_buf(), message: "gpkg".into() })
}
