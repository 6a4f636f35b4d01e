//! Any bytes as a saved `NAME.story.json`: a story, none, or a clear error, never a panic.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use port_atlas::story::Story;

fuzz_target!(|data: &[u8]| {
    let path = common::scratch_file("report.story.json", data);
    match Story::load(&path, "report.txt") {
        Ok(Some(story)) => {
            assert_eq!(story.document, "report.txt");
            for step in story.shown() {
                let _ = step.effective_view();
            }
            // What is loaded saves and loads back the same.
            story.save(&path).expect("cannot save the story");
            let again = Story::load(&path, "report.txt").expect("a saved story loads").expect("and is there");
            assert_eq!(format!("{again:?}"), format!("{story:?}"));
        }
        Ok(None) => panic!("the file is there"),
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
