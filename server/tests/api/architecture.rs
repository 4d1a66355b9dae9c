//! The layers stay where DESIGN.md puts them: `server` (transport) and `app` (UI and thin
//! server functions) reach persistence only through `backend`'s services, never its
//! `db` module or its row types, so that every read and write passes a service's checks.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Where `needle` starts a path segment of its own (not `foo_db::` or `mydb::`).
fn names(line: &str, needle: &str) -> bool {
    line.match_indices(needle).any(|(i, _)| {
        !line[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

#[test]
fn server_and_app_do_not_name_the_database_layer() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    rust_files(&root.join("server/src"), &mut files);
    rust_files(&root.join("app/src"), &mut files);
    assert!(files.len() > 20, "found the sources: {}", files.len());
    let mut offenders = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            let row_type = [
                "ImageRecord",
                "JobRecord",
                "UserRecord",
                "CharacterRecord",
                "CollectionRecord",
                "ProviderKeyRecord",
                "SessionRecord",
            ]
            .iter()
            .any(|t| names(code, t));
            if names(code, "db::") || row_type {
                offenders.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "call a backend service instead:\n{}",
        offenders.join("\n")
    );
}
