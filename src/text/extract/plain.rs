//! Plain text: each non-blank line is a paragraph, numbered by its line in the file.
//!
//! The encoding is decided in this order: a byte-order mark (UTF-8, UTF-16LE, UTF-16BE); all of
//! the bytes being valid UTF-8; otherwise GB18030 (which reads GBK and GB2312) or Big5, as
//! Mozilla's `chardetng` detector judges from the byte statistics of the text. A guess other
//! than those two (Shift_JIS, a Windows code page) is overruled by which of GB18030 and Big5
//! decodes the bytes without error, GB18030 first: planners' files are in Chinese.

use encoding_rs::{BIG5, Encoding, GB18030, UTF_16BE, UTF_16LE};

use super::{Extracted, Format, Paragraph};
use crate::formats::encoding::display_name;

/// Text decoded from bytes, the encoding's name as [`Extracted::encoding`] shows it, and notes.
pub(crate) struct Decoded {
    pub text: String,
    pub encoding: String,
    pub notes: Vec<String>,
}

/// The encoding a byte-order mark names and the mark's length.
pub(crate) fn bom(bytes: &[u8]) -> Option<(&'static Encoding, usize)> {
    Encoding::for_bom(bytes)
}

fn bom_name(e: &'static Encoding) -> String {
    if e == UTF_16LE {
        "UTF-16LE (BOM)".into()
    } else if e == UTF_16BE {
        "UTF-16BE (BOM)".into()
    } else {
        format!("{} (BOM)", e.name())
    }
}

/// GB18030 or Big5 for bytes that are not UTF-8 (see the module's comment).
pub(crate) fn guess_legacy(bytes: &[u8]) -> &'static Encoding {
    let mut det = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    det.feed(bytes, true);
    let guess = det.guess(None, chardetng::Utf8Detection::Deny);
    if guess == BIG5 {
        BIG5
    } else if guess == GB18030 || guess == encoding_rs::GBK {
        GB18030
    } else if GB18030.decode_without_bom_handling_and_without_replacement(bytes).is_none()
        && BIG5.decode_without_bom_handling_and_without_replacement(bytes).is_some()
    {
        BIG5
    } else {
        GB18030
    }
}

/// Decodes `bytes` in `e` (after any byte-order mark, which wins over `e`), replacing what is
/// not valid with U+FFFD and noting how much was replaced.
pub(crate) fn decode_as(bytes: &[u8], e: &'static Encoding, shown: String) -> Decoded {
    let (e, skip, shown) = match bom(bytes) {
        Some((b, len)) => (b, len, bom_name(b)),
        None => (e, 0, shown),
    };
    let body = bytes.get(skip..).unwrap_or_default();
    let (text, had_errors) = e.decode_without_bom_handling(body);
    let mut notes = Vec::new();
    if had_errors {
        let bad = text.chars().filter(|&c| c == '\u{FFFD}').count();
        notes.push(format!("{bad} byte sequences are not valid {shown} and show as U+FFFD (\u{FFFD})"));
    }
    Decoded { text: text.into_owned(), encoding: shown, notes }
}

/// Decodes text whose encoding nothing declares: byte-order mark, strict UTF-8, then
/// [`guess_legacy`].
pub(crate) fn decode(bytes: &[u8]) -> Decoded {
    if let Some((e, _)) = bom(bytes) {
        return decode_as(bytes, e, bom_name(e));
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Decoded { text: s.to_string(), encoding: "UTF-8".into(), notes: Vec::new() };
    }
    // UTF-8 with a few bad bytes (a file cut mid-character, one pasted legacy character) is
    // still UTF-8: a GBK or Big5 text read as UTF-8 fails on nearly every character instead.
    let (lossy, _) = encoding_rs::UTF_8.decode_without_bom_handling(bytes);
    let bad = lossy.chars().filter(|&c| c == '\u{FFFD}').count();
    let non_ascii = bytes.iter().filter(|&&b| b >= 0x80).count();
    if bad * 200 < non_ascii {
        return decode_as(bytes, encoding_rs::UTF_8, "UTF-8".into());
    }
    let e = guess_legacy(bytes);
    decode_as(bytes, e, display_name(e).to_string())
}

/// Paragraphs of plain text: non-blank lines, each exactly as in the file without its line
/// terminator (`\n` or `\r\n`), with its 1-based line number.
pub fn extract(bytes: &[u8]) -> Extracted {
    let Decoded { text, encoding, notes } = decode(bytes);
    let paragraphs = lines(&text);
    Extracted { format: Format::Txt, encoding: Some(encoding), paragraphs, notes, published: None, created: None }
}

/// The non-blank lines of `text` as paragraphs with their line numbers.
pub(crate) fn lines(text: &str) -> Vec<Paragraph> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| Paragraph {
            text: l.to_string(),
            page: None,
            paragraph: None,
            line: Some(u32::try_from(i + 1).unwrap_or(u32::MAX)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::tests::{expected, fixture, texts};
    use super::super::{Format, extract as extract_any};

    fn check(name: &str, encoding: &str) -> Vec<(u32, String)> {
        let (path, bytes) = fixture(name);
        let x = extract_any(&path, &bytes).unwrap();
        assert_eq!(x.format, Format::Txt);
        assert_eq!(x.encoding.as_deref(), Some(encoding), "{name}");
        assert_eq!(texts(&x), expected(name), "{name}");
        assert!(x.notes.is_empty(), "{name}: {:?}", x.notes);
        assert!(x.paragraphs.iter().all(|p| p.page.is_none() && p.paragraph.is_none()));
        x.paragraphs.iter().map(|p| (p.line.unwrap(), p.text.clone())).collect()
    }

    #[test]
    fn gbk_with_crlf_and_blank_lines() {
        let lines = check("report-gbk.txt", "GB18030/GBK");
        let numbers: Vec<u32> = lines.iter().map(|(l, _)| *l).collect();
        // Line 3 is empty and line 6 is only spaces; CRLF is not part of the text.
        assert_eq!(numbers, [1, 2, 4, 7, 8, 9]);
        assert_eq!(lines[1].1, "2021年3月5日");
    }

    #[test]
    fn big5_traditional() {
        let lines = check("report-big5.txt", "Big5");
        assert_eq!(lines[2], (4, "太倉港總體規劃強調，沙溪鎮與瀏河鎮應共同承擔港口腹地的產業配套功能。".to_string()));
    }

    #[test]
    fn byte_order_marks() {
        check("report-utf8-bom.txt", "UTF-8 (BOM)");
        check("report-utf16le.txt", "UTF-16LE (BOM)");
        let mut be = vec![0xFE, 0xFF];
        be.extend("浏河镇\n".encode_utf16().flat_map(u16::to_be_bytes));
        let x = super::extract(&be);
        assert_eq!(x.encoding.as_deref(), Some("UTF-16BE (BOM)"));
        assert_eq!(x.paragraphs[0].text, "浏河镇");
    }

    #[test]
    fn short_legacy_text_is_told_apart() {
        // Short lines are the hard case for a detector: one place name each.
        for s in ["太仓港", "昆山市千灯镇", "苏州工业园区管理委员会", "沙溪镇、浏河镇"] {
            let (gbk, _, _) = encoding_rs::GBK.encode(s);
            assert_eq!(super::extract(&gbk).paragraphs[0].text, s, "GBK {s}");
        }
        for s in ["太倉港", "崑山市千燈鎮", "蘇州工業園區管理委員會", "沙溪鎮、瀏河鎮"] {
            let (big5, _, _) = encoding_rs::BIG5.encode(s);
            assert_eq!(super::extract(&big5).paragraphs[0].text, s, "Big5 {s}");
        }
    }

    #[test]
    fn utf8_cut_mid_character_stays_utf8() {
        let text = "太仓港区集装箱吞吐量持续增长，沙溪镇与浏河镇协同发展。".repeat(20);
        let bytes = &text.as_bytes()[..text.len() - 1];
        let x = super::extract(bytes);
        assert_eq!(x.encoding.as_deref(), Some("UTF-8"));
        assert!(x.paragraphs[0].text.starts_with("太仓港区"));
        assert_eq!(x.notes.len(), 1, "{:?}", x.notes);
    }

    #[test]
    fn invalid_bytes_are_noted_not_fatal() {
        let mut bytes = "太仓".as_bytes().to_vec();
        bytes.extend_from_slice(&[0xFF, b'\n']);
        let x = super::extract(&bytes);
        assert_eq!(x.paragraphs.len(), 1);
        assert!(!x.notes.is_empty());
    }
}
