//! Folding text so that traditional and simplified script, upper and lower case compare equal,
//! without moving any byte: the matcher's offsets in the folded copy are offsets in the original.

use crate::gazetteer::Gazetteer;

/// Traditional-to-simplified character pairs shipped with the atlas (see geodata/SOURCES.md).
const T2S_CHARACTERS: &str = include_str!("../../geodata/t2s-characters.txt");

/// Folds text so traditional and simplified, upper and lower case compare equal, keeping every
/// character's UTF-8 length (the property the matcher's offsets depend on).
///
/// ```
/// use port_atlas::atlas::Atlas;
/// let fold = Atlas::builtin().matcher.fold().clone();
/// assert_eq!(fold.fold_str("太倉港 Taicang"), fold.fold_str("太仓港 taicang"));
/// let text = "蘇州港";
/// assert_eq!(fold.fold_str(text).len(), text.len(), "byte offsets carry over");
/// ```
#[derive(Debug, Clone)]
pub struct Fold {
    /// Replacement for each BMP code point; 0 means unchanged.
    table: Vec<u16>,
}

impl Fold {
    /// The base traditional-to-simplified table (2,700 characters, hanziconv's CUHK map),
    /// then the pairs the gazetteer's own names teach and its `variants`.
    pub fn from_gazetteer(g: &Gazetteer) -> Self {
        let mut fold = Self::base();
        let table = &mut fold.table;
        let mut learn = |a: char, b: char| {
            if a != b && a.len_utf8() == b.len_utf8() && (a as u32) < 0x1_0000 && (b as u32) < 0x1_0000 {
                table[a as usize] = b as u16;
            }
        };
        for p in &g.places {
            let (t, s) = (&p.name_zh_hant, &p.name_zh_hans);
            if t.chars().count() == s.chars().count() {
                for (a, b) in t.chars().zip(s.chars()) {
                    learn(a, b);
                }
            }
        }
        for &(a, b) in &g.variants {
            learn(a, b);
        }
        fold
    }

    /// The shipped character table alone, with ASCII case folding.
    pub fn base() -> Self {
        let mut table = vec![0u16; 0x1_0000];
        for c in b'A'..=b'Z' {
            table[c as usize] = (c + 32) as u16;
        }
        for line in T2S_CHARACTERS.lines().filter(|l| !l.starts_with('#')) {
            let mut cs = line.chars();
            if let (Some(a), Some(' '), Some(b)) = (cs.next(), cs.next(), cs.next())
                && a.len_utf8() == b.len_utf8()
                && (a as u32) < 0x1_0000
                && (b as u32) < 0x1_0000
            {
                table[a as usize] = b as u16;
            }
        }
        Fold { table }
    }

    /// One character folded.
    #[inline]
    pub fn map(&self, c: char) -> char {
        let cp = c as u32;
        if cp < 0x1_0000 {
            let r = self.table[cp as usize];
            if r != 0 {
                return char::from_u32(r as u32).unwrap_or(c);
            }
        }
        c
    }

    pub fn fold_str(&self, s: &str) -> String {
        s.chars().map(|c| self.map(c)).collect()
    }

    /// Folds `text` into `out` byte for byte: `out` has the same length and char boundaries.
    pub fn fold_into(&self, text: &str, out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(text.as_bytes());
        let bytes = out.as_mut_slice();
        let mut i = 0;
        let n = bytes.len();
        while i < n {
            let b = bytes[i];
            if b < 0x80 {
                let r = self.table[b as usize];
                if r != 0 {
                    bytes[i] = r as u8;
                }
                i += 1;
            } else if (0xE0..0xF0).contains(&b) && i + 2 < n {
                let cp = ((b as u32 & 0x0F) << 12) | ((bytes[i + 1] as u32 & 0x3F) << 6) | (bytes[i + 2] as u32 & 0x3F);
                let r = self.table[cp as usize] as u32;
                if r >= 0x800 {
                    bytes[i] = 0xE0 | (r >> 12) as u8;
                    bytes[i + 1] = 0x80 | ((r >> 6) & 0x3F) as u8;
                    bytes[i + 2] = 0x80 | (r & 0x3F) as u8;
                }
                i += 3;
            } else if b >= 0xF0 {
                i += 4;
            } else if b >= 0xE0 {
                i += 3;
            } else {
                i += 2;
            }
        }
    }
}
