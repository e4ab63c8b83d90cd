//! Writes the AdmissionRequest fixtures under `e2e/fixtures/` from the test
//! builder (see `test_support::fixtures`), and removes files in those folders
//! that it no longer writes.
//!
//!     cargo run -p test-support --bin generate-fixtures

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use test_support::fixtures;

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../e2e/fixtures");
    match write(&root) {
        Ok(written) => {
            println!("wrote {written} fixtures under {}", root.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn write(root: &Path) -> Result<usize, String> {
    let files = fixtures::all();
    let expected: Vec<PathBuf> = files.iter().map(|f| root.join(&f.path)).collect();
    for folder in fixtures::FOLDERS {
        let Ok(entries) = std::fs::read_dir(root.join(folder)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let is_json = path.extension().is_some_and(|e| e == "json");
            if is_json && !expected.contains(&path) {
                std::fs::remove_file(&path)
                    .map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
                println!("removed {}", path.display());
            }
        }
    }
    for (file, path) in files.iter().zip(&expected) {
        let folder = path.parent().expect("fixtures live in folders");
        std::fs::create_dir_all(folder)
            .map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
        std::fs::write(path, &file.bytes)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(files.len())
}
