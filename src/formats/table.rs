//! CSV and spreadsheets with coordinate columns. Placeholder until the reader lands.

use std::path::Path;

use super::{FormatError, OpenOptions, RawLayer};
use crate::diagnostic::Diagnostics;

/// Reads a CSV file or a workbook's sheets as point layers.
pub fn read(path: &Path, _opts: &OpenOptions, _diags: &mut Diagnostics) -> Result<Vec<RawLayer>, FormatError> {
    Err(FormatError::Unsupported { path: path.to_path_buf(), message: "tables are not read yet".into() })
}
