//! Word boundaries, from jieba's segmentation of the clause around a name: a short name (大桥,
//! 沙溪) is a mention only if the words around it leave it whole. In 长江大桥 the dictionary's
//! word for the bridge spans 大桥's start, so 大桥 there is no town.
//!
//! Only matches that need it are segmented, and only a window of a few words around each, so a
//! corpus costs in proportion to its short-name matches, not its length.

use std::sync::OnceLock;

use jieba_rs::Jieba;

/// Characters either side of a name that the segmenter sees: enough for the longest dictionary
/// words to compete with the name, few enough to keep each check to microseconds.
pub(crate) const WINDOW_CHARS: usize = 6;

/// jieba's dictionary, loaded once per process on first use (about 0.2 s, on the linking thread),
/// with the region's town and water names added as words.
fn jieba() -> &'static Jieba {
    static JIEBA: OnceLock<Jieba> = OnceLock::new();
    JIEBA.get_or_init(|| {
        let mut j = Jieba::new();
        for name in place_words(crate::text::region::REGION_TSV) {
            let known = matches!(j.cut(name, false).as_slice(), [only] if only.word == name);
            if !known {
                j.add_word(name, Some(PLACE_WORD_FREQ), Some("ns"));
            }
        }
        // Adding words past the default dictionary's exact reservation doubled its arrays; a
        // clone is sized to fit, which keeps about 8 MB off the app's resident memory for good.
        j.clone()
    })
}

/// The corpus count given to a town's short name that jieba does not know: a rare word, so any
/// dictionary word across it still wins (长江大桥 over 大桥), but one the segmenter no longer glues
/// to the character before it. Without it, jieba's HMM reads 以沙溪为中心 as 以沙溪 / 为 / 中心
/// and 向璜泾延伸 as 向璜 / 泾, and the town never links. The price: a person whose given name
/// starts with a town's (曹路宝) splits there too, so titles and context must rule them out.
const PLACE_WORD_FREQ: usize = 20;

/// Short names of the table's townships, zones and waters that are not everyday words (the
/// table marks those with `*`): the names jieba must see as words for the region's towns to
/// link where a report writes them without a suffix.
///
/// ```
/// use port_atlas::text::segment::place_words;
/// let tsv = "code\tlevel\tparent\tname\thant\tshort\n\
///            320585102\ttownship\t320585\t沙溪镇\t沙溪鎮\t沙溪|大桥*\n\
///            320585\tcounty\t3205\t太仓市\t太倉市\t太仓\n";
/// assert_eq!(place_words(tsv).collect::<Vec<_>>(), ["沙溪"]);
/// ```
pub fn place_words(tsv: &str) -> impl Iterator<Item = &str> {
    tsv.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut cols = l.split('\t');
            let level = cols.nth(1)?;
            matches!(level, "township" | "zone" | "water").then(|| cols.nth(3))?
        })
        .flat_map(|shorts| shorts.split('|'))
        .filter(|s| !s.is_empty() && !s.ends_with('*'))
}

/// Loads the dictionary now (a background thread can warm it before the first document).
pub fn warm() {
    jieba();
}

fn is_break(c: char) -> bool {
    c.is_whitespace()
        || c.is_ascii_punctuation()
        || matches!(
            c,
            '，' | '。'
                | '、'
                | '；'
                | '：'
                | '！'
                | '？'
                | '（'
                | '）'
                | '「'
                | '」'
                | '『'
                | '』'
                | '“'
                | '”'
                | '《'
                | '》'
        )
}

/// How often jieba's dictionary has seen `word` as a word (its corpus count; about 1 for a
/// string it does not know). Above a thousand it is an everyday word: 合作 13,478, 东方 3,993.
pub fn word_frequency(word: &str) -> usize {
    jieba().suggest_freq(word)
}

/// Whether jieba's dictionary has `word` as an ordinary word rather than a place's name: tagged
/// other than `ns` (place name) and seen often enough to be one (a verb, number or adjective 5
/// times, a noun 50, a person's name 110: jieba files many towns as names, 周庄 100 and 吴淞 76
/// times, while 宝塔 201 and 千秋 258 are words). 万里 (a number word), 大麻 (hemp), 宝塔 (a pagoda)
/// and 千秋 are also towns of the region, which a report names with evidence around them.
///
/// ```
/// use port_atlas::text::segment::ordinary_word;
/// assert!(ordinary_word("万里"));
/// assert!(ordinary_word("大麻"));
/// assert!(!ordinary_word("沙溪"));
/// assert!(!ordinary_word("周庄"), "a town jieba files as a person's name");
/// assert!(!ordinary_word("璜泾"), "a word jieba does not know");
/// ```
pub fn ordinary_word(word: &str) -> bool {
    let j = jieba();
    let tags = j.tag(word, false);
    let [only] = tags.as_slice() else { return false };
    if only.word != word || only.tag == "ns" {
        return false;
    }
    let freq = j.suggest_freq(word);
    let least = match only.tag {
        "nr" => 110,
        t if t.starts_with('n') => 50,
        _ => 5,
    };
    freq >= least
}

/// How a name sits among the words jieba finds around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum WordFit {
    /// A word runs across its start or end (大桥 in 长江大桥, 东山 in 东山再起).
    Split,
    /// Its edges are word boundaries, but it is not itself one word (cut into single characters).
    Bounded,
    /// It is a word of its own.
    Whole,
}

/// How `text[start..end]` (byte offsets on char boundaries; simplified script, as the matcher's
/// folded copy is) fits the words around it. Unknown words are found by jieba's HMM, so a name
/// the dictionary does not know can still be split by one that runs across it.
///
/// ```
/// use port_atlas::text::segment::{word_fit, WordFit};
/// let t = "长江大桥通车";
/// assert_eq!(word_fit(t, "长江".len(), "长江大桥".len()), WordFit::Split);
/// let t = "沙溪和浏河两镇";
/// assert_eq!(word_fit(t, "沙溪和".len(), "沙溪和浏河".len()), WordFit::Whole);
/// ```
/// What makes a port's name of a place's (simplified: the matcher's folded copy).
const PORT_SUFFIXES: [&str; 3] = ["港", "港区", "港口"];

pub fn word_fit(text: &str, start: usize, end: usize) -> WordFit {
    let (Some(before), Some(after)) = (text.get(..start), text.get(end..)) else { return WordFit::Split };
    let mut lo = start;
    for (i, c) in before.char_indices().rev().take(WINDOW_CHARS) {
        if is_break(c) {
            break;
        }
        lo = i;
    }
    let mut hi = end;
    for (i, c) in after.char_indices().take(WINDOW_CHARS) {
        if is_break(c) {
            break;
        }
        hi = end + i + c.len_utf8();
    }
    let window = &text[lo..hi];
    let (s, e) = (start - lo, end - lo);
    let (mut starts, mut ends) = (s == 0, e == window.len());
    for t in jieba().cut(window, true) {
        // A port named by its place (南京港, 日照港: words in jieba's dictionary) is a mention
        // of the place, as if the two were written apart.
        let port = t.byte_start == s && window.get(e..t.byte_end).is_some_and(|rest| PORT_SUFFIXES.contains(&rest));
        if t.byte_start == s && t.byte_end == e || port {
            return WordFit::Whole;
        }
        starts |= t.byte_start == s;
        ends |= t.byte_end == e;
    }
    if starts && ends { WordFit::Bounded } else { WordFit::Split }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fit(text: &str, name: &str) -> WordFit {
        let start = text.find(name).expect("name in text");
        word_fit(text, start, start + name.len())
    }

    #[test]
    fn names_inside_longer_words_are_split() {
        assert_eq!(fit("长江大桥通车", "大桥"), WordFit::Split);
        assert_eq!(fit("东山再起", "东山"), WordFit::Split);
        assert_eq!(fit("沙溪和浏河两镇", "浏河"), WordFit::Whole);
        assert!(fit("到沙溪", "沙溪") >= WordFit::Bounded, "at the end of the text");
        assert_eq!(fit("沙溪", "沙溪"), WordFit::Whole, "the whole text");
        assert_eq!(fit("与南京港合作", "南京"), WordFit::Whole, "a port named by its city");
    }

    #[test]
    fn towns_after_a_one_character_word_are_words() {
        // Without the region's names in the dictionary, the HMM glued these to the word before.
        assert_eq!(fit("以沙溪为中心", "沙溪"), WordFit::Whole);
        assert_eq!(fit("向璜泾延伸", "璜泾"), WordFit::Whole);
        assert_eq!(fit("以花桥经济开发区为桥头堡", "花桥"), WordFit::Whole);
    }

    #[test]
    fn offsets_off_char_boundaries_are_split() {
        assert_eq!(word_fit("沙溪", 1, 3), WordFit::Split);
    }
}
