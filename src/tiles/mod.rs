//! Raster basemap tiles: XYZ tile arithmetic (`id`), URL templates and the built-in sources
//! (`source`), GCJ-02 tile meshes (`mesh`), a size-limited disk cache with server-independent
//! keys and per-tile freshness (`cache`), and the tile thread that fetches them (`fetch`).

pub mod cache;
pub mod fetch;
pub mod id;
pub mod mesh;
pub mod source;
pub mod vector;

pub use cache::*;
pub use id::*;
pub use mesh::*;
pub use source::*;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proj::Crs;

    #[test]
    fn tile_of_taicang_port_and_its_bounds() {
        let t = TileId::containing(121.2333, 31.6167, 12);
        // Slippy-map formula by hand: x = (lon+180)/360*2^z, y from the Mercator latitude.
        let n = 4096.0f64;
        let x = ((121.2333 + 180.0) / 360.0 * n).floor() as u32;
        let lat = 31.6167f64.to_radians();
        let y = ((1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor() as u32;
        assert_eq!((t.x, t.y), (x, y));
        let [w, s, e, nn] = t.bounds();
        assert!(w <= 121.2333 && 121.2333 <= e && s <= 31.6167 && 31.6167 <= nn);
    }

    #[test]
    fn zoom_and_covering_are_sane() {
        assert_eq!(zoom_for(156_543.03, 19), 0);
        assert_eq!(zoom_for(38.2, 19), 12);
        assert_eq!(zoom_for(0.01, 17), 17);
        let tiles = covering([120.9, 31.3, 121.4, 31.8], 11, 100);
        assert!(tiles.len() >= 4 && tiles.len() <= 16, "{}", tiles.len());
        let centre = TileId::containing(121.15, 31.55, 11);
        assert!(tiles[..4].contains(&centre), "nearest first");
        assert_eq!(covering([120.0, 30.0, 122.0, 33.0], 14, 10).len(), 10, "capped");
    }

    #[test]
    fn templates_validate_and_rotate_subdomains() {
        let s = TileSource::new("https://{s}.tile.example.org/{z}/{x}/{y}.png", &[], Crs::Wgs84, "© OSM").unwrap();
        let a = s.url(TileId { z: 3, x: 1, y: 2 });
        let b = s.url(TileId { z: 3, x: 2, y: 2 });
        assert_eq!(a, "https://a.tile.example.org/3/1/2.png");
        assert_eq!(b, "https://b.tile.example.org/3/2/2.png");
        assert!(matches!(TileSource::new("ftp://x/{z}/{x}/{y}", &[], Crs::Wgs84, ""), Err(TemplateError::NotHttp(_))));
        assert!(matches!(
            TileSource::new("https://x/{z}/{x}.png", &[], Crs::Wgs84, ""),
            Err(TemplateError::MissingPlaceholder(_))
        ));
        // TMS rows count from the south; a quadkey spells the tile's path down the quadtree.
        let tms = TileSource::new("https://x/{z}/{x}/{-y}.png", &[], Crs::Wgs84, "").unwrap();
        assert_eq!(tms.url(TileId { z: 3, x: 1, y: 2 }), "https://x/3/1/5.png");
        assert_eq!(tms.url(TileId { z: 0, x: 0, y: 0 }), "https://x/0/0/0.png");
        let q = TileSource::new("https://x/tiles/a{q}.jpeg?g=1", &[], Crs::Wgs84, "").unwrap();
        // Bing Maps' documented example: tile (3, 5) at level 3 is quadkey 213.
        assert_eq!(q.url(TileId { z: 3, x: 3, y: 5 }), "https://x/tiles/a213.jpeg?g=1");
    }

    #[test]
    fn command_line_sources_resolve() {
        assert_eq!(resolve_source("none", None, None), Ok(None));
        let osm = resolve_source("OSM", None, None).unwrap().unwrap();
        assert!(osm.template.contains("openstreetmap") && osm.attribution.contains("OpenStreetMap"));
        assert_eq!(osm.max_parallel, 2, "the OSM tile policy");
        let gaode = resolve_source("gaode", None, None).unwrap().unwrap();
        assert_eq!((gaode.crs, gaode.subdomains.len()), (Crs::Gcj02, 4));
        let t = resolve_source("http://127.0.0.1:8000/{z}/{x}/{y}.png", Some(Crs::Gcj02), None).unwrap().unwrap();
        assert_eq!((t.crs, t.attribution.as_str()), (Crs::Gcj02, "127.0.0.1:8000"));
        assert!(matches!(resolve_source("satellite", None, None), Err(SourceError::Unknown(..))));
        assert!(matches!(resolve_source("http://x/{z}.png", None, None), Err(SourceError::Template(_))));
    }

    #[test]
    fn gcj02_tiles_move_back_by_the_offset() {
        let s = TileSource::new("https://gcj.example/{z}/{x}/{y}.png", &[], Crs::Gcj02, "").unwrap();
        let t = TileId::containing(121.2333, 31.6167, 16);
        let raw = t.bounds();
        let placed = s.placed_bounds(t);
        let d = crate::proj::distance_m((raw[0], raw[1]), (placed[0], placed[1]));
        assert!((400.0..600.0).contains(&d), "GCJ-02 shift {d} m");
        // Westward: GCJ-02 is east of WGS84 here.
        assert!(placed[0] < raw[0]);
    }

    #[test]
    fn cache_keys_ignore_server_text_and_eviction_keeps_the_limit() {
        let dir = std::env::temp_dir().join(format!("port-atlas-tiles-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let cache = TileCache::new(&dir, 2500);
        let src = TileSource::new("https://x.example/{z}/{x}/{y}.png?key=../../etc", &[], Crs::Wgs84, "").unwrap();
        let p = cache.path(&src, TileId { z: 1, x: 0, y: 1 });
        assert!(p.starts_with(&dir) && !p.to_string_lossy().contains(".."), "{}", p.display());
        let meta = TileMeta::default();
        let file_len = CachedTile::encode(&[0; 1000], &meta).len() as u64;
        for x in 0..5 {
            cache.put(&src, TileId { z: 5, x, y: 0 }, &[x as u8; 1000], &meta).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(cache.size(), 5 * file_len);
        assert_eq!(cache.evict().unwrap(), 2 * file_len, "down to 90% of the limit");
        assert!(cache.size() <= 2500, "{}", cache.size());
        assert_eq!(cache.get(&src, TileId { z: 5, x: 4, y: 0 }).unwrap().bytes, vec![4u8; 1000]);
        assert!(cache.get(&src, TileId { z: 5, x: 0, y: 0 }).is_none(), "oldest evicted");
        cache.clear().unwrap();
        assert_eq!(cache.size(), 0);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn tile_files_keep_freshness_and_validators_and_refuse_damaged_headers() {
        use crate::http::Validators;
        let validators =
            Validators { etag: Some("\"v1 a\"".into()), last_modified: Some("Wed, 21 Oct 2026 07:28:00 GMT".into()) };
        let meta = TileMeta { fetched: 1_790_000_000, fresh_for: 3600, validators };
        let png = b"\x89PNG\r\n\x1a\n\n\nbody with blank lines";
        let file = CachedTile::encode(png, &meta);
        assert_eq!(CachedTile::decode(file.clone()), Some(CachedTile { bytes: png.to_vec(), meta: meta.clone() }));
        assert!(meta.is_fresh(1_790_000_000 + 3599) && !meta.is_fresh(1_790_000_000 + 3600));
        assert!(!meta.is_fresh(1_789_000_000), "fetched in the future: the clock went back");
        // A file from before headers: the image as it was, stale, nothing to revalidate with.
        let old = CachedTile::decode(png.to_vec()).unwrap();
        assert_eq!((old.bytes.as_slice(), old.meta.fetched, old.meta.validators.is_empty()), (&png[..], 0, true));
        assert!(!old.meta.is_fresh(unix_now()));
        // Cut off in the header, a bad number, a control character: damaged.
        assert_eq!(CachedTile::decode(file[..TILE_MAGIC.len() + 8].to_vec()), None);
        let bad = String::from_utf8_lossy(&file).replace("fresh-for 3600", "fresh-for soon");
        assert_eq!(CachedTile::decode(bad.into_bytes()), None);
        let mut ctl = TILE_MAGIC.to_vec();
        ctl.extend_from_slice(b"fetched 1\nfresh-for 1\netag a\x07b\n\nX");
        assert_eq!(CachedTile::decode(ctl), None);
        // A value that could not have come from an HTTP header is not written.
        let evil = TileMeta {
            validators: Validators { etag: Some("a\nfresh-for 999999999".into()), last_modified: None },
            ..meta
        };
        let back = CachedTile::decode(CachedTile::encode(b"x", &evil)).unwrap();
        assert_eq!((back.meta.fresh_for, back.meta.validators.etag), (3600, None));
    }
}
