//! Zipped Shapefiles (as e-mailed) and KMZ, read in memory: nothing is extracted to disk, so
//! an entry named `../../etc/x` can do no harm, and sizes are checked before anything is
//! decompressed, with the actual bytes capped too (a declared size can lie), so a zip bomb
//! stops at the limit.

use std::io::Read;
use std::path::Path;

use super::{FormatError, OpenOptions, RawLayer};
use crate::diagnostic::{Diagnostic, Diagnostics, Position, thousands};

/// At most this much is decompressed from one archive: a city's parcels are a few hundred MB.
pub const MAX_TOTAL: u64 = 2 << 30;
/// And at most this many entries looked at.
const MAX_ENTRIES: usize = 10_000;

type Archive = zip::ZipArchive<std::io::Cursor<Vec<u8>>>;

fn open(path: &Path) -> Result<Archive, FormatError> {
    let bytes = std::fs::read(path).map_err(|e| FormatError::io(path, e))?;
    let z = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| FormatError::invalid(path, Position::File, format!("not a readable zip: {e}")))?;
    if z.len() > MAX_ENTRIES {
        return Err(FormatError::invalid(
            path,
            Position::File,
            format!("it has {} entries; more than {MAX_ENTRIES}", z.len()),
        ));
    }
    Ok(z)
}

/// The entries' names, sizes checked: unsafe names (absolute, `..`) are reported and skipped.
fn entries(
    z: &mut Archive,
    path: &Path,
    diags: &mut Diagnostics,
    limit: u64,
) -> Result<Vec<(usize, String)>, FormatError> {
    let mut total = 0u64;
    let mut out = Vec::new();
    for i in 0..z.len() {
        let f = z
            .by_index_raw(i)
            .map_err(|e| FormatError::invalid(path, Position::At(format!("entry {}", i + 1)), e.to_string()))?;
        if f.is_dir() {
            continue;
        }
        // Zips made on Chinese Windows store GBK names without the UTF-8 flag.
        let raw = f.name_raw();
        let name = match std::str::from_utf8(raw) {
            Ok(s) => s.to_string(),
            Err(_) => encoding_rs::GB18030.decode(raw).0.into_owned(),
        };
        if f.enclosed_name().is_none() {
            diags.push(Diagnostic::warning(
                path,
                Position::At(format!("entry {name:?}")),
                "names a path outside the archive; ignored (nothing is extracted to disk)",
            ));
            continue;
        }
        total = total.saturating_add(f.size());
        if total > limit {
            return Err(FormatError::invalid(
                path,
                Position::At(format!("entry {name:?}")),
                format!("the archive expands to more than {} bytes; refused", thousands(limit as usize)),
            ));
        }
        out.push((i, name));
    }
    Ok(out)
}

/// Decompresses one entry, stopping past its declared size (and the overall cap).
fn read_entry(z: &mut Archive, path: &Path, i: usize, name: &str) -> Result<Vec<u8>, FormatError> {
    let err = |m: String| FormatError::invalid(path, Position::At(format!("entry {name:?}")), m);
    let f = z.by_index(i).map_err(|e| err(e.to_string()))?;
    let declared = f.size();
    let mut out = Vec::with_capacity(declared.min(64 << 20) as usize);
    f.take(declared.min(MAX_TOTAL) + 1).read_to_end(&mut out).map_err(|e| err(format!("cannot decompress: {e}")))?;
    if out.len() as u64 > declared {
        return Err(err(format!("expands past its declared size ({} bytes); refused", thousands(declared as usize))));
    }
    Ok(out)
}

fn ext_of(name: &str) -> String {
    Path::new(name).extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase()
}

/// A zip holding one Shapefile (or the one `--layer` names by file name), or a KML.
pub fn read_zip(path: &Path, opts: &OpenOptions, diags: &mut Diagnostics) -> Result<Vec<RawLayer>, FormatError> {
    read_zip_within(path, opts, diags, MAX_TOTAL)
}

/// [`read_zip`] with another expansion limit (tests use a small one).
pub fn read_zip_within(
    path: &Path,
    opts: &OpenOptions,
    diags: &mut Diagnostics,
    limit: u64,
) -> Result<Vec<RawLayer>, FormatError> {
    let mut z = open(path)?;
    let names = entries(&mut z, path, diags, limit)?;
    let shps: Vec<&(usize, String)> = names.iter().filter(|(_, n)| ext_of(n) == "shp").collect();
    let stem_of = |n: &str| Path::new(n).file_stem().and_then(|s| s.to_str()).unwrap_or("").to_string();
    let chosen = match (shps.as_slice(), &opts.layer) {
        ([], _) => {
            if let Some((i, n)) = names.iter().find(|(_, n)| ext_of(n) == "kml") {
                let bytes = read_entry(&mut z, path, *i, n)?;
                return super::kml::read(path, &bytes, opts, diags);
            }
            return Err(FormatError::invalid(path, Position::File, "the zip holds no Shapefile (.shp) or KML"));
        }
        (_, Some(layer)) => {
            shps.iter().find(|(_, n)| &stem_of(n) == layer || n == layer).ok_or_else(|| FormatError::Layers {
                path: path.to_path_buf(),
                message: format!("no Shapefile named {layer:?} in the zip"),
                available: shps.iter().map(|(_, n)| stem_of(n)).collect(),
            })?
        }
        ([one], None) => one,
        (many, None) => {
            return Err(FormatError::Layers {
                path: path.to_path_buf(),
                message: format!("the zip holds {} Shapefiles; choose one with --layer", many.len()),
                available: many.iter().map(|(_, n)| stem_of(n)).collect(),
            });
        }
    };
    let base = chosen.1.strip_suffix(".shp").or_else(|| chosen.1.strip_suffix(".SHP")).unwrap_or(&chosen.1).to_string();
    let mut part = |ext: &str| -> Result<Option<Vec<u8>>, FormatError> {
        let found =
            names.iter().find(|(_, n)| n.len() == base.len() + 4 && n.starts_with(&base) && ext_of(n) == ext).cloned();
        found.map(|(i, n)| read_entry(&mut z, path, i, &n)).transpose()
    };
    let parts = super::shp::Parts {
        shp: part("shp")?.unwrap_or_default(),
        shx: part("shx")?,
        dbf: part("dbf")?,
        prj: part("prj")?,
        cpg: part("cpg")?,
    };
    // Problems name the zip and the Shapefile inside it.
    let inner = path.join(&chosen.1);
    let mut layer = super::shp::read_parts(&inner, &stem_of(&chosen.1), parts, opts, diags)?;
    layer.format = "Shapefile in a zip".into();
    Ok(vec![layer])
}

/// A KMZ: the zip's `doc.kml`, or its first `.kml`.
pub fn read_kmz(path: &Path, opts: &OpenOptions, diags: &mut Diagnostics) -> Result<Vec<RawLayer>, FormatError> {
    let mut z = open(path)?;
    let names = entries(&mut z, path, diags, MAX_TOTAL)?;
    let kml = names
        .iter()
        .find(|(_, n)| n.eq_ignore_ascii_case("doc.kml"))
        .or_else(|| names.iter().find(|(_, n)| ext_of(n) == "kml"))
        .cloned()
        .ok_or_else(|| FormatError::invalid(path, Position::File, "the KMZ holds no .kml document"))?;
    let bytes = read_entry(&mut z, path, kml.0, &kml.1)?;
    let mut layers = super::kml::read(path, &bytes, opts, diags)?;
    for l in &mut layers {
        l.format = "KMZ".into();
    }
    Ok(layers)
}
