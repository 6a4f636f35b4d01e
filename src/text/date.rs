//! When a report was written: found in its own text the way a reader finds it (a dateline at the
//! top, a signature date at the bottom, a lead sentence that starts with the date, 昨天 counted
//! back from the dateline), else in its file name. Dates in the body ("2019年12月28日通车",
//! "到2035年") are what the report talks about, not when it was written, so they never date it.
//!
//! ```
//! use port_atlas::text::date::{date_document, DateSource};
//! let paras = ["太仓港发展专题会议纪要", "（2021年3月6日）", "昨天下午，市政府召开专题会议，研究太仓港发展。"];
//! let d = date_document(&paras, "纪要.docx").unwrap();
//! assert_eq!(d.date.iso(), "2021-03-05");
//! assert_eq!(d.source, DateSource::Relative { word: "昨天", days: -1 });
//! ```

use chrono::{Datelike, NaiveDate};

/// A report's date; a plan dated only "2021年3月" keeps month precision rather than a made-up day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReportDate {
    pub date: NaiveDate,
    pub precision: Precision,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Precision {
    Month,
    Day,
}

impl ReportDate {
    pub fn day(date: NaiveDate) -> Self {
        ReportDate { date, precision: Precision::Day }
    }

    /// ISO 8601: `2021-03-05`, or `2021-03` for a month.
    pub fn iso(&self) -> String {
        match self.precision {
            Precision::Day => self.date.format("%Y-%m-%d").to_string(),
            Precision::Month => self.date.format("%Y-%m").to_string(),
        }
    }

    /// The last day the date covers: a month-dated report counts as written within its month.
    pub fn last_day(&self) -> NaiveDate {
        match self.precision {
            Precision::Day => self.date,
            Precision::Month => {
                let next = if self.date.month() == 12 {
                    NaiveDate::from_ymd_opt(self.date.year() + 1, 1, 1)
                } else {
                    NaiveDate::from_ymd_opt(self.date.year(), self.date.month() + 1, 1)
                };
                next.and_then(|d| d.pred_opt()).unwrap_or(self.date)
            }
        }
    }

    /// A date as a planner types it in the edit box: ISO (`2021-03-05`, `2021-3`), or the way
    /// reports write it (`2021年3月5日`, `二〇二一年三月五日`, `2021/3/5`). Anything else: None.
    pub fn parse(text: &str) -> Option<ReportDate> {
        let t = text.trim();
        let found = find_dates(t);
        if let [only] = found.as_slice()
            && only.start == 0
            && only.end == t.len()
        {
            return Some(only.date);
        }
        // `2021-03` / `2021-3`: a month, which running text never writes this way.
        let (y, m) = t.split_once('-')?;
        if y.len() == 4 && (1..=2).contains(&m.len()) {
            let date = NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, 1)?;
            return Some(ReportDate { date, precision: Precision::Month });
        }
        None
    }
}

/// A date written in a text, at byte offsets `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FoundDate {
    pub date: ReportDate,
    pub start: usize,
    pub end: usize,
}

/// Where a document's date came from, shown beside it so a planner knows whether to check it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateSource {
    /// A line near the top that is little more than a date ("（2021年3月5日）", "发布时间：2021-03-05").
    Dateline,
    /// A line near the end that is little more than a date: the signature of an official document.
    Signature,
    /// The date the first sentences start with ("2021年3月5日下午，市政府召开…").
    Lead,
    /// A word such as 昨天 in the lead, counted from the dateline.
    Relative { word: &'static str, days: i64 },
    /// The file's metadata (an HTML page's `<meta name="PubDate">`).
    Metadata,
    /// The file name ("2021-03-05 会议纪要.docx", "纪要20210305.pdf").
    FileName,
    /// When the file was made (a PDF's creation date): the weakest hint, shown so it is checked.
    Created,
    /// The planner set it.
    Edited,
}

impl DateSource {
    pub fn describe(&self) -> String {
        match self {
            DateSource::Dateline => "dateline".into(),
            DateSource::Signature => "signature date".into(),
            DateSource::Lead => "first sentence".into(),
            DateSource::Relative { word, .. } => format!("{word}, from the dateline"),
            DateSource::Metadata => "page's metadata".into(),
            DateSource::FileName => "file name".into(),
            DateSource::Created => "PDF's creation date".into(),
            DateSource::Edited => "set by hand".into(),
        }
    }
}

/// A document's date and where it was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dated {
    pub date: ReportDate,
    pub source: DateSource,
}

/// How many paragraphs at each end may hold a dateline or signature.
const EDGE: usize = 5;
/// A dateline is a short line: a date with a label or an issuer's name, not a sentence.
const DATELINE_CHARS: usize = 32;
/// A lead starts with its date within this many characters ("本报讯（记者 王芳）2021年…").
const LEAD_CHARS: usize = 24;

const RELATIVE: [(&str, i64); 7] =
    [("昨天", -1), ("昨日", -1), ("前天", -2), ("前日", -2), ("今天", 0), ("今日", 0), ("当天", 0)];

/// Dates a document from its paragraphs (in order) and its file name; None when neither says.
pub fn date_document(paragraphs: &[&str], file_name: &str) -> Option<Dated> {
    let n = paragraphs.len();
    // In a short document the top and the end meet: each gets its half.
    let top = &paragraphs[..n.min(EDGE).min(n.div_ceil(2))];
    // 1. A dateline near the top, then the lead it may be counted from.
    for (i, p) in top.iter().enumerate() {
        if let Some(date) = dateline(p) {
            let lead = paragraphs.get(i + 1).copied().unwrap_or("");
            return Some(relative(date, lead).unwrap_or(Dated { date, source: DateSource::Dateline }));
        }
    }
    // 2. A signature date near the end (official documents date themselves under the issuer).
    for p in paragraphs.iter().skip(n.saturating_sub(EDGE).max(top.len())).rev() {
        if let Some(date) = dateline(p) {
            return Some(Dated { date, source: DateSource::Signature });
        }
    }
    // 3. A lead that starts with its date.
    for p in top.iter().take(3) {
        if let Some(f) = find_dates(p).into_iter().find(|f| f.date.precision == Precision::Day)
            && p[..f.start].chars().count() <= LEAD_CHARS
        {
            let rest = &p[f.end..];
            return Some(relative(f.date, rest).unwrap_or(Dated { date: f.date, source: DateSource::Lead }));
        }
    }
    // 4. The file name.
    file_name_date(file_name).map(|date| Dated { date, source: DateSource::FileName })
}

/// A paragraph that is little more than a date: short, no sentence end, holding one date.
fn dateline(p: &str) -> Option<ReportDate> {
    let t = p.trim();
    if t.chars().count() > DATELINE_CHARS || t.contains('。') {
        return None;
    }
    let found = find_dates(t);
    match found.as_slice() {
        [one] => Some(one.date),
        // "2021年3月5日—3月6日" and other ranges: the first day.
        [first, ..] => Some(first.date),
        [] => None,
    }
}

/// A relative day word at the start of the lead, counted from `date` (only a day-precise one).
fn relative(date: ReportDate, lead: &str) -> Option<Dated> {
    if date.precision != Precision::Day {
        return None;
    }
    let head: String = lead.trim_start().chars().take(LEAD_CHARS).collect();
    let (pos, word, days) =
        RELATIVE.iter().filter_map(|&(w, d)| head.find(w).map(|pos| (pos, w, d))).min_by_key(|&(pos, ..)| pos)?;
    // A date written before the word is the lead's own date: the word is not about the dateline.
    if names_a_day(&head[..pos]) {
        return None;
    }
    let shifted = date.date.checked_add_signed(chrono::Duration::days(days))?;
    Some(Dated { date: ReportDate::day(shifted), source: DateSource::Relative { word, days } })
}

/// Whether `text` writes a day, with or without its year ("3月1日", "2021年3月1日").
fn names_a_day(text: &str) -> bool {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    (0..chars.len()).any(|i| {
        let month = number(&chars, i, 2).or_else(|| han_number(&chars, i));
        let Some((_, n)) = month else { return false };
        let j = skip_spaces(&chars, i + n);
        if !at(&chars, j, '月') {
            return false;
        }
        let k = skip_spaces(&chars, j + 1);
        let day = number(&chars, k, 2).or_else(|| han_number(&chars, k));
        day.is_some_and(|(_, n)| {
            let e = skip_spaces(&chars, k + n);
            at(&chars, e, '日') || at(&chars, e, '号')
        })
    })
}

/// A date in a file name: any form [`find_dates`] knows, or eight digits `20210305`.
pub fn file_name_date(name: &str) -> Option<ReportDate> {
    if let Some(f) = find_dates(name).into_iter().next() {
        return Some(f.date);
    }
    let b = name.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() && (i == 0 || !b[i - 1].is_ascii_digit()) {
            let run = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
            if run == 8 {
                let s = &name[i..i + 8];
                let (y, m, d) = (s[..4].parse().ok()?, s[4..6].parse().ok()?, s[6..].parse().ok()?);
                if (1949..=2100).contains(&y)
                    && let Some(date) = NaiveDate::from_ymd_opt(y, m, d)
                {
                    return Some(ReportDate::day(date));
                }
            }
            i += run;
        } else {
            i += 1;
        }
    }
    None
}

/// Every full date written in `text`: `2021年3月5日` (ASCII or full-width digits, 日 or 号),
/// `2021年3月` (a month), `二〇二一年三月五日`, `2021-03-05`, `2021/3/5`, `2021.3.5`.
/// Years alone ("2035年") are targets and periods, not dates, and are not returned.
pub fn find_dates(text: &str) -> Vec<FoundDate> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let prev_digit = i > 0 && digit(chars[i - 1].1).is_some();
        let found = if prev_digit { None } else { arabic(&chars, i).or_else(|| chinese(&chars, i)) };
        match found {
            Some((date, next)) => {
                let end = chars.get(next).map_or(text.len(), |c| c.0);
                out.push(FoundDate { date, start: chars[i].0, end });
                i = next;
            }
            None => i += 1,
        }
    }
    out
}

/// An ASCII or full-width digit's value.
fn digit(c: char) -> Option<u32> {
    match c {
        '0'..='9' => Some(c as u32 - '0' as u32),
        '０'..='９' => Some(c as u32 - '０' as u32),
        _ => None,
    }
}

/// A run of at most `max` digits from `i`: (value, digits read).
fn number(chars: &[(usize, char)], i: usize, max: usize) -> Option<(u32, usize)> {
    let mut v = 0;
    let mut n = 0;
    while let Some(d) = chars.get(i + n).and_then(|c| digit(c.1)) {
        if n == max {
            return None;
        }
        v = v * 10 + d;
        n += 1;
    }
    (n > 0).then_some((v, n))
}

fn skip_spaces(chars: &[(usize, char)], mut i: usize) -> usize {
    while chars.get(i).is_some_and(|c| c.1 == ' ' || c.1 == '\u{3000}') {
        i += 1;
    }
    i
}

fn at(chars: &[(usize, char)], i: usize, c: char) -> bool {
    chars.get(i).is_some_and(|x| x.1 == c)
}

/// `2021年3月5日`, `2021年3月`, `2021-03-05`, `2021/3/5`, `2021.3.5` at `i`: the date and the
/// index after it.
fn arabic(chars: &[(usize, char)], i: usize) -> Option<(ReportDate, usize)> {
    let (year, n) = number(chars, i, 4)?;
    if n != 4 || !(1900..=2100).contains(&year) {
        return None;
    }
    let mut j = skip_spaces(chars, i + 4);
    let sep = chars.get(j)?.1;
    if !matches!(sep, '年' | '-' | '/' | '.' | '－' | '／') {
        return None;
    }
    j = skip_spaces(chars, j + 1);
    let (month, n) = number(chars, j, 2)?;
    j = skip_spaces(chars, j + n);
    let year = year as i32;
    if sep == '年' {
        if !at(chars, j, '月') {
            return None;
        }
        let after_month = j + 1;
        let k = skip_spaces(chars, after_month);
        if let Some((day, n)) = number(chars, k, 2) {
            let k2 = skip_spaces(chars, k + n);
            if (at(chars, k2, '日') || at(chars, k2, '号'))
                && let Some(d) = NaiveDate::from_ymd_opt(year, month, day)
            {
                return Some((ReportDate::day(d), k2 + 1));
            }
        }
        let d = NaiveDate::from_ymd_opt(year, month, 1)?;
        return Some((ReportDate { date: d, precision: Precision::Month }, after_month));
    }
    if !at(chars, j, sep) {
        return None;
    }
    let (day, n) = number(chars, j + 1, 2)?;
    let end = j + 1 + n;
    // "2021.3.5.1" is a section number, not a date.
    if at(chars, end, sep) && chars.get(end + 1).is_some_and(|c| digit(c.1).is_some()) {
        return None;
    }
    let d = NaiveDate::from_ymd_opt(year, month, day)?;
    Some((ReportDate::day(d), end))
}

/// A Chinese numeral digit as years are written (二〇二一).
fn han_digit(c: char) -> Option<u32> {
    Some(match c {
        '〇' | '○' | '零' | 'Ｏ' | 'O' => 0,
        '一' => 1,
        '二' => 2,
        '三' => 3,
        '四' => 4,
        '五' => 5,
        '六' => 6,
        '七' => 7,
        '八' => 8,
        '九' => 9,
        _ => return None,
    })
}

/// 一 … 三十一 as months and days are written: (value, chars read).
fn han_number(chars: &[(usize, char)], i: usize) -> Option<(u32, usize)> {
    let d = |k: usize| chars.get(k).and_then(|c| han_digit(c.1)).filter(|&v| v > 0);
    let ten = |k: usize| at(chars, k, '十');
    if ten(i) {
        // 十, 十二
        return Some(match d(i + 1) {
            Some(u) => (10 + u, 2),
            None => (10, 1),
        });
    }
    let tens = d(i)?;
    if ten(i + 1) {
        // 二十, 二十五, 三十一
        return Some(match d(i + 2) {
            Some(u) => (tens * 10 + u, 3),
            None => (tens * 10, 2),
        });
    }
    Some((tens, 1))
}

/// `二〇二一年三月五日` or `二〇二一年三月` at `i`.
fn chinese(chars: &[(usize, char)], i: usize) -> Option<(ReportDate, usize)> {
    let mut year = 0;
    for k in 0..4 {
        year = year * 10 + han_digit(chars.get(i + k)?.1)?;
    }
    if !(1900..=2100).contains(&year) || !at(chars, i + 4, '年') {
        return None;
    }
    let (month, n) = han_number(chars, i + 5)?;
    let j = i + 5 + n;
    if !at(chars, j, '月') {
        return None;
    }
    if let Some((day, n)) = han_number(chars, j + 1)
        && (at(chars, j + 1 + n, '日') || at(chars, j + 1 + n, '号'))
        && let Some(d) = NaiveDate::from_ymd_opt(year as i32, month, day)
    {
        return Some((ReportDate::day(d), j + 2 + n));
    }
    let d = NaiveDate::from_ymd_opt(year as i32, month, 1)?;
    Some((ReportDate { date: d, precision: Precision::Month }, j + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn isos(text: &str) -> Vec<String> {
        find_dates(text).iter().map(|f| f.date.iso()).collect()
    }

    #[test]
    fn dates_in_every_way_reports_write_them() {
        assert_eq!(isos("2021年3月5日下午"), ["2021-03-05"]);
        assert_eq!(isos("２０２１年１２月３１号"), ["2021-12-31"]);
        assert_eq!(isos("2021 年 3 月 5 日"), ["2021-03-05"]);
        assert_eq!(isos("二〇二一年三月五日"), ["2021-03-05"]);
        assert_eq!(isos("二○二三年十二月三十一日印发"), ["2023-12-31"]);
        assert_eq!(isos("二〇二二年十月"), ["2022-10"]);
        assert_eq!(isos("发布时间：2021-03-05 10:30"), ["2021-03-05"]);
        assert_eq!(isos("2021/3/5与2021.03.06"), ["2021-03-05", "2021-03-06"]);
        assert_eq!(isos("规划期限为2021年至2035年，2025年3月完成"), ["2025-03"]);
    }

    #[test]
    fn numbers_that_are_not_dates() {
        // No 30 February: what is left is the month.
        assert_eq!(isos("2021年2月30日"), ["2021-02"]);
        assert_eq!(isos("12021年3月5日"), Vec::<String>::new());
        assert_eq!(isos("第2.1.3.4节与1.2.3"), Vec::<String>::new());
        assert_eq!(isos("2021.3.5.1条"), Vec::<String>::new());
        assert_eq!(isos("共3800年3月"), Vec::<String>::new());
        assert_eq!(isos("吞吐量2.5亿吨，2021-2025年"), Vec::<String>::new());
    }

    #[test]
    fn offsets_are_bytes_of_the_text() {
        let t = "会议于2021年3月5日召开";
        let f = find_dates(t)[0];
        assert_eq!(&t[f.start..f.end], "2021年3月5日");
    }

    #[test]
    fn a_document_is_dated_by_its_dateline_not_its_body() {
        let paras = [
            "关于加快太仓港发展的会议纪要",
            "发布时间：2023-06-12  来源：太仓市人民政府",
            "会议回顾了2019年12月28日沪通铁路开通以来的情况，要求到2035年建成现代化港口。",
        ];
        let d = date_document(&paras, "x.txt").unwrap();
        assert_eq!((d.date.iso(), d.source), ("2023-06-12".into(), DateSource::Dateline));
    }

    #[test]
    fn an_official_document_is_dated_by_its_signature() {
        let paras = [
            "苏州市人民政府关于印发港口发展规划的通知",
            "各市、区人民政府：",
            "现将规划印发给你们，请认真贯彻执行。2019年12月28日沪通铁路开通后，太仓港集装箱吞吐量持续增长。",
            "苏州市人民政府",
            "二〇二二年三月十八日",
        ];
        let d = date_document(&paras, "").unwrap();
        assert_eq!((d.date.iso(), d.source), ("2022-03-18".into(), DateSource::Signature));
    }

    #[test]
    fn a_lead_dates_a_meeting_note_and_relative_words_count_from_the_dateline() {
        let lead = ["2021年3月5日下午，市政府召开港口发展专题会议。", "会议指出……"];
        assert_eq!(date_document(&lead, "").unwrap().source, DateSource::Lead);
        let news = ["本报讯（记者 王芳）2021年3月6日 前天，太仓港集装箱航线开通。"];
        let d = date_document(&news, "").unwrap();
        assert_eq!(d.date.iso(), "2021-03-04");
        // A date the lead writes before the word is what the word is counted from, not the dateline.
        let own = ["（2021年3月6日）", "3月1日，在昨天的基础上继续推进。"];
        assert_eq!(date_document(&own, "").unwrap().date.iso(), "2021-03-06");
    }

    #[test]
    fn the_file_name_when_the_text_says_nothing() {
        let body = ["太仓港区集装箱吞吐量持续增长。"];
        assert_eq!(date_document(&body, "20210305 纪要.pdf").unwrap().date.iso(), "2021-03-05");
        assert_eq!(date_document(&body, "2022年5月 规划.docx").unwrap().date.iso(), "2022-05");
        assert_eq!(date_document(&body, "会议纪要-2020.12.01.txt").unwrap().source, DateSource::FileName);
        assert!(date_document(&body, "report-12345678.txt").is_none());
        assert!(date_document(&[], "").is_none());
    }

    #[test]
    fn typed_dates_and_month_ranges() {
        assert_eq!(ReportDate::parse(" 2021-03-05 ").unwrap().iso(), "2021-03-05");
        assert_eq!(ReportDate::parse("2021-3").unwrap().iso(), "2021-03");
        assert_eq!(ReportDate::parse("二〇二一年三月五日").unwrap().iso(), "2021-03-05");
        assert!(ReportDate::parse("March 5").is_none());
        assert!(ReportDate::parse("2021-13").is_none());
        let feb = ReportDate::parse("2024-2").unwrap();
        assert_eq!(feb.last_day().to_string(), "2024-02-29");
    }
}
