//! The `port-atlas` command: the desktop app by default, plus data tools (import, check, links, build-atlas).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use port_atlas::atlas::Atlas;
use port_atlas::geodata::{self, Severity};
use port_atlas::recipe;

#[derive(Parser, Debug)]
#[command(name = "port-atlas", version, about = "Atlas of Suzhou's port development and Taicang, linked to the report")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    app: AppArgs,
}

/// Options of the map app (the default command).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct AppArgs {
    /// A geodata folder to use instead of the built-in atlas.
    #[arg(long, global = true)]
    data: Option<PathBuf>,
    /// Documents to link instead of the built-in report: text (UTF-8, GB18030/GBK, Big5),
    /// Word .docx, PDF with a text layer, HTML; or a folder of them (read with its subfolders).
    #[arg(long = "document", global = true, value_name = "FILE|DIR")]
    documents: Vec<PathBuf>,
    /// Extra layers to load: Shapefile (.shp or .zip), GeoPackage, KML/KMZ, CSV/XLSX, GeoJSON,
    /// or an http(s) URL of GeoJSON. A file that does not say its coordinate system is asked
    /// about in the app.
    #[arg(long = "layer", id = "extra_layer", global = true)]
    layers: Vec<PathBuf>,
    /// Open a view a colleague sent (`port-atlas://view?…`, from *🔗 Copy view link*): its
    /// centre, scale, layers, selection, basemap and vector tile sources.
    #[arg(long, value_name = "LINK")]
    open: Option<String>,
    /// Render one frame with the panels to this PNG and exit.
    #[arg(long)]
    screenshot: Option<PathBuf>,
    /// Place id to frame and select, or LON,LAT[,METRES_PER_PX] to look at.
    #[arg(long)]
    view: Option<String>,
    /// Window size, e.g. 1600x1000.
    #[arg(long, value_parser = parse_size)]
    size: Option<(u32, u32)>,
    /// Label language: hant, hans or en.
    #[arg(long, default_value = "hant")]
    lang: String,
    /// Pan the map for SECONDS once loaded, print load and frame-time statistics as JSON, exit.
    #[arg(long, value_name = "SECONDS")]
    pan_benchmark: Option<f32>,
    /// Open in presenter mode: the document as steps, full screen.
    #[arg(long)]
    present: bool,
    /// Open in editing mode: correct features and draw new ones (saved to the data folder's
    /// edits.geojson, or the platform data folder for the built-in atlas).
    #[arg(long, conflicts_with = "present")]
    edit: bool,
    /// With --present: the step to open at (1-based); with --screenshot, the step to render.
    #[arg(long)]
    step: Option<usize>,
    /// Pixel density of the window and screenshots: 2 gives 2x images (e.g. --size 1920x1080
    /// --scale-factor 2 renders a 3840x2160 slide).
    #[arg(long, default_value_t = 1.0)]
    scale_factor: f32,
    /// With --pan-benchmark: the zoom to pan at, in metres per pixel.
    #[arg(long, value_name = "M_PER_PX")]
    pan_scale: Option<f64>,
    #[command(flatten)]
    basemap: BasemapArgs,
    /// Tile cache folder (default: the platform cache folder, e.g. ~/.cache/port-atlas/tiles).
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
}

/// The basemap flags, shared by the app and `export`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct BasemapArgs {
    /// Raster basemap: a built-in name (osm, carto-light, esri-imagery, gaode, none) or an XYZ
    /// URL template such as https://tile.example.org/{z}/{x}/{y}.png ({s} for subdomains a-c).
    #[arg(long, value_name = "NAME_OR_URL_TEMPLATE")]
    basemap: Option<String>,
    /// The CRS a --basemap template's tiles are drawn in: wgs84 (default) or gcj02 (most
    /// Chinese services), which the app shifts onto WGS84.
    #[arg(long, value_name = "CRS")]
    basemap_crs: Option<String>,
    /// Attribution text for a --basemap template, shown on the map.
    #[arg(long, value_name = "TEXT")]
    basemap_attribution: Option<String>,
}

impl BasemapArgs {
    fn source(&self) -> Result<Option<port_atlas::tiles::TileSource>> {
        let crs = self.basemap_crs.as_deref().map(str::parse).transpose()?;
        match &self.basemap {
            Some(spec) => port_atlas::tiles::resolve_source(spec, crs, self.basemap_attribution.as_deref())
                .with_context(|| format!("--basemap {spec}")),
            None => Ok(None),
        }
    }
}

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s.split_once(['x', 'X']).ok_or_else(|| format!("{s:?}: expected WIDTHxHEIGHT, e.g. 1600x1000"))?;
    let w: u32 = w.trim().parse().map_err(|_| format!("{s:?}: bad width"))?;
    let h: u32 = h.trim().parse().map_err(|_| format!("{s:?}: bad height"))?;
    if !(200..=8192).contains(&w) || !(200..=8192).contains(&h) {
        return Err(format!("{s:?}: width and height must be 200..8192"));
    }
    Ok((w, h))
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Convert a planner's file to a WGS84 GeoJSON layer: Shapefile (also zipped), GeoPackage,
    /// KML/KMZ, CSV/XLSX with coordinate columns, or GeoJSON.
    Import {
        input: PathBuf,
        #[arg(long)]
        out: PathBuf,
        /// The table (GeoPackage), Shapefile (zip), folder (KML) or sheet to read.
        #[arg(long)]
        layer: Option<String>,
        /// The input's coordinate system when the file does not say it (or says it wrongly):
        /// EPSG:NNNN (e.g. EPSG:4549 for CGCS2000 Gauss-Krüger CM 120E), wgs84, cgcs2000, gcj02,
        /// bd09, or a proj string with +towgs84 for Xi'an 1980 / Beijing 1954.
        #[arg(long)]
        from_crs: Option<String>,
        /// Attribute text encoding (utf-8, gbk, gb18030, big5, 936, ...), overriding .cpg and
        /// detection.
        #[arg(long)]
        encoding: Option<String>,
        /// Overwrite OUT if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Validate a geodata folder (the built-in atlas if none given). Exit code 1 on errors.
    Check { dir: Option<PathBuf> },
    /// Print every place and every passage with its mentions.
    Links {
        #[arg(long)]
        json: bool,
    },
    /// Export layers for QGIS: GeoJSON per layer, one styled GeoPackage with passages and links,
    /// and a QGIS project.
    Export {
        #[arg(long)]
        out: PathBuf,
        /// Layer ids, comma-separated (default: all).
        #[arg(long, value_delimiter = ',')]
        layers: Vec<String>,
        /// Formats, comma-separated: geojson, gpkg, qgs (a QGIS project over the GeoPackage).
        #[arg(long, value_delimiter = ',', default_value = "geojson,gpkg,qgs")]
        format: Vec<port_atlas::export::Format>,
        /// Replace files that already exist in OUT.
        #[arg(long)]
        force: bool,
        /// A basemap for the QGIS project (an XYZ layer; WGS84 sources only).
        #[command(flatten)]
        basemap: BasemapArgs,
        /// The GeoPackage's and project's coordinate system, e.g. EPSG:4549 (CGCS2000 3-degree
        /// Gauss-Krüger CM 120E); GeoJSON files stay WGS84.
        #[arg(long, default_value = "EPSG:4326")]
        crs: String,
    },
    /// Print the presentation steps of a document: passage line, places and view bounds.
    Story {
        #[arg(long)]
        json: bool,
    },
    /// Write a synthetic layer of many small polygons (for benchmarks).
    Synth {
        #[arg(long, default_value_t = 100_000)]
        polygons: usize,
        #[arg(long, default_value_t = 20)]
        vertices: usize,
        /// Features as a planner's layer has them: `name`, `landuse`, `area_m2`, no atlas
        /// attributes (the realistic case for load benchmarks).
        #[arg(long)]
        planner: bool,
        #[arg(long)]
        out: PathBuf,
    },
    /// Write a folder of generated reports (text in UTF-8 and GBK, HTML pages), dated over ten
    /// years and naming the region's towns: for `--document DIR` load tests and benchmarks.
    SynthReports {
        #[arg(long, default_value_t = 1000)]
        count: usize,
        #[arg(long)]
        out: PathBuf,
    },
    /// Rebuild the atlas layers from the raw sources by recipe.
    BuildAtlas {
        /// Folder of raw sources (vendored in the repository).
        #[arg(long, default_value = "geodata/sources")]
        sources: PathBuf,
        #[arg(long, default_value = "geodata/recipes.json")]
        recipes: PathBuf,
        #[arg(long, default_value = "geodata")]
        out: PathBuf,
    },
}

fn main() -> ExitCode {
    let started = std::time::Instant::now();
    tune_malloc();
    // jieba's dictionary (about 0.2 s to load) is needed once the first report links: loading it
    // beside the layers' parsing keeps it off the path to the first frame.
    std::thread::spawn(port_atlas::text::segment::warm);
    let cli = Cli::parse();
    let result = match cli.command {
        None => run_app(cli.app, started),
        Some(Command::Import { input, out, layer, from_crs, encoding, force }) => {
            import(&input, &out, ImportArgs { layer, from_crs, encoding }, force)
        }
        Some(Command::Check { dir }) => check(dir.as_deref()),
        Some(Command::Links { json }) => links(&cli.app, json),
        Some(Command::BuildAtlas { sources, recipes, out }) => build_atlas(&sources, &recipes, &out),
        Some(Command::Export { out, layers, format, force, basemap, crs }) => basemap.source().and_then(|basemap| {
            let crs = port_atlas::export::export_crs(&crs).map_err(anyhow::Error::msg)?;
            let atlas = load_atlas_with_layers(&cli.app)?;
            let vector_tiles = export_vector_tiles(&atlas, &cli.app.layers)?;
            let opts =
                port_atlas::export::ExportOptions { out, layers, formats: format, force, basemap, crs, vector_tiles };
            let report = port_atlas::export::export(&atlas, &opts)?;
            for f in &report.files {
                eprintln!("wrote {}", f.display());
            }
            for n in &report.notes {
                eprintln!("note: {n}");
            }
            Ok(ExitCode::SUCCESS)
        }),
        Some(Command::Story { json }) => story(&cli.app, json),
        Some(Command::SynthReports { count, out }) => synth_reports(count, &out),
        Some(Command::Synth { polygons, vertices, planner, out }) => {
            let text = if planner {
                port_atlas::synth::planner_geojson(&port_atlas::synth::planner_polygons(polygons, vertices.max(3), 7))
            } else {
                port_atlas::synth::polygons(polygons, vertices.max(3), 7).to_geojson_string()
            };
            geodata::write_atomic(&out, text.as_bytes())
                .with_context(|| format!("{}: cannot write", out.display()))
                .map(|()| ExitCode::SUCCESS)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("port-atlas: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// glibc's malloc, set for an app whose large buffers (tile meshes, decoded tiles, frames) come
/// and go on many threads. By default each thread may get its own arena, and the threshold for
/// giving a large block its own mapping rises as such blocks are freed, so freed tiles stay
/// resident in arenas. A fixed threshold hands every block over 256 KiB back to the system when
/// it is freed, and four arenas bound the spread. Peak resident memory of the city-scale tile
/// bench fell by about 30 MiB (README, "Vector tiles").
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_malloc() {
    // SAFETY: mallopt only sets allocator parameters; it runs first in main, before any thread.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
        libc::mallopt(libc::M_ARENA_MAX, 4);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_malloc() {}

fn load_atlas(data: Option<&Path>, documents: &[PathBuf]) -> Result<Atlas> {
    let mut atlas = match data {
        Some(dir) => Atlas::from_dir(dir)?,
        None => {
            let mut atlas = Atlas::builtin();
            if let Some(path) = Atlas::overlay_path() {
                atlas.use_overlay(&path);
            }
            // The planner's corrections and drawings, kept apart from the built-in data.
            if let Some(path) = Atlas::user_edits_path() {
                atlas.use_edits(&path);
            }
            if let Some(path) = Atlas::config_date_store() {
                atlas.use_date_store(&path);
            }
            atlas
        }
    };
    if !documents.is_empty() {
        atlas.replace_documents(documents)?;
    }
    Ok(atlas)
}

/// The atlas with the `--layer` files added, for commands without the app (export, links): a
/// file that needs an answer (its coordinate system) is an error that says how to give it.
fn load_atlas_with_layers(args: &AppArgs) -> Result<Atlas> {
    let mut atlas = load_atlas(args.data.as_deref(), &args.documents)?;
    let (_, files) = split_layers(&args.layers);
    for path in &files {
        let opened = port_atlas::formats::open(path, &Default::default()).map_err(|e| match e {
            port_atlas::formats::FormatError::NeedsCrs { .. } => {
                anyhow::anyhow!(
                    "{e}\n(convert it first: port-atlas import {} --out FILE.geojson --from-crs ...)",
                    path.display()
                )
            }
            other => other.into(),
        })?;
        for d in &opened.diagnostics {
            eprintln!("{d}");
        }
        for layer in opened.layers {
            atlas.add_layer(layer);
        }
    }
    Ok(atlas)
}

/// The vector tile sources of `layers.json` (with their looks) and of `--layer`, described for the
/// QGIS project; a source that cannot be opened is an error naming it.
fn export_vector_tiles(atlas: &Atlas, args: &[PathBuf]) -> Result<Vec<port_atlas::qgis::VectorTileExport>> {
    use port_atlas::tiles::vector::{VectorSpec, source::describe_blocking, style::SourceLayerStyle};
    let saved =
        atlas.tile_layers.iter().filter_map(|t| Some((VectorSpec::recognise(&t.source)?, t.styles.clone(), t.visible)));
    let given = split_layers(args).0.into_iter().map(|s| (s, Vec::new(), true));
    let mut out = Vec::new();
    for (spec, saved_styles, visible) in saved.chain(given) {
        let info = describe_blocking(&spec)?;
        // Saved looks, else the app's defaults for each layer the source lists.
        let styles = if saved_styles.is_empty() {
            info.layers.iter().enumerate().map(|(i, l)| SourceLayerStyle::new(&l.id, i, l.field_names())).collect()
        } else {
            saved_styles
        };
        out.push(port_atlas::qgis::VectorTileExport::new(&info, styles, visible));
    }
    Ok(out)
}

/// `--layer` arguments split into vector tile sources (TileJSON and Martin URLs, PMTiles, MBTiles,
/// `{z}/{x}/{y}` templates) and files or URLs for the layer readers. An extension-less URL is
/// tried as a tile source first; the app hands it to the layer reader if it answers GeoJSON.
fn split_layers(args: &[PathBuf]) -> (Vec<port_atlas::tiles::vector::VectorSpec>, Vec<PathBuf>) {
    let mut vector = Vec::new();
    let mut files = Vec::new();
    for a in args {
        match port_atlas::tiles::vector::VectorSpec::recognise(&a.to_string_lossy()) {
            Some(spec) => vector.push(spec),
            None => files.push(a.clone()),
        }
    }
    (vector, files)
}

#[cfg(feature = "app")]
fn run_app(mut args: AppArgs, started: std::time::Instant) -> Result<ExitCode> {
    // Folders of reports are read inside the app, on a worker, with progress; files at once
    // (a presentation opens on its document).
    let (folders, files): (Vec<PathBuf>, Vec<PathBuf>) = args.documents.drain(..).partition(|p| p.is_dir());
    let replace = !folders.is_empty() && files.is_empty();
    args.documents = files;
    // The atlas loads while Bevy starts (see `app::run`).
    let (data, documents) = (args.data.clone(), args.documents.clone());
    let loading = std::thread::Builder::new().name("atlas load".into()).spawn(move || -> Result<_> {
        let mut atlas = load_atlas(data.as_deref(), &documents)?;
        if replace {
            atlas.replace_documents(&[])?;
        }
        for d in &atlas.diagnostics {
            eprintln!("{d}");
        }
        Ok(atlas)
    })?;
    let atlas = move || loading.join().map_err(|_| anyhow::anyhow!("loading the atlas failed unexpectedly"))?;
    let lang = args.lang.parse().map_err(anyhow::Error::msg)?;
    let basemap = args.basemap.source()?;
    let open = args.open.as_deref().map(port_atlas::viewlink::ViewLink::parse).transpose()?;
    // The link's basemap unless one was given here.
    let basemap = match (&basemap, open.as_ref().and_then(|l| l.basemap.as_deref())) {
        (None, Some(b)) => port_atlas::tiles::resolve_source(b, None, None)?,
        _ => basemap,
    };
    let mut layer_args = args.layers.clone();
    layer_args.extend(open.iter().flat_map(|l| l.tiles.iter().map(PathBuf::from)));
    let (cli_vector, layer_files) = split_layers(&layer_args);
    let vector_layers = cli_vector.into_iter().map(port_atlas::app::layers::vector::OpenVector::new).collect();
    port_atlas::app::run(
        atlas,
        port_atlas::app::AppOptions {
            extra_layers: layer_files,
            vector_layers,
            open,
            document_folders: folders,
            screenshot: args.screenshot,
            view: args.view,
            size: args.size,
            lang,
            pan_benchmark: args.pan_benchmark,
            pan_scale: args.pan_scale,
            present: args.present || args.step.is_some(),
            edit: args.edit,
            step: args.step,
            scale_factor: args.scale_factor,
            basemap,
            cache_dir: args.cache_dir,
            started: Some(started),
        },
    )
}

#[cfg(not(feature = "app"))]
fn run_app(_args: AppArgs, _started: std::time::Instant) -> Result<ExitCode> {
    anyhow::bail!("this build has no map app (built without the `app` feature); try `port-atlas --help`")
}

/// What `import` was told about the input.
struct ImportArgs {
    layer: Option<String>,
    from_crs: Option<String>,
    encoding: Option<String>,
}

fn import(input: &std::path::Path, out: &std::path::Path, args: ImportArgs, force: bool) -> Result<ExitCode> {
    use port_atlas::formats::{self, OpenOptions};
    if out.exists() && !force {
        anyhow::bail!("{}: already exists; pass --force to overwrite it", out.display());
    }
    let opts = OpenOptions {
        layer: args.layer,
        crs: args.from_crs.as_deref().map(port_atlas::spatial::crs::SourceCrs::parse).transpose()?,
        encoding: args
            .encoding
            .as_deref()
            .map(formats::encoding::encoding_from_option)
            .transpose()
            .map_err(anyhow::Error::msg)?,
        columns: None,
    };
    let opened = formats::open(input, &opts)?;
    for d in &opened.diagnostics {
        eprintln!("{d}");
    }
    let layer = match opened.layers.as_slice() {
        [one] => one,
        many => anyhow::bail!(
            "{}: holds {} layers ({}); choose one with --layer",
            input.display(),
            many.len(),
            many.iter().map(|l| l.id.as_str()).collect::<Vec<_>>().join(", ")
        ),
    };
    geodata::write_atomic(out, layer.to_geojson_string().as_bytes())
        .with_context(|| format!("{}: cannot write", out.display()))?;
    let from = layer.provenance.as_ref().map_or_else(|| "WGS84 GeoJSON".to_string(), |p| p.summary());
    eprintln!("{}: {} features, read as {from}", out.display(), layer.features.len());
    Ok(ExitCode::SUCCESS)
}

fn check(dir: Option<&std::path::Path>) -> Result<ExitCode> {
    let atlas = match dir {
        Some(d) => Atlas::from_dir_with(d, true)?,
        None => {
            // The built-in data as this planner sees it: with their saved edits, validated too.
            let mut atlas = Atlas::builtin_checked();
            if let Some(path) = Atlas::user_edits_path() {
                atlas.use_edits(&path);
            }
            atlas
        }
    };
    let edited = port_atlas::edit::store::edited_features(&atlas.layers).len();
    if edited > 0 {
        let path = atlas.edits_path().map(|p| p.display().to_string()).unwrap_or_default();
        println!("{edited} edited features from {path}, checked with the rest");
    }
    let mut errors = 0;
    let mut warnings = 0;
    // Claims the data does not back: accuracies without a reference, sites outside their parent.
    let audit = atlas.audit();
    for d in atlas.diagnostics.iter().chain(&audit) {
        match d.severity {
            Severity::Error => errors += 1,
            Severity::Warning => warnings += 1,
        }
        println!("{d}");
    }
    let features: usize = atlas.layers.iter().map(|l| l.features.len()).sum();
    println!(
        "{} layers, {features} features, {} places, {} documents: {errors} errors, {warnings} warnings",
        atlas.layers.len(),
        atlas.gazetteer.places.len(),
        atlas.documents.len()
    );
    Ok(if errors > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

fn links(args: &AppArgs, json: bool) -> Result<ExitCode> {
    let atlas = load_atlas_with_layers(args)?;
    for d in &atlas.diagnostics {
        eprintln!("{d}");
    }
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer(&mut out, &atlas.links_json())?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(out, "{:<28} {:<8} {:<18} PASSAGES (document:line)", "PLACE", "LAYER", "NAME")?;
    for p in &atlas.gazetteer.places {
        let refs = atlas.mentions_of(&p.id);
        // The regional table's thousands of places are listed only where a document names them.
        if !p.curated && refs.is_empty() {
            continue;
        }
        let mut lines: Vec<String> = Vec::new();
        for m in refs {
            let d = &atlas.documents[m.document];
            let s = format!("{}:{}", d.id, d.passages[m.passage].line);
            if !lines.contains(&s) {
                lines.push(s);
            }
        }
        let lines = if lines.is_empty() { "-".to_string() } else { lines.join(", ") };
        writeln!(out, "{:<28} {:<8} {:<18} {}", p.id, p.layer.as_deref().unwrap_or("-"), p.name_zh_hant, lines)?;
    }
    for d in &atlas.documents {
        let date =
            d.date.map_or("undated".to_string(), |x| format!("{}, from the {}", x.date.iso(), x.source.describe()));
        writeln!(out, "\n{} ({}; {}; {date})", d.id, d.path.display(), d.format.as_str())?;
        for p in &d.passages {
            if p.mentions.is_empty() {
                continue;
            }
            let names: Vec<String> = p
                .mentions
                .iter()
                .map(|m| {
                    let doubt =
                        if m.is_uncertain() { format!(" ({:.0}%?)", m.confidence * 100.0) } else { String::new() };
                    format!("{}[{}..{}]→{}{doubt}", m.text, m.start, m.end, m.place)
                })
                .collect();
            writeln!(out, "  {:>8}: {}", p.locator(), names.join("  "))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The story of each document (the report, or every `--document FILE|DIR`): a saved story
/// beside the document when there is one, otherwise the generated steps. JSON gives the first
/// document's story at the top, as before, and every document's under `documents`.
fn story(args: &AppArgs, json: bool) -> Result<ExitCode> {
    use port_atlas::story::{self, Story};
    let atlas = load_atlas(args.data.as_deref(), &args.documents)?;
    for d in &atlas.diagnostics {
        eprintln!("{d}");
    }
    anyhow::ensure!(!atlas.documents.is_empty(), "no document to tell a story about");
    let mut stories = Vec::new();
    for (i, doc) in atlas.documents.iter().enumerate() {
        let name = doc.path.file_name().and_then(|n| n.to_str()).unwrap_or(&doc.id).to_string();
        let saved = if doc.path.starts_with(port_atlas::atlas::BUILTIN_PREFIX) {
            None
        } else {
            Story::load(&story::story_path(&doc.path), &name)?
        };
        stories.push((doc, saved.unwrap_or_else(|| story::generate(&atlas, i))));
    }
    let mut out = std::io::stdout().lock();
    if json {
        let each: Vec<serde_json::Value> = stories
            .iter()
            .map(|(doc, s)| {
                let steps: Vec<serde_json::Value> = s
                    .shown()
                    .enumerate()
                    .map(|(i, st)| {
                        serde_json::json!({
                            "step": i + 1, "line": st.line, "sentences": [st.sentences.start, st.sentences.end],
                            "places": st.places, "view": st.effective_view(), "caption": st.caption,
                        })
                    })
                    .collect();
                serde_json::json!({
                    "document": s.document, "format": doc.format.as_str(),
                    "date": doc.date.map(|x| x.date.iso()), "steps": steps,
                })
            })
            .collect();
        let mut top = each[0].clone();
        if each.len() > 1 {
            top["documents"] = serde_json::Value::Array(each);
        }
        serde_json::to_writer(&mut out, &top)?;
        writeln!(out)?;
    } else {
        for (doc, s) in &stories {
            if stories.len() > 1 {
                let date = doc.date.map_or("undated".to_string(), |x| x.date.iso());
                writeln!(out, "\n{} ({date})", doc.id)?;
            }
            for (i, st) in s.shown().enumerate() {
                let view = st
                    .effective_view()
                    .map_or("-".to_string(), |v| format!("{:.3},{:.3} {:.3},{:.3}", v[0], v[1], v[2], v[3]));
                writeln!(out, "{:>3}  line {:>3}  {:<44} {}", i + 1, st.line, view, st.places.join(" "))?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn synth_reports(count: usize, out: &std::path::Path) -> Result<ExitCode> {
    std::fs::create_dir_all(out).with_context(|| format!("{}: cannot create", out.display()))?;
    let atlas = Atlas::builtin();
    let reports = port_atlas::text::sample::reports(&atlas.gazetteer, count, 7);
    let bytes: usize = reports.iter().map(|(_, b)| b.len()).sum();
    for (name, b) in &reports {
        let path = out.join(name);
        geodata::write_atomic(&path, b).with_context(|| format!("{}: cannot write", path.display()))?;
    }
    eprintln!("{}: {} reports, {:.1} MB", out.display(), reports.len(), bytes as f64 / 1e6);
    Ok(ExitCode::SUCCESS)
}

fn build_atlas(sources: &std::path::Path, recipes: &std::path::Path, out: &std::path::Path) -> Result<ExitCode> {
    let r = recipe::load_recipes(recipes)?;
    let layers = recipe::build(&r, sources)?;
    std::fs::create_dir_all(out).with_context(|| format!("{}: cannot create", out.display()))?;
    for layer in &layers {
        let path = out.join(format!("{}.geojson", layer.id));
        geodata::write_atomic(&path, layer.to_geojson_string().as_bytes())
            .with_context(|| format!("{}: cannot write", path.display()))?;
        eprintln!("{}: {} features", path.display(), layer.features.len());
    }
    Ok(ExitCode::SUCCESS)
}
