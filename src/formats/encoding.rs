//! Which text encoding an attribute table or spreadsheet is in. Suzhou's files come in UTF-8
//! and in GBK (Windows code page 936, written by ArcGIS and older QGIS); GB18030 decodes both
//! GBK and GB2312 and every character GBK lacks, so it stands for all three.
//!
//! The order follows what the file says before what its bytes look like: a `.cpg` file, then
//! the DBF language-driver byte, then strict UTF-8 over all the text, then GB18030.
//!
//! ```
//! use port_atlas::formats::encoding::{detect, from_label};
//! let gbk = [0xCC, 0xAB, 0xB2, 0xD6]; // 太仓 in GBK
//! assert_eq!(detect(&gbk).encoding.name(), "gb18030");
//! assert_eq!(detect("太仓".as_bytes()).encoding.name(), "UTF-8");
//! assert_eq!(from_label("936").unwrap().name(), "gb18030");
//! ```

use std::borrow::Cow;

use encoding_rs::{BIG5, Encoding, GB18030, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};

/// An encoding and how it was decided, for the layer's provenance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detected {
    pub encoding: &'static Encoding,
    pub why: &'static str,
}

impl Detected {
    /// "GB18030 (DBF language driver)": what the provenance shows.
    pub fn describe(&self) -> String {
        format!("{} ({})", display_name(self.encoding), self.why)
    }
}

/// The encoding's usual name for people: GB18030 rather than encoding_rs's "gb18030".
pub fn display_name(e: &'static Encoding) -> &'static str {
    if e == GB18030 {
        "GB18030/GBK"
    } else if e == BIG5 {
        "Big5"
    } else {
        e.name()
    }
}

/// An encoding from a label as `.cpg` files, `--encoding` and documents spell it: WHATWG labels
/// (`utf-8`, `gbk`, `gb2312`, `big5`), Windows code pages (`936`, `950`, `65001`, `ANSI 936`,
/// `CP936`), and `UTF8`. GBK and GB2312 map to GB18030, their superset.
pub fn from_label(label: &str) -> Option<&'static Encoding> {
    let t = label.trim().trim_start_matches('\u{feff}').trim();
    let lower = t.to_ascii_lowercase();
    let digits: String = lower.chars().filter(|c| c.is_ascii_digit()).collect();
    let code_page =
        (lower.starts_with("cp") || lower.starts_with("ansi") || lower.starts_with("windows") || lower == digits)
            && !digits.is_empty();
    if code_page {
        return match digits.as_str() {
            "936" | "54936" | "20936" => Some(GB18030),
            "950" => Some(BIG5),
            "65001" => Some(UTF_8),
            "1200" => Some(UTF_16LE),
            "1201" => Some(UTF_16BE),
            other => other.parse::<u16>().ok().and_then(code_page_encoding),
        };
    }
    match lower.as_str() {
        "utf8" => Some(UTF_8),
        "gbk" | "gb2312" | "gb18030" | "cp936" | "euc-cn" => Some(GB18030),
        _ => Encoding::for_label(t.as_bytes()).map(|e| if e == encoding_rs::GBK { GB18030 } else { e }),
    }
}

/// Encodings the `--encoding` option names, for its error message.
pub fn encoding_from_option(label: &str) -> Result<&'static Encoding, String> {
    from_label(label).ok_or_else(|| {
        format!("{label:?} is not an encoding port-atlas knows (try utf-8, gbk, gb18030, big5 or a code page like 936)")
    })
}

/// Windows single-byte code pages by number (`windows-1252` ...).
fn code_page_encoding(cp: u16) -> Option<&'static Encoding> {
    match cp {
        874 | 1250..=1258 => Encoding::for_label(format!("windows-{cp}").as_bytes()),
        932 => Some(encoding_rs::SHIFT_JIS),
        949 => Some(encoding_rs::EUC_KR),
        _ => None,
    }
}

/// The encoding a DBF header's language-driver byte (offset 29) names, where it names one.
/// 0x00 ("not set") and 0x57 ("the system's ANSI code page") say nothing.
pub fn from_ldid(ldid: u8) -> Option<&'static Encoding> {
    match ldid {
        0x4D | 0x7A => Some(GB18030),
        0x4F | 0x78 => Some(BIG5),
        0x4E | 0x79 => Some(encoding_rs::EUC_KR),
        0x13 | 0x7B => Some(encoding_rs::SHIFT_JIS),
        0x03 => Some(WINDOWS_1252),
        _ => None,
    }
}

/// Strict UTF-8 if all of `bytes` is valid UTF-8 (pure ASCII included), else GB18030. Real
/// GBK text is practically never valid UTF-8, so checking all of it, not a sample, decides.
pub fn detect(bytes: &[u8]) -> Detected {
    if let Some((e, _)) = Encoding::for_bom(bytes) {
        return Detected { encoding: e, why: "byte-order mark" };
    }
    if std::str::from_utf8(bytes).is_ok() {
        Detected { encoding: UTF_8, why: "valid UTF-8" }
    } else {
        Detected { encoding: GB18030, why: "not UTF-8" }
    }
}

/// Decodes without replacement characters: `None` when `bytes` are not valid in `e`, so a
/// wrong guess shows up as an error instead of mojibake.
pub fn decode_strict<'a>(bytes: &'a [u8], e: &'static Encoding) -> Option<Cow<'a, str>> {
    if e == UTF_8 {
        return std::str::from_utf8(bytes).ok().map(Cow::Borrowed);
    }
    e.decode_without_bom_handling_and_without_replacement(bytes)
}

/// Decodes whole text (a CSV file): a byte-order mark wins over `e`.
pub fn decode_text(bytes: &[u8], e: &'static Encoding) -> Option<String> {
    let (e, bom) = Encoding::for_bom(bytes).unwrap_or((e, 0));
    decode_strict(&bytes[bom..], e).map(Cow::into_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_cpg_files_and_code_pages() {
        for l in ["UTF-8", "utf8", "65001", " UTF-8\r\n"] {
            assert_eq!(from_label(l), Some(UTF_8), "{l:?}");
        }
        for l in ["GBK", "gb2312", "936", "CP936", "ANSI 936", "\u{feff}GB18030"] {
            assert_eq!(from_label(l), Some(GB18030), "{l:?}");
        }
        assert_eq!(from_label("950"), Some(BIG5));
        assert_eq!(from_label("big5"), Some(BIG5));
        assert_eq!(from_label("1252").map(|e| e.name()), Some("windows-1252"));
        assert_eq!(from_label("klingon"), None);
    }

    #[test]
    fn language_driver_bytes() {
        assert_eq!(from_ldid(0x4D), Some(GB18030));
        assert_eq!(from_ldid(0x4F), Some(BIG5));
        assert_eq!(from_ldid(0x00), None);
        assert_eq!(from_ldid(0x57), None);
    }

    #[test]
    fn detection_never_yields_mojibake() {
        let (gbk, _, _) = GB18030.encode("沙溪镇、浏河镇、城厢镇");
        let d = detect(&gbk);
        assert_eq!(d.encoding, GB18030);
        assert_eq!(decode_strict(&gbk, d.encoding).unwrap(), "沙溪镇、浏河镇、城厢镇");
        // GBK bytes are not UTF-8: strict decoding refuses instead of replacing.
        assert!(decode_strict(&gbk, UTF_8).is_none());
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice("经度,纬度".as_bytes());
        assert_eq!(decode_text(&bom, GB18030).unwrap(), "经度,纬度");
    }
}
