//! PDFs with a text layer: the page content streams interpreted here (with lopdf for the file
//! structure, streams, encryption and simple-font encodings), text decoded through the fonts,
//! and lines joined into paragraphs by their layout.
//!
//! **Text.** The operators that place and show text are followed (`BT`, `Tf`, `Tm`, `Td`, `TD`,
//! `T*`, `TL`, `Tc`, `Tw`, `Tz`, `Ts`, `Tj`, `TJ`, `'`, `"`, with `q`/`Q`/`cm`), and form XObjects
//! (`Do`) are entered, so every string has a position on the page and a width from the font's
//! `/W` or `/Widths`. Codes become characters through, in order of preference: the font's
//! `ToUnicode` CMap (what Word, WPS and most producers write for embedded subsets, usually with
//! `Identity-H`); the predefined CJK CMaps whose codes are Unicode (`UniGB-UCS2-H`,
//! `UniGB-UTF16-H`, `UniCNS-UCS2-H`, `UniJIS-UCS2-H`, ...: UTF-16BE), or GBK/Big5 codes
//! (`GBK-EUC-H`, `GBpc-EUC-H`, `B5pc-H`, `ETen-B5-H`, ...); and for simple fonts their encoding
//! (WinAnsi, MacRoman, Standard, `/Differences`). Codes none of these map are left out and
//! counted in a note.
//!
//! **Lines.** Consecutive strings on the same baseline, moving right, form a line; a gap wider
//! than a fifth of the font size between Latin text (or a whole em anywhere) becomes a space.
//!
//! **Paragraphs.** A line starts a new paragraph when
//! 1. the gap above it is more than 1.3 times the document's usual line spacing (the median
//!    baseline distance), or it is above the previous line (a new column or text box);
//! 2. its font size differs from the previous line's by more than 15% (a heading);
//! 3. it is indented: it starts at least 0.8 em right of the page's usual left margin (the
//!    most common line start) and either right of the previous line too or after a line that
//!    ends a sentence (so an indented block's own lines continue it, while a one-line paragraph
//!    that fills its line is still told from the indented one after it); or it starts with an
//!    ideographic or double space (Chinese paragraphs open with a two-character indent; fpdf2
//!    and some converters write it as U+3000 spaces);
//! 4. the previous line ends with sentence-ending punctuation (。！？；：.!?;:, closing quotes
//!    allowed after it) at least 1.5 em short of the page's right margin (the furthest line end).
//!
//! Otherwise the line continues the paragraph, joined with nothing between CJK characters, a
//! space between Latin words, and a hyphen dropped where a word was split before a lowercase
//! letter ([`super::join_wrapped`]). The same rules (less the first) decide whether the first
//! line of a page continues the last paragraph of the page before: a paragraph that crosses
//! a page belongs to the page it starts on, and `paragraph` numbers the paragraphs that start
//! on each page. Paragraphs are trimmed at both ends.
//!
//! **Page numbers.** The topmost and the bottommost line of a page are dropped when they are only
//! a page number: "3", "- 3 -", "— 3 —", "第3页", "第 3 页 共 20 页", "3 / 20", "Page 3 of 20".
//!
//! **Not read:** text in annotations and form fields, vertical writing (read as if horizontal),
//! Type 3 font metrics, the reading order of multi-column layouts beyond the order of the
//! content stream, and images (a scanned page is reported, not read: it needs OCR).

use std::collections::HashMap;
use std::path::Path;
use std::rc::Rc;

use lopdf::{Dictionary, Document, Object, content::Content};

use super::{ExtractError, Extracted, Format, Paragraph, is_cjk, join_wrapped};

/// The most one page's content (or one font's CMap) may inflate to.
const MAX_STREAM: usize = 64 << 20;
/// How deep form XObjects may nest.
const MAX_FORM_DEPTH: u32 = 8;
/// The most operators one page may run, forms included: a bound on hostile files.
const MAX_OPS: usize = 20_000_000;

/// A 2-D affine matrix `[a b c d e f]` as PDF writes it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct M([f32; 6]);

impl M {
    const ID: M = M([1.0, 0.0, 0.0, 1.0, 0.0, 0.0]);

    /// `self` then `o`: PDF's `self × o`.
    fn then(&self, o: &M) -> M {
        let [a, b, c, d, e, f] = self.0;
        let [oa, ob, oc, od, oe, of] = o.0;
        M([
            a * oa + b * oc,
            a * ob + b * od,
            c * oa + d * oc,
            c * ob + d * od,
            e * oa + f * oc + oe,
            e * ob + f * od + of,
        ])
    }

    fn translate(tx: f32, ty: f32) -> M {
        M([1.0, 0.0, 0.0, 1.0, tx, ty])
    }
}

/// A run of text shown at one place: its start and end along the baseline, the baseline, the
/// font size on the page.
#[derive(Debug, Clone)]
struct Frag {
    x0: f32,
    x1: f32,
    y: f32,
    size: f32,
    text: String,
}

/// A line of a page.
#[derive(Debug, Clone)]
struct Line {
    x0: f32,
    x1: f32,
    y: f32,
    size: f32,
    text: String,
}

// ---- fonts ---------------------------------------------------------------------------------

/// How a font's codes become characters.
enum Decode {
    /// One byte a code; the text of each code by the font's `/Encoding`.
    Simple(Vec<Option<String>>),
    /// Codes are UTF-16BE (the predefined `Uni...-UCS2-`/`-UTF16-` CMaps).
    Utf16,
    /// Codes are GB18030/GBK or Big5 bytes (`GBK-EUC-H`, `B5pc-H`, ...).
    Legacy(&'static encoding_rs::Encoding),
    /// CIDs by the codespace ranges; only `ToUnicode` gives their characters.
    Cid,
}

struct Font {
    decode: Decode,
    /// `(length, low, high)` codespace ranges (from the encoding CMap or `ToUnicode`).
    codespace: Vec<(u8, u32, u32)>,
    to_unicode: HashMap<u64, String>,
    /// Widths in glyph units (1/1000 em): by code for simple fonts, by CID for CID fonts.
    widths: HashMap<u32, f32>,
    default_width: f32,
    /// Whether the font gives widths at all (the standard 14 fonts often do not).
    has_widths: bool,
}

/// One shown code: its text (if it maps) and width in glyph units; whether it is a single-byte
/// space (word spacing applies).
struct Glyph {
    text: Option<String>,
    width: f32,
    space: bool,
}

fn key(len: u8, code: u32) -> u64 {
    (u64::from(len) << 32) | u64::from(code)
}

fn be(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0u32, |acc, &b| acc.wrapping_shl(8) | u32::from(b))
}

impl Font {
    fn load(doc: &Document, dict: &Dictionary) -> Font {
        let subtype = dict.get(b"Subtype").and_then(Object::as_name).unwrap_or_default();
        let to_unicode = dict
            .get_deref(b"ToUnicode", doc)
            .and_then(Object::as_stream)
            .ok()
            .and_then(|s| s.get_plain_content_with_limit(MAX_STREAM).ok())
            .map(|c| CMap::parse(&c))
            .unwrap_or_default();
        let mut widths = HashMap::new();
        let mut default_width;
        let mut has_widths = false;
        let mut codespace = Vec::new();
        let decode = if subtype == b"Type0" {
            let descendant = dict
                .get_deref(b"DescendantFonts", doc)
                .and_then(Object::as_array)
                .ok()
                .and_then(|a| a.first())
                .and_then(|d| doc.dereference(d).ok())
                .and_then(|(_, d)| d.as_dict().ok());
            default_width = 1000.0;
            if let Some(cid) = descendant {
                if let Ok(dw) = cid.get_deref(b"DW", doc).and_then(Object::as_float) {
                    default_width = dw;
                }
                if let Ok(w) = cid.get_deref(b"W", doc).and_then(Object::as_array) {
                    has_widths = cid_widths(doc, w, &mut widths);
                }
            }
            match dict.get_deref(b"Encoding", doc) {
                Ok(Object::Name(name)) => {
                    let name = String::from_utf8_lossy(name);
                    if name.starts_with("Uni") && (name.contains("UCS2") || name.contains("UTF16")) {
                        Decode::Utf16
                    } else if ["GB-EUC", "GBpc-EUC", "GBK-EUC", "GBKp-EUC", "GBK2K", "GBT-EUC"]
                        .iter()
                        .any(|p| name.starts_with(p))
                    {
                        Decode::Legacy(encoding_rs::GB18030)
                    } else if ["B5", "ETen-B5", "HKscs-B5", "ETenms-B5", "CNS-EUC"].iter().any(|p| name.starts_with(p))
                    {
                        Decode::Legacy(encoding_rs::BIG5)
                    } else {
                        Decode::Cid
                    }
                }
                Ok(Object::Stream(s)) => {
                    if let Ok(c) = s.get_plain_content_with_limit(MAX_STREAM) {
                        codespace = CMap::parse(&c).codespace;
                    }
                    Decode::Cid
                }
                _ => Decode::Cid,
            }
        } else {
            let first = dict.get_deref(b"FirstChar", doc).and_then(Object::as_i64).unwrap_or(0);
            if let Ok(w) = dict.get_deref(b"Widths", doc).and_then(Object::as_array) {
                for (i, w) in w.iter().enumerate() {
                    let code = first.saturating_add(i64::try_from(i).unwrap_or(i64::MAX));
                    if let (Ok(code), Some(w)) = (u32::try_from(code), num(doc, w)) {
                        widths.insert(code, w);
                        has_widths = true;
                    }
                }
            }
            default_width = dict
                .get_deref(b"FontDescriptor", doc)
                .and_then(Object::as_dict)
                .and_then(|d| d.get_deref(b"MissingWidth", doc))
                .and_then(Object::as_float)
                .unwrap_or(500.0);
            Decode::Simple(simple_table(doc, dict))
        };
        if codespace.is_empty() {
            codespace = to_unicode.codespace.clone();
        }
        Font { decode, codespace, to_unicode: to_unicode.map, widths, default_width, has_widths }
    }

    /// The length of the code at the start of `bytes`.
    fn code_len(&self, bytes: &[u8]) -> usize {
        match self.decode {
            Decode::Simple(_) => return 1,
            Decode::Utf16 => {
                let high = bytes.first().is_some_and(|b| (0xD8..=0xDB).contains(b));
                return if high && bytes.len() >= 4 { 4 } else { 2 };
            }
            Decode::Legacy(e) => {
                let lead = bytes.first().copied().unwrap_or(0);
                let second = bytes.get(1).copied().unwrap_or(0);
                return if lead < 0x81 || lead == 0xFF {
                    1
                } else if e == encoding_rs::GB18030 && second.is_ascii_digit() {
                    4
                } else {
                    2
                };
            }
            Decode::Cid => {}
        }
        for len in 1..=4u8 {
            let Some(code) = bytes.get(..usize::from(len)) else { break };
            let code = be(code);
            let fits = self.codespace.iter().any(|&(l, lo, hi)| {
                l == len
                    && (0..u32::from(len)).all(|i| {
                        (lo >> (8 * i)) & 0xFF <= (code >> (8 * i)) & 0xFF
                            && (code >> (8 * i)) & 0xFF <= (hi >> (8 * i)) & 0xFF
                    })
            });
            if fits {
                return usize::from(len);
            }
        }
        2
    }

    /// The glyphs of a shown string.
    fn glyphs(&self, bytes: &[u8], out: &mut Vec<Glyph>) {
        let mut i = 0;
        while i < bytes.len() {
            let rest = bytes.get(i..).unwrap_or_default();
            let len = self.code_len(rest).min(rest.len()).max(1);
            let raw = rest.get(..len).unwrap_or_default();
            i += len;
            let code = be(raw);
            let len8 = u8::try_from(len).unwrap_or(4);
            let mapped = self.to_unicode.get(&key(len8, code)).cloned();
            let text = mapped.or_else(|| match &self.decode {
                Decode::Simple(table) => raw.first().and_then(|&b| table.get(usize::from(b))).cloned().flatten(),
                Decode::Cid => None,
                Decode::Utf16 => Some(encoding_rs::UTF_16BE.decode_without_bom_handling(raw).0.into_owned()),
                Decode::Legacy(e) => Some(e.decode_without_bom_handling(raw).0.into_owned()),
            });
            let text = text.filter(|t| !t.is_empty() && !t.contains(['\0', '\u{FFFD}']));
            let width = match (&self.decode, self.widths.get(&code)) {
                (Decode::Simple(_) | Decode::Cid, Some(&w)) => w,
                (Decode::Cid, None) => self.default_width,
                (Decode::Simple(_), None) if self.has_widths => self.default_width,
                // No widths for this code: an em for CJK, half an em otherwise.
                _ => match text.as_deref().and_then(|t| t.chars().next()) {
                    Some(c) if is_cjk(c) => 1000.0,
                    Some(' ') => 250.0,
                    _ => 500.0,
                },
            };
            out.push(Glyph { text, width, space: len == 1 && code == 32 });
        }
    }
}

/// A simple font's 256 codes as text through its `/Encoding` (lopdf reads WinAnsi, MacRoman,
/// Standard and `/Differences`), decoded once when the font is loaded.
fn simple_table(doc: &Document, dict: &Dictionary) -> Vec<Option<String>> {
    // A copy without ToUnicode, so lopdf reads only `/Encoding` (ToUnicode is this module's).
    let mut plain = Dictionary::new();
    for k in [&b"Type"[..], b"Subtype", b"BaseFont", b"Encoding"] {
        if let Ok(v) = dict.get(k) {
            plain.set(k.to_vec(), v.clone());
        }
    }
    plain.set("Type", Object::Name(b"Font".to_vec()));
    let Ok(enc) = plain.get_font_encoding_with_limit(doc, MAX_STREAM) else { return vec![None; 256] };
    (0..=255u8).map(|b| enc.bytes_to_string(&[b]).ok().filter(|t| !t.is_empty() && !t.contains('\0'))).collect()
}

/// A number, through a reference.
fn num(doc: &Document, o: &Object) -> Option<f32> {
    doc.dereference(o).ok().and_then(|(_, o)| o.as_float().ok()).filter(|f| f.is_finite())
}

/// A CID font's `/W` array into `widths`; whether it gave any.
fn cid_widths(doc: &Document, w: &[Object], widths: &mut HashMap<u32, f32>) -> bool {
    let mut i = 0;
    let mut any = false;
    // Counts every width written, so hostile ranges stay bounded.
    let mut budget = MAX_CMAP;
    while let Some(first) = w.get(i).and_then(|o| num(doc, o)) {
        let Ok(first) = u32::try_from(first as i64) else { break };
        match w.get(i + 1).map(|o| doc.dereference(o).map(|(_, o)| o)) {
            Some(Ok(Object::Array(list))) => {
                for (k, o) in list.iter().enumerate().take(budget.min(65_536)) {
                    budget -= 1;
                    if let Some(v) = num(doc, o) {
                        widths.insert(first.saturating_add(u32::try_from(k).unwrap_or(u32::MAX)), v);
                        any = true;
                    }
                }
                i += 2;
            }
            Some(Ok(o)) => {
                let (Some(last), Some(v)) = (num(doc, o), w.get(i + 2).and_then(|o| num(doc, o))) else { break };
                let span = i64::try_from(budget.min(65_536)).unwrap_or(0);
                if span == 0 {
                    break;
                }
                let last = (last as i64).clamp(i64::from(first), i64::from(first) + span - 1);
                budget = budget.saturating_sub(usize::try_from(last - i64::from(first) + 1).unwrap_or(budget));
                for cid in i64::from(first)..=last {
                    if let Ok(cid) = u32::try_from(cid) {
                        widths.insert(cid, v);
                        any = true;
                    }
                }
                i += 3;
            }
            _ => break,
        }
    }
    any
}

/// The parts of a CMap this module uses: codespace ranges and the `bfchar`/`bfrange` mappings
/// to Unicode (keyed by code length and code).
#[derive(Default)]
struct CMap {
    codespace: Vec<(u8, u32, u32)>,
    map: HashMap<u64, String>,
}

/// A token of a CMap (PostScript) stream.
#[derive(Debug, PartialEq)]
enum Tok<'a> {
    Hex(Vec<u8>),
    Open,
    Close,
    Word(&'a [u8]),
}

/// The most mappings one CMap may hold: a bound on hostile ranges.
const MAX_CMAP: usize = 1 << 20;

impl CMap {
    fn parse(data: &[u8]) -> CMap {
        let toks = cmap_tokens(data);
        let mut cm = CMap::default();
        // Counts every mapping written, repeated codes included, so hostile ranges stay bounded.
        let mut budget = MAX_CMAP;
        let mut i = 0;
        let hex = |t: Option<&Tok>| match t {
            Some(Tok::Hex(h)) if (1..=4).contains(&h.len()) => Some((u8::try_from(h.len()).unwrap_or(4), be(h))),
            _ => None,
        };
        while let Some(t) = toks.get(i) {
            i += 1;
            match t {
                Tok::Word(b"begincodespacerange") => {
                    while let (Some((len, lo)), Some((_, hi))) = (hex(toks.get(i)), hex(toks.get(i + 1))) {
                        cm.codespace.push((len, lo, hi));
                        i += 2;
                    }
                }
                Tok::Word(b"beginbfchar") => {
                    while let (Some((len, code)), Some(Tok::Hex(dst))) = (hex(toks.get(i)), toks.get(i + 1)) {
                        if budget > 0 {
                            budget -= 1;
                            cm.map.insert(key(len, code), utf16(dst));
                        }
                        i += 2;
                    }
                }
                Tok::Word(b"beginbfrange") => {
                    while let (Some((len, lo)), Some((_, hi))) = (hex(toks.get(i)), hex(toks.get(i + 1))) {
                        i += 2;
                        let hi = hi.min(lo.saturating_add(65_535));
                        match toks.get(i) {
                            Some(Tok::Hex(dst)) => {
                                i += 1;
                                for (k, code) in (lo..=hi).enumerate() {
                                    if budget == 0 {
                                        break;
                                    }
                                    budget -= 1;
                                    let mut d = dst.clone();
                                    // The last byte counts up (with a carry into the one before).
                                    let n = d.len();
                                    if n >= 2 {
                                        let last = u16::from_be_bytes([d[n - 2], d[n - 1]]);
                                        let v = last.wrapping_add(u16::try_from(k).unwrap_or(0));
                                        d[n - 2..].copy_from_slice(&v.to_be_bytes());
                                    }
                                    cm.map.insert(key(len, code), utf16(&d));
                                }
                            }
                            Some(Tok::Open) => {
                                i += 1;
                                let mut code = lo;
                                while let Some(Tok::Hex(dst)) = toks.get(i) {
                                    if code <= hi && budget > 0 {
                                        budget -= 1;
                                        cm.map.insert(key(len, code), utf16(dst));
                                    }
                                    code = code.saturating_add(1);
                                    i += 1;
                                }
                                if toks.get(i) == Some(&Tok::Close) {
                                    i += 1;
                                }
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        cm
    }
}

/// UTF-16BE bytes (a `ToUnicode` destination) as text.
fn utf16(bytes: &[u8]) -> String {
    encoding_rs::UTF_16BE.decode_without_bom_handling(bytes).0.into_owned()
}

fn cmap_tokens(data: &[u8]) -> Vec<Tok<'_>> {
    let mut toks = Vec::new();
    let mut i = 0;
    while let Some(&b) = data.get(i) {
        match b {
            b'%' => {
                while data.get(i).is_some_and(|&c| c != b'\n' && c != b'\r') {
                    i += 1;
                }
            }
            b'<' if data.get(i + 1) == Some(&b'<') => i += 2,
            b'>' => i += 1,
            b'<' => {
                let end = data.get(i..).and_then(|r| r.iter().position(|&c| c == b'>')).map_or(data.len(), |e| i + e);
                let digits: Vec<u8> = data
                    .get(i + 1..end)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|&c| (c as char).to_digit(16))
                    .map(|d| d as u8)
                    .collect();
                let bytes = digits
                    .chunks(2)
                    .map(|p| (p.first().copied().unwrap_or(0) << 4) | p.get(1).copied().unwrap_or(0))
                    .collect();
                toks.push(Tok::Hex(bytes));
                i = end + 1;
            }
            b'[' => {
                toks.push(Tok::Open);
                i += 1;
            }
            b']' => {
                toks.push(Tok::Close);
                i += 1;
            }
            b'(' => {
                // A literal string (a registry name): skipped, balanced parentheses.
                let mut depth = 0usize;
                while let Some(&c) = data.get(i) {
                    i += 1;
                    match c {
                        b'\\' => i += 1,
                        b'(' => depth += 1,
                        b')' => {
                            depth = depth.saturating_sub(1);
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                }
            }
            c if c.is_ascii_whitespace() => i += 1,
            _ => {
                let start = i;
                while data.get(i).is_some_and(|c| !c.is_ascii_whitespace() && !b"<>[]()%/".contains(c)) {
                    i += 1;
                }
                if i == start {
                    i += 1;
                }
                toks.push(Tok::Word(data.get(start..i).unwrap_or_default()));
            }
        }
    }
    toks
}

// ---- content streams ---------------------------------------------------------------------------

/// Fonts loaded once per document, by the address of their dictionary.
type FontCache = HashMap<usize, Rc<Font>>;

/// The text state and what a page has shown so far.
struct Interp<'d> {
    doc: &'d Document,
    cache: &'d mut FontCache,
    frags: Vec<Frag>,
    unmapped: usize,
    ops: usize,
    glyphs: Vec<Glyph>,
}

#[derive(Clone)]
struct TextState {
    tm: M,
    tlm: M,
    tc: f32,
    tw: f32,
    th: f32,
    tl: f32,
    tfs: f32,
    rise: f32,
    font: Option<Rc<Font>>,
}

fn f(ops: &[Object], i: usize) -> f32 {
    ops.get(i).and_then(|o| o.as_float().ok()).filter(|v| v.is_finite()).unwrap_or(0.0)
}

fn matrix(ops: &[Object]) -> M {
    M([f(ops, 0), f(ops, 1), f(ops, 2), f(ops, 3), f(ops, 4), f(ops, 5)])
}

impl Interp<'_> {
    /// The fonts of a resource dictionary by name.
    fn fonts(&mut self, resources: Option<&Dictionary>) -> HashMap<Vec<u8>, Rc<Font>> {
        let mut out = HashMap::new();
        let Some(fonts) = resources.and_then(|r| r.get_deref(b"Font", self.doc).ok()).and_then(|f| f.as_dict().ok())
        else {
            return out;
        };
        for (name, value) in fonts.iter() {
            let Ok((_, Object::Dictionary(dict))) = self.doc.dereference(value) else { continue };
            let addr = dict as *const Dictionary as usize;
            let font = self.cache.entry(addr).or_insert_with(|| Rc::new(Font::load(self.doc, dict))).clone();
            out.insert(name.clone(), font);
        }
        out
    }

    /// Runs a content stream with its resources under `ctm`.
    fn run(&mut self, content: &[u8], resources: Option<&Dictionary>, ctm: M, depth: u32) {
        let fonts = self.fonts(resources);
        let mut ctm = ctm;
        let mut stack: Vec<(M, TextState)> = Vec::new();
        let mut ts =
            TextState { tm: M::ID, tlm: M::ID, tc: 0.0, tw: 0.0, th: 1.0, tl: 0.0, tfs: 0.0, rise: 0.0, font: None };
        for op in Content::decode_iter(content) {
            let Ok(op) = op else { break };
            self.ops += 1;
            if self.ops > MAX_OPS {
                break;
            }
            let o = op.operands.as_slice();
            match op.operator.as_str() {
                "q" if stack.len() < 256 => stack.push((ctm, ts.clone())),
                "Q" => {
                    if let Some((m, t)) = stack.pop() {
                        ctm = m;
                        ts = t;
                    }
                }
                "cm" => ctm = matrix(o).then(&ctm),
                "BT" => {
                    ts.tm = M::ID;
                    ts.tlm = M::ID;
                }
                "Tf" => {
                    ts.font = o.first().and_then(|n| n.as_name().ok()).and_then(|n| fonts.get(n)).cloned();
                    ts.tfs = f(o, 1);
                }
                "Tc" => ts.tc = f(o, 0),
                "Tw" => ts.tw = f(o, 0),
                "Tz" => ts.th = f(o, 0) / 100.0,
                "TL" => ts.tl = f(o, 0),
                "Ts" => ts.rise = f(o, 0),
                "Td" => {
                    ts.tlm = M::translate(f(o, 0), f(o, 1)).then(&ts.tlm);
                    ts.tm = ts.tlm;
                }
                "TD" => {
                    ts.tl = -f(o, 1);
                    ts.tlm = M::translate(f(o, 0), f(o, 1)).then(&ts.tlm);
                    ts.tm = ts.tlm;
                }
                "Tm" => {
                    ts.tlm = matrix(o);
                    ts.tm = ts.tlm;
                }
                "T*" => {
                    ts.tlm = M::translate(0.0, -ts.tl).then(&ts.tlm);
                    ts.tm = ts.tlm;
                }
                "Tj" => self.show(&mut ts, &ctm, o.first()),
                "'" => {
                    ts.tlm = M::translate(0.0, -ts.tl).then(&ts.tlm);
                    ts.tm = ts.tlm;
                    self.show(&mut ts, &ctm, o.first());
                }
                "\"" => {
                    ts.tw = f(o, 0);
                    ts.tc = f(o, 1);
                    ts.tlm = M::translate(0.0, -ts.tl).then(&ts.tlm);
                    ts.tm = ts.tlm;
                    self.show(&mut ts, &ctm, o.get(2));
                }
                "TJ" => {
                    if let Some(Ok(items)) = o.first().map(Object::as_array) {
                        for item in items {
                            match item {
                                Object::String(..) => self.show(&mut ts, &ctm, Some(item)),
                                _ => {
                                    let adj = item.as_float().unwrap_or(0.0);
                                    let tx = -adj / 1000.0 * ts.tfs * ts.th;
                                    if tx.is_finite() {
                                        ts.tm = M::translate(tx, 0.0).then(&ts.tm);
                                    }
                                }
                            }
                        }
                    }
                }
                "Do" if depth < MAX_FORM_DEPTH => {
                    if let Some(name) = o.first().and_then(|n| n.as_name().ok()) {
                        self.form(resources, name, ctm, depth);
                    }
                }
                _ => {}
            }
        }
    }

    /// Enters the form XObject `name`.
    fn form(&mut self, resources: Option<&Dictionary>, name: &[u8], ctm: M, depth: u32) {
        let doc = self.doc;
        // Entering a form costs a stream's decoding: charged as many operators, so a form that
        // draws itself over and over ends with the page's budget.
        self.ops = self.ops.saturating_add(10_000);
        if self.ops > MAX_OPS {
            return;
        }
        let Some(stream) = resources
            .and_then(|r| r.get_deref(b"XObject", doc).ok())
            .and_then(|x| x.as_dict().ok())
            .and_then(|x| x.get_deref(name, doc).ok())
            .and_then(|s| s.as_stream().ok())
        else {
            return;
        };
        if stream.dict.get(b"Subtype").and_then(Object::as_name).ok() != Some(b"Form") {
            return;
        }
        let Ok(content) = stream
            .decompressed_content_with_limit(MAX_STREAM)
            .or_else(|_| if stream.dict.has(b"Filter") { Err(()) } else { Ok(stream.content.clone()) })
        else {
            return;
        };
        let m = stream.dict.get(b"Matrix").and_then(Object::as_array).map(|a| matrix(a)).unwrap_or(M::ID);
        let res = stream.dict.get_deref(b"Resources", doc).and_then(Object::as_dict).ok().or(resources);
        self.run(&content, res, m.then(&ctm), depth + 1);
    }

    /// Shows a string: one fragment at the current text position, advancing it.
    fn show(&mut self, ts: &mut TextState, ctm: &M, s: Option<&Object>) {
        let (Some(Object::String(bytes, _)), Some(font)) = (s, ts.font.clone()) else { return };
        let mut glyphs = std::mem::take(&mut self.glyphs);
        glyphs.clear();
        font.glyphs(bytes, &mut glyphs);
        let start = M([ts.tfs * ts.th, 0.0, 0.0, ts.tfs, 0.0, ts.rise]).then(&ts.tm).then(ctm);
        let mut text = String::new();
        for g in &glyphs {
            match &g.text {
                Some(t) => text.push_str(t),
                None => self.unmapped += 1,
            }
            let tx = (g.width / 1000.0 * ts.tfs + ts.tc + if g.space { ts.tw } else { 0.0 }) * ts.th;
            if tx.is_finite() {
                ts.tm = M::translate(tx, 0.0).then(&ts.tm);
            }
        }
        self.glyphs = glyphs;
        let end = M([ts.tfs * ts.th, 0.0, 0.0, ts.tfs, 0.0, ts.rise]).then(&ts.tm).then(ctm);
        let size = start.0[2].hypot(start.0[3]).abs();
        if text.trim().is_empty() || !size.is_finite() || size <= 0.0 {
            return;
        }
        let (x0, x1, y) = (start.0[4], end.0[4], start.0[5]);
        if ![x0, x1, y].iter().all(|v| v.is_finite()) {
            return;
        }
        self.frags.push(Frag { x0: x0.min(x1), x1: x0.max(x1), y, size, text });
    }
}

/// The lines of a page's fragments, in content order.
fn lines(frags: Vec<Frag>) -> Vec<Line> {
    let mut out: Vec<Line> = Vec::new();
    for fr in frags {
        if let Some(l) = out.last_mut() {
            let size = l.size.max(fr.size);
            let same_line = (fr.y - l.y).abs() <= 0.3 * size && fr.x0 >= l.x1 - 0.5 * size;
            if same_line {
                let gap = fr.x0 - l.x1;
                let last = l.text.chars().next_back();
                let first = fr.text.chars().next();
                let cjk = last.is_some_and(is_cjk) && first.is_some_and(is_cjk);
                let spaced = last.is_some_and(char::is_whitespace) || first.is_some_and(char::is_whitespace);
                if !spaced && (gap > size || (gap > 0.2 * size && !cjk)) {
                    l.text.push(' ');
                }
                l.text.push_str(&fr.text);
                l.x1 = l.x1.max(fr.x1);
                l.size = size;
                continue;
            }
        }
        out.push(Line { x0: fr.x0, x1: fr.x1, y: fr.y, size: fr.size, text: fr.text });
    }
    out
}

/// Whether a line is only a page number ("3", "- 3 -", "第3页", "3 / 20", "Page 3 of 20").
fn is_page_number(text: &str) -> bool {
    let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let t = t.trim_matches(|c: char| "-—–·•.".contains(c));
    let t = t.to_lowercase();
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || ('０'..='９').contains(&c));
    if digits(&t) {
        return true;
    }
    if let Some((a, b)) = t.split_once('/') {
        return digits(a) && digits(b);
    }
    if let Some(rest) = t.strip_prefix('第') {
        let (n, tail) = rest.split_once('页').unwrap_or((rest, "x"));
        let tail_ok = tail.is_empty() || tail.strip_prefix('共').and_then(|r| r.strip_suffix('页')).is_some_and(digits);
        return digits(n) && tail_ok;
    }
    if let Some(rest) = t.strip_prefix("page") {
        let (n, total) = rest.split_once("of").unwrap_or((rest, "1"));
        return digits(n) && digits(total);
    }
    false
}

/// Drops a page number at the top or bottom of a page.
fn drop_page_numbers(lines: &mut Vec<Line>) {
    for _ in 0..2 {
        if lines.len() < 2 {
            return;
        }
        let top = lines.iter().enumerate().max_by(|a, b| a.1.y.total_cmp(&b.1.y)).map(|(i, _)| i);
        let bottom = lines.iter().enumerate().min_by(|a, b| a.1.y.total_cmp(&b.1.y)).map(|(i, _)| i);
        let Some(i) =
            [top, bottom].into_iter().flatten().find(|&i| lines.get(i).is_some_and(|l| is_page_number(&l.text)))
        else {
            return;
        };
        lines.remove(i);
    }
}

/// The most common line start (rounded to a point) and the furthest line end of a page.
fn margins(lines: &[Line]) -> (f32, f32) {
    let mut counts: HashMap<i64, usize> = HashMap::new();
    for l in lines {
        *counts.entry(l.x0.round() as i64).or_default() += 1;
    }
    let left = counts.into_iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0))).map_or(0.0, |(x, _)| x as f32);
    let right = lines.iter().map(|l| l.x1).fold(f32::MIN, f32::max);
    (left, right)
}

const SENTENCE_END: &[char] = &['。', '！', '？', '；', '：', '.', '!', '?', ';', ':', '．'];
const CLOSERS: &[char] = &['”', '’', '"', '\'', '）', ')', '」', '』', '》'];

fn ends_sentence(text: &str) -> bool {
    let t = text.trim_end().trim_end_matches(CLOSERS);
    t.ends_with(SENTENCE_END)
}

fn starts_indented(text: &str) -> bool {
    text.starts_with('\u{3000}') || text.starts_with("  ")
}

/// Page layout the paragraph rules use.
struct Layout {
    left: f32,
    right: f32,
}

/// Whether `c` starts a new paragraph after `p` (rules 2 to 4 of the module's comment; rule 1,
/// the vertical gap, is the caller's, as it does not apply across pages).
fn breaks(p: &Line, pl: &Layout, c: &Line, cl: &Layout) -> bool {
    let size = c.size.max(p.size);
    let size_change = (c.size - p.size).abs() > 0.15 * size;
    let beyond_margin = c.x0 > cl.left + 0.8 * c.size;
    let indented =
        (beyond_margin && (c.x0 > p.x0 + 0.8 * c.size || ends_sentence(&p.text))) || starts_indented(&c.text);
    let short_end = ends_sentence(&p.text) && p.x1 < pl.right - 1.5 * p.size;
    size_change || indented || short_end
}

/// The paragraphs of a PDF (see the module's comment).
pub fn extract(path: &Path, bytes: &[u8]) -> Result<Extracted, ExtractError> {
    let encrypted = || ExtractError::Encrypted { path: path.to_path_buf() };
    let doc = Document::load_mem(bytes).map_err(|e| match e {
        lopdf::Error::InvalidPassword | lopdf::Error::Decryption(_) => encrypted(),
        e => ExtractError::BadPdf { path: path.to_path_buf(), message: e.to_string() },
    })?;
    // lopdf decrypts with the empty user password itself ("permissions only" files); an
    // `/Encrypt` left in the trailer means a password is needed.
    if doc.is_encrypted() {
        return Err(encrypted());
    }
    let pages = doc.get_pages();
    if pages.is_empty() {
        return Err(ExtractError::BadPdf { path: path.to_path_buf(), message: "it has no pages".into() });
    }
    let mut cache = FontCache::new();
    let mut page_lines: Vec<(u32, Vec<Line>)> = Vec::new();
    let mut empty_pages = Vec::new();
    let mut unmapped = Vec::new();
    let mut notes = Vec::new();
    for (&number, &id) in &pages {
        let content = match doc.get_page_content_with_limit(id, MAX_STREAM) {
            Ok(c) => c,
            Err(e) => {
                notes.push(format!("page {number}: content not read: {e}"));
                Vec::new()
            }
        };
        let (resources, ids) = doc.get_page_resources(id).unwrap_or((None, Vec::new()));
        let resources = resources.or_else(|| ids.first().and_then(|&r| doc.get_dictionary(r).ok()));
        let mut it =
            Interp { doc: &doc, cache: &mut cache, frags: Vec::new(), unmapped: 0, ops: 0, glyphs: Vec::new() };
        it.run(&content, resources, M::ID, 0);
        if it.unmapped > 0 {
            unmapped.push((number, it.unmapped));
        }
        let mut ls = lines(it.frags);
        if ls.is_empty() {
            empty_pages.push(number);
        }
        drop_page_numbers(&mut ls);
        page_lines.push((number, ls));
    }
    let total = u32::try_from(pages.len()).unwrap_or(u32::MAX);
    if empty_pages.len() == pages.len() {
        return Err(ExtractError::NoTextLayer { path: path.to_path_buf(), pages: total });
    }
    if !empty_pages.is_empty() {
        let list: Vec<String> = empty_pages.iter().map(u32::to_string).collect();
        notes.push(match list.as_slice() {
            [one] => format!("page {one} has no text layer (scanned?)"),
            _ => format!("pages {} have no text layer (scanned?)", list.join(", ")),
        });
    }
    for (page, n) in unmapped {
        notes.push(format!("page {page}: {n} characters have no Unicode mapping in their font and are left out"));
    }
    let paragraphs = paragraphs(&page_lines);
    let created = creation_date(&doc);
    Ok(Extracted { format: Format::Pdf, encoding: None, paragraphs, notes, published: None, created })
}

/// The document information dictionary's `/CreationDate` (`D:20210305103000+08'00'`) as
/// `2021-03-05`: when the PDF was made, usually the day a report was exported from Word.
fn creation_date(doc: &Document) -> Option<String> {
    let info = doc.trailer.get(b"Info").ok()?;
    let info = match info {
        lopdf::Object::Reference(id) => doc.get_dictionary(*id).ok()?,
        lopdf::Object::Dictionary(d) => d,
        _ => return None,
    };
    let raw = match info.get(b"CreationDate").ok()? {
        lopdf::Object::String(bytes, _) => bytes.clone(),
        _ => return None,
    };
    let digits: Vec<u8> = raw.strip_prefix(b"D:").unwrap_or(&raw).iter().copied().take(8).collect();
    if digits.len() < 8 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let d = std::str::from_utf8(&digits).ok()?;
    Some(format!("{}-{}-{}", &d[..4], &d[4..6], &d[6..8]))
}

/// Lines of all pages into paragraphs.
fn paragraphs(pages: &[(u32, Vec<Line>)]) -> Vec<Paragraph> {
    // The usual line spacing: the median distance between consecutive baselines.
    let mut gaps: Vec<f32> = pages
        .iter()
        .flat_map(|(_, ls)| ls.windows(2).map(|w| w.first().map_or(0.0, |p| p.y) - w.get(1).map_or(0.0, |c| c.y)))
        .filter(|&d| d > 0.0)
        .collect();
    gaps.sort_by(f32::total_cmp);
    let spacing = gaps.get(gaps.len() / 2).copied();
    let mut out: Vec<Paragraph> = Vec::new();
    let mut prev: Option<(&Line, Layout)> = None;
    let mut open = false;
    for (page, ls) in pages {
        let (left, right) = margins(ls);
        let mut number = 0u32;
        for (i, c) in ls.iter().enumerate() {
            let cl = Layout { left, right };
            let new = match &prev {
                None => true,
                Some((p, pl)) => {
                    let same_page = i > 0;
                    let d = p.y - c.y;
                    let usual = spacing.unwrap_or(1.5 * c.size).min(3.0 * c.size);
                    let gap = same_page && (d <= 0.0 || d > 1.3 * usual.max(0.5 * c.size));
                    !open || gap || breaks(p, pl, c, &cl)
                }
            };
            if new {
                number += 1;
                out.push(Paragraph { text: String::new(), page: Some(*page), paragraph: Some(number), line: None });
            }
            if let Some(last) = out.last_mut() {
                join_wrapped(&mut last.text, &c.text);
            }
            open = true;
            prev = Some((c, cl));
        }
    }
    out.retain(|p| !p.text.trim().is_empty());
    for p in &mut out {
        p.text = p.text.trim().to_string();
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::tests::{expected, fixture, texts};
    use super::super::{ExtractError, Format, extract};
    use super::is_page_number;

    // The expected paragraphs are the text the generator drew; it also checked them against
    // pypdf 7.1.1's extract_text (whitespace removed), an independent reader of the same files.

    #[test]
    fn reportlab_cid_fonts_paragraphs_across_lines_and_pages() {
        let (path, bytes) = fixture("report-cid.pdf");
        let x = extract(&path, &bytes).unwrap();
        assert_eq!(x.format, Format::Pdf);
        assert_eq!(x.encoding, None);
        // Title (centred, larger), date (right-aligned), the body's indented paragraphs, one
        // of them continued on page 2 under its "第2页" header, traditional text in MSung,
        // Latin with a hyphenated wrap; page numbers "- 1 -" and "第2页" dropped.
        assert_eq!(texts(&x), expected("report-cid.pdf"));
        let places: Vec<(u32, u32)> = x.paragraphs.iter().map(|p| (p.page.unwrap(), p.paragraph.unwrap())).collect();
        let page1: Vec<(u32, u32)> = (1..=20).map(|n| (1, n)).collect();
        let page2: Vec<(u32, u32)> = (1..=5).map(|n| (2, n)).collect();
        assert_eq!(places, [page1, page2].concat());
        // Paragraph 20 of page 1 runs onto page 2: it belongs to page 1, whole.
        assert_eq!(
            x.paragraphs[19].text,
            "沙溪镇作为历史文化名镇，应严格保护古镇风貌，控制沿河建筑高度，引导物流仓储用地向港区集中。"
        );
        assert!(x.paragraphs.iter().all(|p| p.line.is_none()));
        assert_eq!(x.notes, ["page 3 has no text layer (scanned?)"]);
    }

    #[test]
    fn fpdf2_identity_h_with_to_unicode() {
        let (path, bytes) = fixture("report-fpdf.pdf");
        let x = extract(&path, &bytes).unwrap();
        // Paragraphs told apart by the U+3000 indent and the 3 mm gap fpdf2 was given; the
        // footer "- 1 -" dropped; the wrap at character level joined without spaces.
        assert_eq!(texts(&x), expected("report-fpdf.pdf"));
        assert!(x.notes.is_empty(), "{:?}", x.notes);
        assert_eq!(x.paragraphs.iter().filter(|p| p.page == Some(2)).map(|p| p.paragraph.unwrap()).min(), Some(1));
    }

    /// 200 pages: the fpdf2 fixture's first page (Identity-H subset font with ToUnicode)
    /// repeated, written by lopdf; every page read and numbered. (Speed: `cargo bench --bench
    /// core -- reports`.)
    #[test]
    fn two_hundred_pages_all_read() {
        use lopdf::{Document, Object};
        let (_, bytes) = fixture("report-fpdf.pdf");
        let mut doc = Document::load_mem(&bytes).unwrap();
        let first = *doc.get_pages().get(&1).unwrap();
        let page = doc.get_dictionary(first).unwrap().clone();
        let root = doc.catalog().unwrap().get(b"Pages").unwrap().as_reference().unwrap();
        let mut kids = Vec::new();
        for _ in 0..200 {
            kids.push(Object::Reference(doc.add_object(Object::Dictionary(page.clone()))));
        }
        let pages = doc.get_dictionary_mut(root).unwrap();
        pages.set("Kids", Object::Array(kids));
        pages.set("Count", Object::Integer(200));
        let mut big = Vec::new();
        doc.save_to(&mut big).unwrap();
        let x = extract(Path::new("big.pdf"), &big).unwrap();
        assert_eq!(x.paragraphs.iter().filter_map(|p| p.page).max(), Some(200));
        assert!(x.paragraphs.len() > 200 * 8, "{}", x.paragraphs.len());
    }

    #[test]
    fn the_creation_date_is_read_from_the_info_dictionary() {
        let (path, bytes) = fixture("report-fpdf.pdf");
        assert_eq!(extract(&path, &bytes).unwrap().created.as_deref(), Some("2021-03-05"));
    }

    #[test]
    fn scanned_encrypted_and_broken_pdfs() {
        let (path, bytes) = fixture("scanned.pdf");
        let e = extract(&path, &bytes).unwrap_err();
        assert!(matches!(e, ExtractError::NoTextLayer { pages: 2, .. }), "{e:?}");
        assert!(
            e.to_string().ends_with("scanned.pdf: no text layer on any of its 2 pages: a scanned PDF needs OCR first"),
            "{e}"
        );
        let (path, bytes) = fixture("encrypted.pdf");
        let e = extract(&path, &bytes).unwrap_err();
        assert!(matches!(e, ExtractError::Encrypted { .. }), "{e:?}");
        assert!(
            e.to_string()
                .ends_with("encrypted.pdf: encrypted PDF: port-atlas cannot read it; save an unprotected copy"),
            "{e}"
        );
        let (path, bytes) = fixture("permissions-only.pdf");
        let x = extract(&path, &bytes).unwrap();
        assert_eq!(texts(&x), expected("permissions-only.pdf"));
        let e = extract(Path::new("r/bad.pdf"), b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer").unwrap_err();
        assert!(matches!(e, ExtractError::BadPdf { .. }), "{e:?}");
        assert!(e.to_string().starts_with("r/bad.pdf: not a readable PDF: "), "{e}");
    }

    #[test]
    fn page_numbers() {
        for t in ["3", "- 3 -", "— 12 —", "第3页", "第 3 页 共 20 页", "3 / 20", "Page 3 of 20", "１２"] {
            assert!(is_page_number(t), "{t}");
        }
        for t in ["2021年", "3.5", "第三章", "Page", "-", "12.5 公里"] {
            assert!(!is_page_number(t), "{t}");
        }
    }
}
