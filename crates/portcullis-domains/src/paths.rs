//! Project-relative paths, resolved safely.

use std::path::{Component, Path, PathBuf};

use portcullis_core::event::lexical;

/// Where a path lands relative to the project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// Inside the project: the relative path with `/` separators.
    Inside(String),
    /// Outside the project (after resolving `..` and symlinks).
    Outside(PathBuf),
}

/// Resolves a tool's path: Windows separators become `/` when the path is plainly Windows-style, a
/// relative path is taken from `cwd`, `.` and `..` are applied, and symlinks are followed for the part of
/// the path that exists (a file about to be created does not exist yet). The project root is resolved the
/// same way, so a symlinked project still compares equal.
#[must_use]
pub fn resolve(raw: &str, cwd: &Path, project: &Path) -> Resolved {
    let text = if looks_windows(raw) {
        raw.replace('\\', "/")
    } else {
        raw.to_owned()
    };
    let text = strip_drive(&text);
    let path = Path::new(&text);
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.join(path)
    };
    let real = resolve_existing(&lexical(&absolute));
    let root = resolve_existing(&lexical(project));
    match real.strip_prefix(&root) {
        Ok(inside) => {
            let parts: Vec<String> = inside
                .components()
                .filter_map(|c| match c {
                    Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                    _ => None,
                })
                .collect();
            Resolved::Inside(parts.join("/"))
        }
        Err(_) => Resolved::Outside(real),
    }
}

fn looks_windows(raw: &str) -> bool {
    let b = raw.as_bytes();
    let drive = b.len() >= 3
        && b[0].is_ascii_alphabetic()
        && b[1] == b':'
        && (b[2] == b'\\' || b[2] == b'/');
    drive || (raw.contains('\\') && !raw.contains('/'))
}

/// `C:/x` → `/x`: on this host the drive letter carries no meaning, the rest of the path does.
fn strip_drive(text: &str) -> String {
    let b = text.as_bytes();
    if b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'/' {
        text[2..].to_owned()
    } else {
        text.to_owned()
    }
}

/// Canonicalises the longest existing ancestor and appends the rest. Loops or unreadable links leave the
/// lexical path as it is.
fn resolve_existing(path: &Path) -> PathBuf {
    let mut existing = path;
    let mut rest: Vec<&std::ffi::OsStr> = Vec::new();
    loop {
        if let Ok(real) = existing.canonicalize() {
            let mut out = real;
            for part in rest.iter().rev() {
                out.push(part);
            }
            // A symlink in the remainder cannot exist (the remainder does not exist), so one pass suffices;
            // `..` after a symlink was already applied lexically, like the shell's `cd -L`.
            return lexical(&out);
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name);
                existing = parent;
            }
            _ => return path.to_path_buf(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_absolute_and_traversal() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().canonicalize().unwrap();
        std::fs::create_dir_all(p.join("src")).unwrap();
        assert_eq!(
            resolve(&format!("{}/api/x.go", p.display()), &p, &p),
            Resolved::Inside("api/x.go".into())
        );
        assert_eq!(
            resolve("api/./x.go", &p.join("src"), &p),
            Resolved::Inside("src/api/x.go".into())
        );
        assert_eq!(
            resolve("../api/x.go", &p.join("src"), &p),
            Resolved::Inside("api/x.go".into())
        );
        assert!(matches!(
            resolve("src/../../etc/x.go", &p, &p),
            Resolved::Outside(_)
        ));
        assert!(matches!(
            resolve("/etc/passwd", &p, &p),
            Resolved::Outside(_)
        ));
    }

    #[test]
    fn symlinks_out_of_the_project_are_outside() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("proj");
        let elsewhere = t.path().join("elsewhere");
        std::fs::create_dir_all(&p).unwrap();
        std::fs::create_dir_all(&elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, p.join("link")).unwrap();
        assert!(matches!(resolve("link/x.go", &p, &p), Resolved::Outside(_)));
        // And a symlinked project root still compares equal.
        std::os::unix::fs::symlink(&p, t.path().join("alias")).unwrap();
        assert_eq!(
            resolve("api/x.go", &t.path().join("alias"), &p),
            Resolved::Inside("api/x.go".into())
        );
    }

    #[test]
    fn windows_style_paths() {
        let p = Path::new("/proj");
        assert_eq!(
            resolve("api\\x.go", p, p),
            Resolved::Inside("api/x.go".into())
        );
        assert_eq!(
            resolve("C:\\proj\\api\\x.go", p, p),
            Resolved::Inside("api/x.go".into())
        );
    }
}
