//! What a corpus of reports covers: how often each place is mentioned, in how many reports,
//! first and last when; which mentioned places no layer maps; which mapped places no report
//! mentions. Restricted to a date range, this answers "which places did the reports of 2021
//! discuss, and which of 2023".

use chrono::NaiveDate;
use rustc_hash::FxHashMap;

use crate::gazetteer::Gazetteer;
use crate::text::date::ReportDate;
use crate::text::document::Document;

/// Inclusive range of days. A report dated to a month is in the range when its month meets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl DateRange {
    pub fn contains(&self, d: &ReportDate) -> bool {
        d.date <= self.to && d.last_day() >= self.from
    }

    /// The whole of `year`.
    pub fn year(year: i32) -> Option<DateRange> {
        Some(DateRange { from: NaiveDate::from_ymd_opt(year, 1, 1)?, to: NaiveDate::from_ymd_opt(year, 12, 31)? })
    }
}

/// Which documents a range keeps: with no range, all; with one, the dated documents in it
/// (an undated report cannot be said to be in 2021).
pub fn in_range(d: &Document, range: Option<DateRange>) -> bool {
    match range {
        None => true,
        Some(r) => d.date.is_some_and(|x| r.contains(&x.date)),
    }
}

/// One mentioned place.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaceCount {
    /// Index into the gazetteer's places.
    pub place: usize,
    pub mentions: usize,
    pub documents: usize,
    pub first: Option<ReportDate>,
    pub last: Option<ReportDate>,
    /// Drawn by one of the atlas's layers (not only as a mentioned-place disc).
    pub mapped: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Coverage {
    /// Mentioned places, most mentioned first.
    pub places: Vec<PlaceCount>,
    /// Places a layer maps that no document in range mentions, in gazetteer order.
    pub never_mentioned: Vec<usize>,
    /// Documents in the range, and documents left out for having no date.
    pub documents: usize,
    pub undated_left_out: usize,
}

/// How the list view sorts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortBy {
    #[default]
    Mentions,
    Documents,
    First,
    Last,
    Name,
}

impl Coverage {
    /// `mapped(place)` tells whether a layer draws the place.
    pub fn of(documents: &[Document], g: &Gazetteer, range: Option<DateRange>, mapped: impl Fn(usize) -> bool) -> Self {
        let mut counts: FxHashMap<usize, PlaceCount> = FxHashMap::default();
        let mut out = Coverage::default();
        for d in documents {
            if !in_range(d, range) {
                if d.date.is_none() {
                    out.undated_left_out += 1;
                }
                continue;
            }
            out.documents += 1;
            let date = d.date.map(|x| x.date);
            let mut seen_here: Vec<usize> = Vec::new();
            for m in d.passages.iter().flat_map(|p| &p.mentions) {
                let Some(i) = g.position(&m.place) else { continue };
                let c = counts.entry(i).or_insert_with(|| PlaceCount {
                    place: i,
                    mentions: 0,
                    documents: 0,
                    first: None,
                    last: None,
                    mapped: mapped(i),
                });
                c.mentions += 1;
                if !seen_here.contains(&i) {
                    seen_here.push(i);
                    c.documents += 1;
                    if let Some(date) = date {
                        c.first = Some(c.first.map_or(date, |f| f.min(date)));
                        c.last = Some(c.last.map_or(date, |l| l.max(date)));
                    }
                }
            }
        }
        out.never_mentioned = (0..g.places.len()).filter(|i| !counts.contains_key(i) && mapped(*i)).collect();
        out.places = counts.into_values().collect();
        out.sort(SortBy::Mentions, true, g);
        out
    }

    /// Sorts the list view; `descending` puts the most, or the latest, first. Undated ends last
    /// either way, and ties keep name order so the list does not jump.
    pub fn sort(&mut self, by: SortBy, descending: bool, g: &Gazetteer) {
        let name = |i: usize| g.places[i].id.as_str();
        self.places.sort_by(|a, b| {
            let primary = match by {
                SortBy::Mentions => a.mentions.cmp(&b.mentions),
                SortBy::Documents => a.documents.cmp(&b.documents),
                SortBy::First | SortBy::Last => {
                    let (x, y) = if by == SortBy::First { (a.first, b.first) } else { (a.last, b.last) };
                    match (x, y) {
                        (Some(x), Some(y)) => x.cmp(&y),
                        (Some(_), None) => return std::cmp::Ordering::Less,
                        (None, Some(_)) => return std::cmp::Ordering::Greater,
                        (None, None) => std::cmp::Ordering::Equal,
                    }
                }
                SortBy::Name => name(a.place).cmp(name(b.place)),
            };
            let primary = if descending { primary.reverse() } else { primary };
            primary.then_with(|| name(a.place).cmp(name(b.place)))
        });
    }

    /// The greatest mention count, for scaling graduated symbols.
    pub fn max_mentions(&self) -> usize {
        self.places.iter().map(|p| p.mentions).max().unwrap_or(0)
    }
}

/// One bar of the timeline: the reports dated within a month or a year.
#[derive(Debug, Clone, PartialEq)]
pub struct Bin {
    pub range: DateRange,
    pub count: usize,
    /// "2021-03" or "2021".
    pub label: String,
}

/// Bars over the reports' dates, from the first to the last with empty ones between (a gap in
/// the record is worth seeing): by month when they span three years or less, else by year.
/// A month-dated report counts in its month (or year).
pub fn timeline_bins(dates: &[ReportDate]) -> Vec<Bin> {
    use chrono::Datelike;
    let (Some(first), Some(last)) = (dates.iter().map(|d| d.date).min(), dates.iter().map(|d| d.date).max()) else {
        return Vec::new();
    };
    let months = (last.year() - first.year()) * 12 + last.month() as i32 - first.month() as i32;
    let monthly = months < 36;
    let mut bins = Vec::new();
    let (mut y, mut m) = (first.year(), if monthly { first.month() } else { 1 });
    loop {
        let (ny, nm) = if monthly && m < 12 { (y, m + 1) } else { (y + 1, 1) };
        let (Some(from), Some(next)) = (NaiveDate::from_ymd_opt(y, m, 1), NaiveDate::from_ymd_opt(ny, nm, 1)) else {
            break;
        };
        if from > last {
            break;
        }
        let to = next.pred_opt().unwrap_or(next);
        let range = DateRange { from, to };
        let count = dates.iter().filter(|d| d.date >= from && d.date <= to).count();
        let label = if monthly { format!("{y}-{m:02}") } else { y.to_string() };
        bins.push(Bin { range, count, label });
        (y, m) = (ny, nm);
    }
    bins
}

/// A graduated symbol's radius in pixels: area proportional to the count (as a reader compares
/// circles), from `min` for one mention to `max` for the most mentioned place.
pub fn symbol_radius(count: usize, max_count: usize, min: f32, max: f32) -> f32 {
    if max_count <= 1 {
        return min;
    }
    let t = ((count.max(1) - 1) as f32 / (max_count - 1) as f32).clamp(0.0, 1.0);
    (min * min + t * (max * max - min * min)).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gazetteer::{GazetteerFile, Matcher, PlaceEntry};
    use crate::text::date::{DateSource, Dated};
    use std::path::Path;

    fn place(id: &str, hans: &str) -> PlaceEntry {
        PlaceEntry { id: id.into(), name_zh_hans: hans.into(), name_zh_hant: hans.into(), ..Default::default() }
    }

    fn corpus() -> (Gazetteer, Vec<Document>) {
        let file = GazetteerFile {
            places: vec![place("a", "甲港区"), place("b", "乙新城"), place("c", "丙公园")],
            ..Default::default()
        };
        let (g, _) = Gazetteer::build_with(&[], &[], &file, Path::new("g"));
        let m = Matcher::new(&g);
        let doc = |name: &str, text: &str, date: Option<&str>| {
            let mut d = Document::from_text(name, Path::new(name), text, &m, &g);
            d.date = date.map(|s| Dated { date: ReportDate::parse(s).unwrap(), source: DateSource::Edited });
            d
        };
        let docs = vec![
            doc("r2021", "甲港区与乙新城。\n甲港区再次。", Some("2021-03-05")),
            doc("r2023", "乙新城的建设。", Some("2023-06")),
            doc("undated", "甲港区。", None),
        ];
        (g, docs)
    }

    #[test]
    fn counts_first_and_last_and_what_is_never_mentioned() {
        let (g, docs) = corpus();
        let mapped = |i: usize| g.places[i].id != "b";
        let all = Coverage::of(&docs, &g, None, mapped);
        let row = |id: &str| all.places.iter().find(|p| g.places[p.place].id == id).unwrap().clone();
        assert_eq!((row("a").mentions, row("a").documents), (3, 2));
        assert_eq!(row("a").first.unwrap().iso(), "2021-03-05");
        assert_eq!(row("b").last.unwrap().iso(), "2023-06");
        assert!(!row("b").mapped);
        assert_eq!(g.places[all.places[0].place].id, "a");
        let never: Vec<&str> = all.never_mentioned.iter().map(|&i| g.places[i].id.as_str()).collect();
        assert!(never.contains(&"c") && !never.contains(&"a"), "{never:?}");
        assert_eq!((all.documents, all.undated_left_out), (3, 0));
    }

    #[test]
    fn a_year_keeps_its_reports_and_leaves_out_the_undated() {
        let (g, docs) = corpus();
        let y2023 = Coverage::of(&docs, &g, DateRange::year(2023), |_| true);
        let ids: Vec<&str> = y2023.places.iter().map(|p| g.places[p.place].id.as_str()).collect();
        assert_eq!(ids, ["b"]);
        assert_eq!((y2023.documents, y2023.undated_left_out), (1, 1));
        // A month-dated report is in a range that meets its month.
        let june = DateRange {
            from: NaiveDate::from_ymd_opt(2023, 6, 30).unwrap(),
            to: NaiveDate::from_ymd_opt(2023, 7, 2).unwrap(),
        };
        assert_eq!(Coverage::of(&docs, &g, Some(june), |_| true).documents, 1);
    }

    #[test]
    fn sorting_by_date_puts_undated_last() {
        let (g, docs) = corpus();
        let mut c = Coverage::of(&docs, &g, None, |_| true);
        c.sort(SortBy::Last, true, &g);
        assert_eq!(g.places[c.places[0].place].id, "b");
        c.sort(SortBy::First, false, &g);
        assert_eq!(g.places[c.places[0].place].id, "a");
    }

    #[test]
    fn timeline_bars_by_month_or_year_with_gaps() {
        let d = |s: &str| ReportDate::parse(s).unwrap();
        let bins = timeline_bins(&[d("2021-03-05"), d("2021-05"), d("2021-05-31")]);
        let got: Vec<(&str, usize)> = bins.iter().map(|b| (b.label.as_str(), b.count)).collect();
        assert_eq!(got, [("2021-03", 1), ("2021-04", 0), ("2021-05", 2)]);
        assert_eq!(bins[2].range.to.to_string(), "2021-05-31");
        let years = timeline_bins(&[d("2015-01-01"), d("2023-12-31"), d("2023-06")]);
        assert_eq!(years.len(), 9);
        assert_eq!((years[0].label.as_str(), years[8].count), ("2015", 2));
        assert!(timeline_bins(&[]).is_empty());
    }

    #[test]
    fn symbols_grow_by_area() {
        assert_eq!(symbol_radius(1, 100, 4.0, 20.0), 4.0);
        assert_eq!(symbol_radius(100, 100, 4.0, 20.0), 20.0);
        let half = symbol_radius(50, 99, 4.0, 20.0);
        assert!((half * half - (16.0 + 0.5 * (400.0 - 16.0))).abs() < 0.5);
        assert_eq!(symbol_radius(3, 1, 4.0, 20.0), 4.0);
    }
}
