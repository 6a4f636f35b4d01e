//! Any bytes as a dBase table: the header parses or is refused, and every record it admits to
//! reads as attributes or a clear error, never a panic.
//!
//! Input: one byte choosing the text encoding, then the `.dbf`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use port_atlas::formats::dbf::Dbf;
use port_atlas::formats::encoding;
use serde_json::Value;

const ENCODINGS: [&encoding_rs::Encoding; 5] =
    [encoding_rs::UTF_8, encoding_rs::GB18030, encoding_rs::GBK, encoding_rs::BIG5, encoding_rs::WINDOWS_1252];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else { return };
    let text = ENCODINGS[pick as usize % ENCODINGS.len()];
    let Ok(dbf) = Dbf::parse(bytes, encoding_rs::UTF_8) else { return };
    // What the Shapefile reader does: decide from the records, then parse again.
    let _ = encoding::from_ldid(dbf.ldid);
    let _ = encoding::detect(dbf.text_bytes());
    let Ok(dbf) = Dbf::parse(bytes, text) else { panic!("the header parsed in UTF-8 but not in {}", text.name()) };
    assert!(dbf.count <= dbf.declared);
    assert!(!dbf.fields.is_empty() && dbf.fields.len() <= port_atlas::formats::dbf::MAX_FIELDS);
    for i in (0..dbf.count).take(32) {
        let _ = dbf.deleted(i);
        if let Ok(m) = dbf.attributes(i, text) {
            assert!(m.len() <= dbf.fields.len());
            for v in m.values() {
                assert!(!v.is_null(), "null values are left out");
                if let Value::Number(n) = v {
                    assert!(n.as_f64().is_some_and(f64::is_finite));
                }
            }
        }
    }
    assert!(dbf.attributes(dbf.count, text).is_err(), "record past the end");
    assert!(!dbf.deleted(dbf.count));
});
