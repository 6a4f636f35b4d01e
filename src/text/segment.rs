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

/// jieba's dictionary, loaded once per process on first use (about 0.2 s, on the linking thread).
fn jieba() -> &'static Jieba {
    static JIEBA: OnceLock<Jieba> = OnceLock::new();
    JIEBA.get_or_init(Jieba::new)
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

/// How a name sits among the words jieba finds around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum WordFit {
    /// A word runs across its start or end (大桥 in 长江大桥, 曹路 in 曹路宝).
    Split,
    /// Its edges are word boundaries, but it is not itself one word (cut into single characters).
    Bounded,
    /// It is a word of its own.
    Whole,
}

/// How `text[start..end]` (byte offsets on char boundaries; simplified script, as the matcher's
/// folded copy is) fits the words around it. Unknown words (a person's name) are found by
/// jieba's HMM, so 曹路 in 曹路宝主持 is split even though neither is in the dictionary.
///
/// ```
/// use port_atlas::text::segment::{word_fit, WordFit};
/// let t = "长江大桥通车";
/// assert_eq!(word_fit(t, "长江".len(), "长江大桥".len()), WordFit::Split);
/// let t = "沙溪和浏河两镇";
/// assert_eq!(word_fit(t, "沙溪和".len(), "沙溪和浏河".len()), WordFit::Whole);
/// ```
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
        if t.byte_start == s && t.byte_end == e {
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
        assert_eq!(fit("市委书记曹路宝主持会议", "曹路"), WordFit::Split);
        assert_eq!(fit("沙溪和浏河两镇", "浏河"), WordFit::Whole);
        assert!(fit("到沙溪", "沙溪") >= WordFit::Bounded, "at the end of the text");
        assert_eq!(fit("沙溪", "沙溪"), WordFit::Whole, "the whole text");
    }

    #[test]
    fn offsets_off_char_boundaries_are_split() {
        assert_eq!(word_fit("沙溪", 1, 3), WordFit::Split);
    }
}
