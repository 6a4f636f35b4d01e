//! The export window: GeoJSON, GeoPackage and a QGIS project written on a worker thread.

use bevy_egui::egui;
use egui::{Color32, RichText};

use crate::app::state::AtlasRes;

/// The export window: where to, whether to overwrite, the running job and its outcome.
#[derive(Default)]
pub(super) struct ExportState {
    pub(super) open: bool,
    dir: String,
    force: bool,
    /// `--crs` as typed: EPSG:4326 unless the planner wants their projected system.
    crs: String,
    job: Option<std::thread::JoinHandle<Result<crate::export::ExportReport, String>>>,
    message: Option<(bool, String)>,
}

/// Export to a folder (GeoJSON, GeoPackage, QGIS project) on a worker thread, with a spinner
/// while it runs and the outcome when it ends. Existing files are replaced only when asked.
pub(super) fn export_window(
    ctx: &egui::Context,
    res: &AtlasRes,
    st: &mut ExportState,
    basemap: Option<&crate::tiles::TileSource>,
    vector: Option<&crate::app::layers::vector::VectorLayers>,
) {
    if st.job.as_ref().is_some_and(|j| j.is_finished())
        && let Some(job) = st.job.take()
    {
        st.message = Some(match job.join() {
            Ok(Ok(report)) => {
                let mut m = format!("Wrote {} files to {}", report.files.len(), st.dir);
                for n in &report.notes {
                    m.push_str(&format!("\nNote: {n}"));
                }
                (true, m)
            }
            Ok(Err(e)) => (false, e),
            Err(_) => (false, "the export stopped unexpectedly".into()),
        });
    }
    if !st.open {
        return;
    }
    if st.dir.is_empty() {
        st.dir = std::env::current_dir()
            .map(|d| d.join("port-atlas-export").display().to_string())
            .unwrap_or_else(|_| "port-atlas-export".into());
    }
    let mut open = st.open;
    egui::Window::new("Export for QGIS").open(&mut open).default_width(460.0).show(ctx, |ui| {
        ui.label("GeoJSON per layer, one GeoPackage with styles, passages and links, and a QGIS project.");
        if let Some(b) = basemap {
            let how = if b.crs == crate::proj::Crs::Wgs84 {
                String::new()
            } else {
                format!(", moved from {} by one offset where that fits", b.crs.title())
            };
            ui.weak(format!("The project includes the basemap ({}) as an XYZ layer{how}.", b.host()));
        }
        ui.horizontal(|ui| {
            ui.label("Folder:");
            ui.add(egui::TextEdit::singleline(&mut st.dir).desired_width(320.0));
        });
        if st.crs.is_empty() {
            st.crs = "EPSG:4326".into();
        }
        ui.horizontal(|ui| {
            ui.label("GeoPackage CRS:");
            ui.add(egui::TextEdit::singleline(&mut st.crs).hint_text("EPSG:4549").desired_width(120.0));
            ui.weak("e.g. EPSG:4549 (CGCS2000 GK CM 120E)");
        });
        let crs = crate::export::export_crs(&st.crs);
        if let Err(e) = &crs {
            ui.colored_label(Color32::from_rgb(190, 60, 40), e);
        }
        let crs = crs.unwrap_or(None);
        ui.checkbox(&mut st.force, "replace files that already exist");
        let running = st.job.is_some();
        ui.horizontal(|ui| {
            if ui.add_enabled(!running, egui::Button::new("Export")).clicked() {
                let atlas = res.atlas.clone();
                let opts = crate::export::ExportOptions {
                    out: std::path::PathBuf::from(st.dir.trim()),
                    layers: Vec::new(),
                    formats: vec![crate::export::Format::GeoJson, crate::export::Format::Qgs],
                    force: st.force,
                    basemap: basemap.cloned(),
                    crs: crs.clone(),
                    vector_tiles: vector
                        .map(|vl| {
                            vl.layers
                                .iter()
                                .filter_map(|l| {
                                    Some(crate::qgis::VectorTileExport::new(
                                        l.info.as_ref()?,
                                        l.styles.clone(),
                                        l.visible,
                                    ))
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                };
                st.message = None;
                st.job = Some(std::thread::spawn(move || {
                    crate::export::export(&atlas, &opts).map_err(|e| match e {
                        crate::export::ExportError::Exists(p) => {
                            format!(
                                "{} already exists: tick \"replace files that already exist\" to overwrite",
                                p.display()
                            )
                        }
                        other => other.to_string(),
                    })
                }));
            }
            if running {
                ui.spinner();
                ui.label("exporting…");
            }
        });
        if let Some((ok, msg)) = &st.message {
            let color = if *ok { Color32::from_rgb(20, 110, 40) } else { Color32::from_rgb(170, 30, 20) };
            ui.label(RichText::new(msg).color(color));
        }
    });
    st.open = open;
}
