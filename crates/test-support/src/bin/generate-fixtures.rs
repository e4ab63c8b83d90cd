//! Writes the AdmissionRequest fixtures under `e2e/fixtures/` from the test
//! builder (see `test_support::fixtures`), and removes files in those folders
//! that it no longer writes; and the kwctl sessions of the context-aware cases
//! under `e2e/sessions/` (`test_support::sessions`).
//!
//!     cargo run -p test-support --bin generate-fixtures
//!
//! With `--nodes-session COUNT PATH` it writes only a session listing COUNT
//! ready Nodes, for `make bench`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use test_support::{fixtures, sessions};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => {}
        [flag, count, path] if flag == "--nodes-session" => {
            let Ok(count) = count.parse::<usize>() else {
                eprintln!(
                    "error: --nodes-session COUNT PATH: COUNT must be a number, not {count:?}"
                );
                return ExitCode::from(2);
            };
            return match std::fs::write(path, sessions::ready_nodes_session(count)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: cannot write {path}: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        _ => {
            eprintln!("usage: generate-fixtures [--nodes-session COUNT PATH]");
            return ExitCode::from(2);
        }
    }
    let e2e = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../e2e");
    let root = e2e.join("fixtures");
    let written = write(&root).and_then(|fixtures| {
        let sessions = write_sessions(&e2e.join("sessions"))?;
        Ok((fixtures, sessions))
    });
    match written {
        Ok((fixtures, sessions)) => {
            println!("wrote {fixtures} fixtures under {}", root.display());
            println!(
                "wrote {sessions} sessions under {}",
                e2e.join("sessions").display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The sessions; other files in the folder (sessions written by hand) stay.
fn write_sessions(folder: &Path) -> Result<usize, String> {
    std::fs::create_dir_all(folder)
        .map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
    let files = sessions::all();
    for file in &files {
        let path = folder.join(&file.path);
        std::fs::write(&path, &file.bytes)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(files.len())
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
