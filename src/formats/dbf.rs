//! dBase attribute tables (a Shapefile's `.dbf`), read from memory.
//!
//! Hand-written rather than through a crate because the checks planners' files need are in the
//! header: a field table that runs past the file or past the declared header, a record length
//! that disagrees with the fields, a record count that disagrees with the `.shp`. All of them
//! must be clear errors before any record is touched, and text must decode strictly in the
//! encoding decided once for the whole table (see `encoding`).

use encoding_rs::Encoding;
use serde_json::{Map, Number, Value};

use super::encoding::decode_strict;

/// dBase allows 255 fields, GDAL writes up to 2046; a header claiming more is damaged.
pub const MAX_FIELDS: usize = 2046;

/// One column of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    /// dBase type letter: C (text), N/F (number), L (logical), D (date), others kept as text.
    pub kind: u8,
    /// Byte offset in a record (after the deletion flag).
    offset: usize,
    len: usize,
    decimals: u8,
}

/// A parsed header over the table's bytes.
#[derive(Debug)]
pub struct Dbf<'a> {
    bytes: &'a [u8],
    pub fields: Vec<Field>,
    header_len: usize,
    record_len: usize,
    /// Records the header declares.
    pub declared: usize,
    /// Records actually present (fewer when the file is cut short).
    pub count: usize,
    /// The language-driver byte (offset 29).
    pub ldid: u8,
}

/// Field names are ASCII in most files but GBK in many Chinese ones (名称, 用地性质): decode
/// them like the text, without the strictness (a name is only a label).
fn field_name(raw: &[u8], encoding: &'static Encoding) -> String {
    let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
    let raw = &raw[..end];
    let s = decode_strict(raw, encoding)
        .or_else(|| decode_strict(raw, encoding_rs::GB18030))
        .unwrap_or_else(|| String::from_utf8_lossy(raw));
    s.trim().to_string()
}

impl<'a> Dbf<'a> {
    /// Reads the header. `name_encoding` decodes field names; text values decode later with
    /// the encoding [`Dbf::text_bytes`] helps decide.
    pub fn parse(bytes: &'a [u8], name_encoding: &'static Encoding) -> Result<Self, String> {
        if bytes.len() < 32 {
            return Err(format!("the file is {} bytes, shorter than a dBase header (32)", bytes.len()));
        }
        let declared = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
        let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        let record_len = u16::from_le_bytes([bytes[10], bytes[11]]) as usize;
        let ldid = bytes[29];
        if header_len < 33 || header_len > bytes.len() {
            return Err(format!(
                "the header declares {header_len} bytes but the file has {}: not a dBase table, or cut short",
                bytes.len()
            ));
        }
        let declared_fields = (header_len - 33) / 32;
        if declared_fields > MAX_FIELDS {
            return Err(format!(
                "the header declares {declared_fields} fields; more than {MAX_FIELDS} means it is damaged"
            ));
        }
        let mut fields = Vec::new();
        let mut offset = 0;
        let mut at = 32;
        while at + 32 <= header_len && bytes[at] != 0x0D {
            let d = &bytes[at..at + 32];
            let len = d[16] as usize;
            let kind = d[11].to_ascii_uppercase();
            // dBase character fields longer than 255 store the high byte in the decimals.
            let (len, decimals) = if kind == b'C' { (len + ((d[17] as usize) << 8), 0) } else { (len, d[17]) };
            fields.push(Field { name: field_name(&d[..11], name_encoding), kind, offset, len, decimals });
            offset += len;
            at += 32;
        }
        if fields.is_empty() {
            return Err("the table has no fields".into());
        }
        if record_len != offset + 1 {
            return Err(format!(
                "the header says a record is {record_len} bytes, its {} fields add up to {}: the file is damaged",
                fields.len(),
                offset + 1
            ));
        }
        let available = (bytes.len() - header_len) / record_len;
        Ok(Dbf { bytes, fields, header_len, record_len, declared, count: declared.min(available), ldid })
    }

    /// All record bytes, to decide the encoding from (strict UTF-8 over everything).
    pub fn text_bytes(&self) -> &'a [u8] {
        let end = (self.header_len + self.count * self.record_len).min(self.bytes.len());
        &self.bytes[self.header_len..end]
    }

    fn record(&self, i: usize) -> Option<&'a [u8]> {
        if i >= self.count {
            return None;
        }
        let start = self.header_len + i * self.record_len;
        self.bytes.get(start..start + self.record_len)
    }

    /// Whether record `i` is marked deleted (`*`): GIS tools skip those.
    pub fn deleted(&self, i: usize) -> bool {
        self.record(i).is_some_and(|r| r[0] == b'*')
    }

    /// Record `i` as attributes. Text that does not decode in `encoding` is an error naming the
    /// field, never replacement characters.
    pub fn attributes(&self, i: usize, encoding: &'static Encoding) -> Result<Map<String, Value>, String> {
        let rec = self.record(i).ok_or_else(|| format!("record {} is past the end of the table", i + 1))?;
        let mut m = Map::new();
        for f in &self.fields {
            let raw = &rec[1 + f.offset..1 + f.offset + f.len];
            let v = match f.kind {
                b'N' | b'F' => number(raw, f.decimals),
                b'L' => match raw.first().map(u8::to_ascii_uppercase) {
                    Some(b'T' | b'Y') => Value::Bool(true),
                    Some(b'F' | b'N') => Value::Bool(false),
                    _ => Value::Null,
                },
                b'D' => {
                    let t = String::from_utf8_lossy(raw);
                    let t = t.trim();
                    if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
                        Value::String(format!("{}-{}-{}", &t[..4], &t[4..6], &t[6..]))
                    } else {
                        Value::Null
                    }
                }
                _ => {
                    let end = raw.iter().rposition(|&b| b != b' ' && b != 0).map_or(0, |p| p + 1);
                    let text = decode_strict(&raw[..end], encoding).ok_or_else(|| {
                        format!("field {:?} is not valid {} text", f.name, super::encoding::display_name(encoding))
                    })?;
                    let text = text.trim_start();
                    if text.is_empty() { Value::Null } else { Value::String(text.to_string()) }
                }
            };
            if !v.is_null() {
                m.insert(f.name.clone(), v);
            }
        }
        Ok(m)
    }
}

/// A dBase number: blank or `*` overflow is no value; integers stay integers.
fn number(raw: &[u8], decimals: u8) -> Value {
    let t = String::from_utf8_lossy(raw);
    let t = t.trim();
    if t.is_empty() || t.starts_with('*') {
        return Value::Null;
    }
    if decimals == 0
        && let Ok(i) = t.parse::<i64>()
    {
        return Value::Number(i.into());
    }
    t.parse::<f64>().ok().and_then(Number::from_f64).map_or(Value::Null, Value::Number)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use encoding_rs::{GB18030, UTF_8};

    /// A dBase III table: `fields` as (name, type, length, decimals), `rows` as cell texts.
    pub(crate) fn table(fields: &[(&str, u8, u8, u8)], rows: &[Vec<Vec<u8>>], ldid: u8) -> Vec<u8> {
        let header_len = 32 + 32 * fields.len() + 1;
        let record_len = 1 + fields.iter().map(|f| f.2 as usize).sum::<usize>();
        let mut b = vec![0u8; 32];
        b[0] = 3;
        b[4..8].copy_from_slice(&(rows.len() as u32).to_le_bytes());
        b[8..10].copy_from_slice(&(header_len as u16).to_le_bytes());
        b[10..12].copy_from_slice(&(record_len as u16).to_le_bytes());
        b[29] = ldid;
        for (name, kind, len, dec) in fields {
            let mut d = [0u8; 32];
            d[..name.len()].copy_from_slice(name.as_bytes());
            d[11] = *kind;
            d[16] = *len;
            d[17] = *dec;
            b.extend_from_slice(&d);
        }
        b.push(0x0D);
        for row in rows {
            b.push(b' ');
            for ((_, _, len, _), cell) in fields.iter().zip(row) {
                let mut c = cell.clone();
                c.resize(*len as usize, b' ');
                b.extend_from_slice(&c);
            }
        }
        b.push(0x1A);
        b
    }

    #[test]
    fn reads_text_numbers_logicals_and_dates() {
        let gbk = |s: &str| GB18030.encode(s).0.into_owned();
        let t = table(
            &[
                ("NAME", b'C', 40, 0),
                ("AREA", b'N', 12, 2),
                ("CODE", b'N', 6, 0),
                ("OK", b'L', 1, 0),
                ("DAY", b'D', 8, 0),
            ],
            &[
                vec![gbk("沙溪镇"), b"1234.50".to_vec(), b"320585".to_vec(), b"T".to_vec(), b"20230305".to_vec()],
                vec![gbk("浏河镇"), b"".to_vec(), b"*****".to_vec(), b"?".to_vec(), b"".to_vec()],
            ],
            0x4D,
        );
        let d = Dbf::parse(&t, GB18030).unwrap();
        assert_eq!(d.count, 2);
        let a = d.attributes(0, GB18030).unwrap();
        assert_eq!(a["NAME"], "沙溪镇");
        assert_eq!(a["AREA"], 1234.5);
        assert_eq!(a["CODE"], 320585);
        assert_eq!(a["OK"], true);
        assert_eq!(a["DAY"], "2023-03-05");
        let b = d.attributes(1, GB18030).unwrap();
        assert_eq!(b.len(), 1, "{b:?}");
        // GBK read as UTF-8 is an error naming the field, not mojibake.
        let e = d.attributes(0, UTF_8).unwrap_err();
        assert!(e.contains("NAME") && e.contains("UTF-8"), "{e}");
    }

    #[test]
    fn damaged_headers_are_clear_errors() {
        let t = table(&[("NAME", b'C', 10, 0)], &[vec![b"a".to_vec()]], 0);
        assert!(Dbf::parse(&t[..20], UTF_8).unwrap_err().contains("shorter"));
        // A header declaring far more fields than the file holds.
        let mut big = t.clone();
        big[8..10].copy_from_slice(&65_000u16.to_le_bytes());
        assert!(Dbf::parse(&big, UTF_8).unwrap_err().contains("cut short"));
        let mut wrong = t.clone();
        wrong[10..12].copy_from_slice(&99u16.to_le_bytes());
        assert!(Dbf::parse(&wrong, UTF_8).unwrap_err().contains("add up"));
        // Fewer records present than declared: the count is what is there.
        let mut cut = t.clone();
        cut[4..8].copy_from_slice(&5u32.to_le_bytes());
        let d = Dbf::parse(&cut, UTF_8).unwrap();
        assert_eq!((d.declared, d.count), (5, 1));
    }
}
