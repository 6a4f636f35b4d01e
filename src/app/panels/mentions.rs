//! Mentions drawn in text: one helper splits a text into plain runs and mentions, so the place
//! panel, the document panel and the presenter's caption highlight them the same way.

use bevy_egui::egui::Color32;

use super::color32;
use crate::app::state::AtlasRes;
use crate::document::Mention;

/// A piece of a passage's text: plain, or one of its mentions.
#[derive(Debug, Clone, PartialEq)]
pub enum Run<'a> {
    Plain(String),
    Mention(&'a Mention),
}

/// The text between char offsets `from` and `to` of a passage, cut into plain runs and the
/// mentions that lie wholly inside it (mentions are sorted and do not overlap).
pub fn runs<'a>(text: &str, from: usize, to: usize, mentions: &'a [Mention]) -> Vec<Run<'a>> {
    let byte = |c: usize| text.char_indices().nth(c).map_or(text.len(), |(b, _)| b);
    let (start, end) = (byte(from), byte(to));
    let from = text[..start].chars().count();
    runs_chunk(&text[start..end.max(start)], from, mentions)
}

/// A piece of a passage (`chunk`, whose first char is char `base` of the passage) cut into
/// plain runs and the mentions wholly inside it: the document panel draws long passages a
/// row at a time, and must not walk the whole passage for each row.
pub fn runs_chunk<'a>(chunk: &str, base: usize, mentions: &'a [Mention]) -> Vec<Run<'a>> {
    // Byte offset of every char of the chunk, and of its end.
    let starts: Vec<usize> = chunk.char_indices().map(|(b, _)| b).chain(std::iter::once(chunk.len())).collect();
    let len = starts.len() - 1;
    let mut out = Vec::new();
    let mut pos = 0;
    for m in mentions.iter().filter(|m| m.start >= base && m.end <= base + len) {
        let (s, e) = (m.start - base, m.end - base);
        if s > pos {
            out.push(Run::Plain(chunk[starts[pos]..starts[s]].to_string()));
        }
        out.push(Run::Mention(m));
        pos = e;
    }
    if pos < len {
        out.push(Run::Plain(chunk[starts[pos]..].to_string()));
    }
    out
}

/// A light background for a mention in its layer's colour.
pub(super) fn mention_bg(res: &AtlasRes, place: &str, strong: bool) -> Color32 {
    let c = res
        .atlas
        .gazetteer
        .get(place)
        .and_then(|p| p.layer.as_deref())
        .and_then(|l| res.atlas.layers.iter().position(|x| x.id == l))
        .map(|i| color32(&res.atlas.layers[i].meta))
        .unwrap_or(Color32::GRAY);
    let a = if strong { 200 } else { 90 };
    Color32::from_rgba_unmultiplied(c.r(), c.g(), c.b(), a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mention(place: &str, start: usize, end: usize, text: &str) -> Mention {
        Mention {
            place: place.into(),
            start,
            end,
            text: text.into(),
            sentence: 0,
            confidence: 1.0,
            reason: crate::text::resolve::Reason::Curated,
        }
    }

    #[test]
    fn text_is_cut_around_mentions_by_character() {
        let text = "太倉港和常熟港區。張家港";
        let ms = [mention("taicang-port", 0, 3, "太倉港"), mention("changshu-port", 4, 8, "常熟港區")];
        let r = runs(text, 0, 100, &ms);
        assert_eq!(
            r,
            vec![Run::Mention(&ms[0]), Run::Plain("和".into()), Run::Mention(&ms[1]), Run::Plain("。張家港".into()),]
        );
        // A range inside the passage keeps only the mentions wholly in it.
        assert_eq!(
            runs(text, 2, 9, &ms),
            vec![Run::Plain("港和".into()), Run::Mention(&ms[1]), Run::Plain("。".into())]
        );
        assert!(runs(text, 5, 3, &ms).is_empty());
    }
}
