//! HTML pages (saved news reports, government notices): the text of the body, one paragraph
//! per block.
//!
//! Decoding: a byte-order mark, else a `<meta charset=...>` or `<meta http-equiv="Content-Type"
//! content="...; charset=gb2312">` in the first 1024 bytes (labels as
//! [`crate::formats::encoding::from_label`] reads them: gb2312 and GBK are GB18030), else the
//! detection plain text uses ([`super::plain`]).
//!
//! Text: a small tokenizer, forgiving as browsers are: a `<` that does not start a tag is text,
//! unclosed elements end where the next block begins, comments and `<!...>`/`<?...>` are
//! skipped, CDATA is text. Nothing in `<head>`, `<title>`, `<script>`, `<style>`,
//! `<noscript>`, `<template>`, `<textarea>`, `<svg>` is taken. Block elements (`p`, `div`, `br`,
//! `li`, `h1`-`h6`, `tr`, `td`, `th`, `table`, `section`, `article`, `blockquote`, `pre`, ...) end
//! the paragraph, so each table cell is its own. Inside a paragraph, runs of HTML whitespace
//! collapse to one space, and vanish between two CJK characters (a line break in the source of
//! Chinese text is not a space); in `<pre>` spaces are kept and each line is a paragraph. Every
//! paragraph is trimmed at both ends.
//! Character references: decimal and hexadecimal, and the common named ones (nbsp, amp, lt, gt,
//! quot, apos, ldquo, rdquo, lsquo, rsquo, mdash, ndash, hellip, middot, emsp, ensp, thinsp,
//! times, copy, reg, yen, ...); an unknown one stays as written. A no-break space is kept as
//! U+00A0. "Paragraph N" counts the paragraphs with text in the whole page.

use encoding_rs::Encoding;

use super::plain::{Decoded, bom, decode, decode_as};
use super::{Extracted, Format, is_cjk};
use crate::formats::encoding::{display_name, from_label};

/// Whether text starts like an HTML page: after a byte-order mark, whitespace, an XML
/// declaration and comments, `<!doctype html` or `<html` (any case). UTF-16 with a byte-order
/// mark is decoded first.
pub(crate) fn looks_like_html(sample: &[u8]) -> bool {
    let decoded;
    let text: &[u8] = match Encoding::for_bom(sample) {
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

/// The encoding a `<meta>` in the first 1024 bytes declares.
fn meta_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = bytes.get(..bytes.len().min(1024)).unwrap_or(bytes).to_ascii_lowercase();
    let mut rest = head.as_slice();
    while let Some(i) = super::find(rest, b"<meta") {
        let tag = rest.get(i..).unwrap_or_default();
        let end = tag.iter().position(|&b| b == b'>').unwrap_or(tag.len());
        let tag = tag.get(..end).unwrap_or_default();
        if let Some(j) = super::find(tag, b"charset") {
            let value = tag.get(j + 7..).unwrap_or_default().trim_ascii_start();
            let value = value.strip_prefix(b"=").unwrap_or(value).trim_ascii_start();
            let value = value.strip_prefix(b"\"").or_else(|| value.strip_prefix(b"'")).unwrap_or(value);
            let len =
                value.iter().position(|b| matches!(b, b'"' | b'\'' | b';' | b'/' | b'>') || b.is_ascii_whitespace());
            let label = value.get(..len.unwrap_or(value.len())).unwrap_or_default();
            if let Some(e) = std::str::from_utf8(label).ok().and_then(from_label) {
                return Some(e);
            }
        }
        rest = rest.get(i + 5..).unwrap_or_default();
    }
    None
}

/// The paragraphs of an HTML page (see the module's comment).
pub fn extract(bytes: &[u8]) -> Extracted {
    let Decoded { text, encoding, notes } = match (bom(bytes), meta_charset(bytes)) {
        (None, Some(e)) => decode_as(bytes, e, display_name(e).to_string()),
        _ => decode(bytes),
    };
    let paragraphs = super::numbered(paragraphs(&text));
    let published = published(&text);
    Extracted { format: Format::Html, encoding: Some(encoding), paragraphs, notes, published, created: None }
}

/// `<meta>` names (and Open Graph properties) that state when a page was published.
const PUBLISHED: [&str; 7] =
    ["pubdate", "publishdate", "firstpublishedtime", "publishtime", "article:published_time", "dc.date", "date"];

/// The `content` of the first `<meta>` in the page's head whose name says it is the
/// publication date.
fn published(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let head_end = lower.find("<body").unwrap_or(lower.len()).min(64 * 1024);
    let head = lower.get(..head_end)?;
    let mut at = 0;
    while let Some(i) = head.get(at..)?.find("<meta") {
        let start = at + i;
        let end = head.get(start..)?.find('>').map_or(head.len(), |e| start + e);
        let tag = head.get(start..end)?;
        let attr = |name: &str| -> Option<(usize, usize)> {
            let k = tag.find(&format!("{name}="))? + name.len() + 1;
            let rest = tag.get(k..)?;
            let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'');
            let body = if quote.is_some() { k + 1 } else { k };
            let len = tag.get(body..)?.find(|c: char| Some(c) == quote || (quote.is_none() && c.is_whitespace()))?;
            Some((start + body, start + body + len))
        };
        let named = attr("name").or_else(|| attr("property")).and_then(|(a, b)| lower.get(a..b));
        if named.is_some_and(|n| PUBLISHED.contains(&n))
            && let Some((a, b)) = attr("content")
        {
            // The original text, not the lowercased copy (same byte offsets: ASCII lowercasing).
            return text.get(a..b).map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        }
        at = end;
    }
    None
}

const BLOCKS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "br",
    "caption",
    "center",
    "dd",
    "details",
    "dialog",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "html",
    "li",
    "main",
    "nav",
    "ol",
    "option",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
];
/// Elements whose content is not the page's text; the first six are raw text (no tags inside).
const SKIPPED: &[&str] = &["script", "style", "noscript", "textarea", "title", "template", "head", "svg"];

/// The paragraphs' text, built while tokenizing.
struct Builder {
    out: Vec<String>,
    cur: String,
    pending_space: bool,
    pre: u32,
}

impl Builder {
    fn push(&mut self, c: char) {
        if self.pre > 0 {
            if c == '\n' {
                self.end();
            } else if c != '\r' {
                self.cur.push(c);
            }
            return;
        }
        if matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0C') {
            self.pending_space = !self.cur.is_empty();
            return;
        }
        if self.pending_space {
            let after_cjk = self.cur.chars().next_back().is_some_and(is_cjk);
            if !(after_cjk && is_cjk(c)) {
                self.cur.push(' ');
            }
            self.pending_space = false;
        }
        self.cur.push(c);
    }

    fn end(&mut self) {
        let t = self.cur.trim_matches(|c: char| c.is_ascii_whitespace());
        if !t.trim().is_empty() {
            self.out.push(t.to_string());
        }
        self.cur.clear();
        self.pending_space = false;
    }
}

/// A tag at the start of `s` (which starts with `<`): its lowercase name, whether it closes,
/// and its length up to and including `>`. `None` when `s` does not start a tag.
fn tag(s: &str) -> Option<(String, bool, usize)> {
    let rest = s.get(1..)?;
    let (closing, rest) = match rest.strip_prefix('/') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    if !rest.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    let name_len = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == ':')).unwrap_or(rest.len());
    let name = rest.get(..name_len)?.to_ascii_lowercase();
    // The tag ends at the first `>` outside a quoted attribute value.
    let mut quote = None;
    for (i, c) in s.char_indices().skip(1) {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, '>') => return Some((name, closing, i + 1)),
            _ => {}
        }
    }
    None
}

/// Decodes the character reference at the start of `s` (which starts with `&`): the text and
/// the bytes it used, or `None` to keep the `&` as written.
fn entity(s: &str) -> Option<(char, usize)> {
    let rest = s.get(1..)?;
    if let Some(num) = rest.strip_prefix('#') {
        let (digits, radix, skip) = match num.strip_prefix(['x', 'X']) {
            Some(hex) => (hex, 16, 3),
            None => (num, 10, 2),
        };
        let len = digits.find(|c: char| !c.is_digit(radix)).unwrap_or(digits.len());
        if len == 0 || len > 8 {
            return None;
        }
        let value = u32::from_str_radix(digits.get(..len)?, radix).ok()?;
        let c = char::from_u32(value).filter(|&c| c != '\0').unwrap_or('\u{FFFD}');
        let semi = usize::from(digits.get(len..)?.starts_with(';'));
        return Some((c, skip + len + semi));
    }
    let len = rest.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(rest.len());
    if !rest.get(len..)?.starts_with(';') {
        return None;
    }
    let c = match rest.get(..len)? {
        "nbsp" => '\u{A0}',
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "ldquo" => '“',
        "rdquo" => '”',
        "lsquo" => '‘',
        "rsquo" => '’',
        "mdash" => '—',
        "ndash" => '–',
        "hellip" => '…',
        "middot" => '·',
        "emsp" => '\u{2003}',
        "ensp" => '\u{2002}',
        "thinsp" => '\u{2009}',
        "times" => '×',
        "divide" => '÷',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "yen" => '¥',
        "deg" => '°',
        "plusmn" => '±',
        "sup2" => '²',
        "bull" => '•',
        "laquo" => '«',
        "raquo" => '»',
        _ => return None,
    };
    Some((c, len + 2))
}

/// Where `</name` next occurs in `s`, ASCII case-insensitively.
fn find_close(s: &str, name: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut from = 0;
    while let Some(j) = super::find(bytes.get(from..)?, b"</") {
        let at = from + j;
        if bytes.get(at + 2..at + 2 + name.len()).is_some_and(|t| t.eq_ignore_ascii_case(name.as_bytes())) {
            return Some(at);
        }
        from = at + 2;
    }
    None
}

/// The paragraphs of decoded HTML.
fn paragraphs(html: &str) -> Vec<String> {
    let mut b = Builder { out: Vec::new(), cur: String::new(), pending_space: false, pre: 0 };
    let mut skip_depth: Vec<String> = Vec::new();
    let mut i = 0;
    while let Some(rest) = html.get(i..) {
        let Some(c) = rest.chars().next() else { break };
        if c == '<' {
            if let Some(body) = rest.strip_prefix("<!--") {
                i += 4 + body.find("-->").map_or(body.len(), |j| j + 3);
                continue;
            }
            if let Some(body) = rest.strip_prefix("<![CDATA[") {
                let len = body.find("]]>").unwrap_or(body.len());
                if skip_depth.is_empty() {
                    body.get(..len).unwrap_or_default().chars().for_each(|c| b.push(c));
                }
                i += 9 + len + if len < body.len() { 3 } else { 0 };
                continue;
            }
            if rest.starts_with("<!") || rest.starts_with("<?") {
                i += rest.find('>').map_or(rest.len(), |j| j + 1);
                continue;
            }
            if let Some((name, closing, len)) = tag(rest) {
                i += len;
                let self_closing = rest.get(..len).is_some_and(|t| t.ends_with("/>"));
                if SKIPPED.contains(&name.as_str()) {
                    if closing {
                        if let Some(k) = skip_depth.iter().rposition(|n| *n == name) {
                            skip_depth.truncate(k);
                        }
                    } else if !self_closing {
                        if SKIPPED.get(..6).is_some_and(|raw| raw.contains(&name.as_str())) {
                            // Raw text: nothing inside is a tag; jump to the end tag.
                            let after = html.get(i..).unwrap_or_default();
                            let close = find_close(after, &name).unwrap_or(after.len());
                            i += close;
                        } else {
                            skip_depth.push(name.clone());
                        }
                    }
                    continue;
                }
                if name == "body" && !closing {
                    // A missing </head>: the body starts here anyway.
                    skip_depth.retain(|n| n != "head");
                }
                if BLOCKS.contains(&name.as_str()) {
                    b.end();
                    if name == "pre" {
                        b.pre = if closing { b.pre.saturating_sub(1) } else { b.pre + 1 };
                    }
                }
                continue;
            }
        }
        i += c.len_utf8();
        if !skip_depth.is_empty() {
            continue;
        }
        if c == '&'
            && let Some((decoded, len)) = entity(rest)
        {
            b.push(decoded);
            i += len - c.len_utf8();
            continue;
        }
        b.push(c);
    }
    b.end();
    b.out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::tests::{expected, fixture, texts};
    use super::super::{Format, extract};
    use super::paragraphs;

    #[test]
    fn gb2312_notice_with_meta_http_equiv() {
        let (path, bytes) = fixture("notice-gb2312.html");
        let x = extract(&path, &bytes).unwrap();
        assert_eq!(x.format, Format::Html);
        assert_eq!(x.encoding.as_deref(), Some("GB18030/GBK"));
        assert_eq!(texts(&x), expected("notice-gb2312.html"));
        let numbers: Vec<u32> = x.paragraphs.iter().map(|p| p.paragraph.unwrap()).collect();
        assert_eq!(numbers, (1..=numbers.len() as u32).collect::<Vec<_>>());
        assert!(x.notes.is_empty(), "{:?}", x.notes);
    }

    #[test]
    fn the_publication_date_a_page_declares() {
        let page = "<html><head><META name=\"PubDate\" content=\"2021-03-05 10:30\"><meta name=\"x\" content=\"y\"></head><body><p>太仓</p></body></html>";
        assert_eq!(super::extract(page.as_bytes()).published.as_deref(), Some("2021-03-05 10:30"));
        let og = "<head><meta property='article:published_time' content='2022-01-02T08:00:00+08:00'></head>";
        assert_eq!(super::extract(og.as_bytes()).published.as_deref(), Some("2022-01-02T08:00:00+08:00"));
        assert_eq!(super::extract(b"<p>no head</p>").published, None);
    }

    #[test]
    fn meta_charset_and_utf8() {
        let big5 = encoding_rs::BIG5.encode("<html><head><meta charset=\"big5\"></head><body><p>瀏河鎮</p>").0;
        let x = extract(Path::new("n.htm"), &big5).unwrap();
        assert_eq!(x.encoding.as_deref(), Some("Big5"));
        assert_eq!(texts(&x), ["瀏河鎮"]);
        let x = extract(Path::new("n.html"), "<p>沙溪镇<p>浏河镇".as_bytes()).unwrap();
        assert_eq!(x.encoding.as_deref(), Some("UTF-8"));
        assert_eq!(texts(&x), ["沙溪镇", "浏河镇"]);
    }

    #[test]
    fn broken_html_is_read_as_browsers_would() {
        assert_eq!(paragraphs("<p>a < b <i>c</p"), ["a < b c</p"]);
        assert_eq!(paragraphs("<div>太仓\n  港<span>区</span></div><script>x"), ["太仓港区"]);
        assert_eq!(paragraphs("<pre>  line 1\n\n  line  2</pre>"), ["line 1", "line  2"]);
        assert_eq!(paragraphs("&#x4E2D;&#20013;&#0;&#xD800;&amp&lt;&bogus;&"), ["中中\u{FFFD}\u{FFFD}&amp<&bogus;&"]);
        assert_eq!(paragraphs("<p title='a>b'>x</p><!-- unterminated"), ["x"]);
        assert_eq!(paragraphs("<STYLE>p{}</STYLE><Td>浮桥</TD><td>12.5"), ["浮桥", "12.5"]);
        assert!(paragraphs("<<<>>>&&&;;<!<?<![CDATA[").iter().all(|p| !p.trim().is_empty()));
    }
}
