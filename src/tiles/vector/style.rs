//! How a source layer of a vector tile source is drawn, as the app edits it, `layers.json` saves
//! it and the QGIS export writes it: one record, no Bevy.

use serde::{Deserialize, Serialize};

/// The look of one source layer ("parcels", "roads").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceLayerStyle {
    /// The source layer's name in the tiles.
    pub name: String,
    #[serde(default = "yes")]
    pub visible: bool,
    pub fill: [u8; 3],
    pub stroke: [u8; 3],
    /// Fill opacity; outlines and lines are drawn more opaque.
    pub opacity: f32,
    /// Outline and line width in pixels.
    pub width: f32,
    /// Point symbol diameter in pixels.
    pub point_px: f32,
    /// Attribute labels are read from (none: no labels).
    #[serde(default)]
    pub label_field: Option<String>,
    /// Colours by the values of this attribute (see [`SourceLayerStyle::categories`]).
    #[serde(default)]
    pub category_field: Option<String>,
    /// The values coloured, in order, each with its colour; the rest take `fill`.
    #[serde(default)]
    pub categories: Vec<(String, [u8; 3])>,
    /// Fields the source lists for this layer (or its tiles showed); not saved.
    #[serde(skip)]
    pub fields: Vec<String>,
}

fn yes() -> bool {
    true
}

/// A colour per source layer, in order, readable on the light basemap and on imagery.
const PALETTE: [[u8; 3]; 6] = [
    [0xd9, 0x8c, 0x3f],
    [0x3f, 0x7f, 0xbf],
    [0x5a, 0xa0, 0x5a],
    [0xa0, 0x5a, 0xb4],
    [0xc0, 0x4b, 0x4b],
    [0x4b, 0xa6, 0xa6],
];

/// Colours for categories: ColorBrewer's Set2 and Dark2, distinct on a light map.
pub const CATEGORY_COLOURS: [[u8; 3]; 12] = [
    [0x66, 0xc2, 0xa5],
    [0xfc, 0x8d, 0x62],
    [0x8d, 0xa0, 0xcb],
    [0xe7, 0x8a, 0xc3],
    [0xa6, 0xd8, 0x54],
    [0xff, 0xd9, 0x2f],
    [0xe5, 0xc4, 0x94],
    [0x1b, 0x9e, 0x77],
    [0xd9, 0x5f, 0x02],
    [0x75, 0x70, 0xb3],
    [0xe7, 0x29, 0x8a],
    [0x66, 0xa6, 0x1e],
];

impl SourceLayerStyle {
    /// The default look of the `index`-th source layer of a source.
    pub fn new(name: &str, index: usize, fields: Vec<String>) -> SourceLayerStyle {
        let fill = PALETTE[index % PALETTE.len()];
        SourceLayerStyle {
            name: name.into(),
            visible: true,
            fill,
            stroke: fill.map(|c| (c as f32 * 0.6) as u8),
            opacity: 0.35,
            width: 1.0,
            point_px: 7.0,
            label_field: name_field(&fields),
            category_field: None,
            categories: Vec::new(),
            fields,
        }
    }

    /// A feature's class for the renderer's palette: 0 for the layer's own colour, 1.. for the
    /// categories in order.
    pub fn class_of(&self, value: Option<&str>) -> u8 {
        let Some(v) = value else { return 0 };
        self.categories.iter().position(|(c, _)| c == v).map_or(0, |i| (i + 1) as u8)
    }

    /// Categories for `values` (with their counts): the most frequent first, at most as many as
    /// there are colours; the rest keep the layer's colour.
    pub fn categorise(values: impl IntoIterator<Item = (String, usize)>) -> Vec<(String, [u8; 3])> {
        let mut v: Vec<(String, usize)> = values.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v.into_iter().take(CATEGORY_COLOURS.len()).enumerate().map(|(i, (s, _))| (s, CATEGORY_COLOURS[i])).collect()
    }
}

/// The field features are named by, from a source layer's fields: a name in Chinese first, then
/// any name, then a title; none when nothing looks like one.
///
/// ```
/// use port_atlas::tiles::vector::style::name_field;
/// let f = |v: &[&str]| name_field(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
/// assert_eq!(f(&["area_m2", "name", "name_zh"]), Some("name_zh".into()));
/// assert_eq!(f(&["id", "NAME"]), Some("NAME".into()));
/// assert_eq!(f(&["id", "地块名称"]), Some("地块名称".into()));
/// assert_eq!(f(&["id", "landuse"]), None);
/// ```
pub fn name_field(fields: &[String]) -> Option<String> {
    let rank = |f: &str| {
        let l = f.to_ascii_lowercase();
        match l.as_str() {
            "name_zh" | "name:zh" | "name_zh_hans" | "name_zh_hant" | "名称" | "名稱" => Some(0),
            "name" => Some(1),
            _ if f.contains("名称") || f.contains("名稱") => Some(1),
            _ if l.starts_with("name") => Some(2),
            "title" | "label" => Some(3),
            _ => None,
        }
    };
    fields.iter().filter_map(|f| rank(f).map(|r| (r, f))).min_by_key(|(r, _)| *r).map(|(_, f)| f.clone())
}

/// A vector tile source as `layers.json` keeps it: where it is and how each of its layers looks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TileLayerEntry {
    /// URL, or a file path (relative to the data folder when inside it).
    pub source: String,
    #[serde(default = "yes")]
    pub visible: bool,
    #[serde(default)]
    pub styles: Vec<SourceLayerStyle>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_take_the_commonest_values_and_classes_follow_them() {
        let c =
            SourceLayerStyle::categorise([("工业".to_string(), 5), ("居住".to_string(), 9), ("绿地".to_string(), 5)]);
        let names: Vec<&str> = c.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(names, ["居住", "工业", "绿地"]);
        let s = SourceLayerStyle { categories: c, ..SourceLayerStyle::new("parcels", 0, vec![]) };
        assert_eq!(
            (s.class_of(Some("居住")), s.class_of(Some("绿地")), s.class_of(Some("商业")), s.class_of(None)),
            (1, 3, 0, 0)
        );
        let json = serde_json::to_string(&s).unwrap();
        let back: SourceLayerStyle = serde_json::from_str(&json).unwrap();
        assert_eq!(back, SourceLayerStyle { fields: vec![], ..s });
    }
}
