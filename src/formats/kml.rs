//! KML and the KML inside a KMZ (see `archive`). Placeholder until the reader lands.

use std::path::Path;

use super::{FormatError, OpenOptions, RawLayer};
use crate::diagnostic::Diagnostics;

/// Reads a KML document's placemarks.
pub fn read(
    path: &Path,
    _bytes: &[u8],
    _opts: &OpenOptions,
    _diags: &mut Diagnostics,
) -> Result<Vec<RawLayer>, FormatError> {
    Err(FormatError::Unsupported { path: path.to_path_buf(), message: "KML is not read yet".into() })
}
