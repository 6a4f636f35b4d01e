//! HTML pages (stub: filled in by a later commit).

use super::{Extracted, Format};

/// Whether text starts like an HTML page: after a byte-order mark, whitespace, an XML
/// declaration and comments, `<!doctype html` or `<html` (any case). UTF-16 with a byte-order
/// mark is decoded first.
pub(crate) fn looks_like_html(sample: &[u8]) -> bool {
    let decoded;
    let text: &[u8] = match encoding_rs::Encoding::for_bom(sample) {
        Some((e, len)) if e != encoding_rs::UTF_8 => {
            decoded = e.decode_without_bom_handling(sample.get(len..).unwrap_or_default()).0.into_owned();
            decoded.as_bytes()
        }
        Some((_, len)) => sample.get(len..).unwrap_or_default(),
        None => sample,
    };
    let mut rest = text;
    loop {
        rest = rest.trim_ascii_start();
        let lower = |n: usize| rest.get(..n).map(<[u8]>::to_ascii_lowercase);
        if lower(14).as_deref() == Some(b"<!doctype html") || lower(5).as_deref() == Some(b"<html") {
            return true;
        }
        let (open, close): (&[u8], &[u8]) = if rest.starts_with(b"<?") {
            (b"<?", b"?>")
        } else if rest.starts_with(b"<!--") {
            (b"<!--", b"-->")
        } else {
            return false;
        };
        match super::find(rest.get(open.len()..).unwrap_or_default(), close) {
            Some(i) => rest = rest.get(open.len() + i + close.len()..).unwrap_or_default(),
            None => return false,
        }
    }
}

pub fn extract(bytes: &[u8]) -> Extracted {
    let mut x = super::plain::extract(bytes);
    x.format = Format::Html;
    x
}
