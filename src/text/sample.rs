//! Generated report folders for benchmarks and load tests: meeting notes, notices and news
//! pages about the region's towns, dated over ten years, in the forms an office's folder holds
//! them (UTF-8 and GBK text, HTML pages). Not data: nothing here is shown as a real report.

use chrono::{Duration, NaiveDate};

use crate::gazetteer::Gazetteer;
use crate::text::region::Level;

/// A tiny deterministic generator (xorshift), so a seed always gives the same folder.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.next() as usize % v.len()]
    }
}

/// `count` reports as (file name, bytes), about the towns of the gazetteer's townships around
/// Suzhou, each dated in its text between 2015 and 2024.
pub fn reports(g: &Gazetteer, count: usize, seed: u64) -> Vec<(String, Vec<u8>)> {
    let towns: Vec<usize> = (0..g.places.len())
        .filter(|&i| {
            g.places[i].level == Some(Level::Township)
                && g.places[i].admin_code.as_deref().is_some_and(|c| c.starts_with("3205") || c.starts_with("31"))
        })
        .collect();
    if towns.is_empty() {
        return Vec::new();
    }
    let name = |i: usize| g.places[i].name_zh_hans.clone();
    let parent = |i: usize| g.places[i].parent.map(name).unwrap_or_default();
    let mut rng = Rng(seed.max(1));
    let start = NaiveDate::from_ymd_opt(2015, 1, 1).unwrap_or_default();
    (0..count)
        .map(|k| {
            let date = start + Duration::days((rng.next() % 3650) as i64);
            let a = *rng.pick(&towns);
            let title = format!("关于{}{}港口与产业发展的会议纪要", parent(a), name(a));
            let mut paragraphs = vec![title.clone(), format!("（{}）", date.format("%Y年%-m月%-d日"))];
            let n = 6 + rng.next() as usize % 14;
            for _ in 0..n {
                let mut p = String::new();
                for _ in 0..3 + rng.next() % 4 {
                    let (b, c) = (*rng.pick(&towns), *rng.pick(&towns));
                    let s = match rng.next() % 5 {
                        0 => format!("会议听取了{}{}关于沿江港口建设的汇报，要求加快集疏运体系建设。", parent(b), name(b)),
                        1 => format!("推进{}与{}产业协同发展，共建长三角先进制造业基地。", name(b), name(c)),
                        2 => format!("{}的老镇区保护更新要坚持规划引领，完善交通和公共服务设施。", name(b)),
                        3 => format!("加强与{}{}的合作，推动物流园区和内河港区联动。", parent(c), name(c)),
                        _ => "会议强调，要认真落实市委市政府部署，压实责任，确保各项任务按期完成。".to_string(),
                    };
                    p.push_str(&s);
                }
                paragraphs.push(p);
            }
            let stem = format!("{k:04}-{}", name(a));
            match k % 5 {
                3 => {
                    let text = paragraphs.join("\r\n");
                    let (bytes, _, _) = encoding_rs::GB18030.encode(&text);
                    (format!("{stem}-gbk.txt"), bytes.into_owned())
                }
                4 => {
                    let body: String = paragraphs[2..].iter().map(|p| format!("<p>{p}</p>\n")).collect();
                    let html = format!(
                        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}</title></head><body>\n<h1>{title}</h1>\n<div class=\"info\">发布时间：{}</div>\n{body}</body></html>\n",
                        date.format("%Y-%m-%d")
                    );
                    (format!("{stem}.html"), html.into_bytes())
                }
                _ => (format!("{stem}.txt"), (paragraphs.join("\n") + "\n").into_bytes()),
            }
        })
        .collect()
}
