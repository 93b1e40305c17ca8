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

/// Resolves a tool's path: a leading `~` or `~/` is `$HOME` (as bash and the client's file tools read
/// it), Windows separators become `/` when the path is plainly Windows-style, a
/// relative path is taken from `cwd`, and symlinks and `..` are applied as the kernel applies them, for
/// the part of the path that exists (a file about to be created does not exist yet), a dangling link
/// included. The project root is resolved the same way, so a symlinked project still compares equal.
#[must_use]
pub fn resolve(raw: &str, cwd: &Path, project: &Path) -> Resolved {
    let text = if looks_windows(raw) {
        raw.replace('\\', "/")
    } else {
        raw.to_owned()
    };
    let text = expand_home(&strip_drive(&text), std::env::var("HOME").ok().as_deref());
    let path = Path::new(&text);
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.join(path)
    };
    let real = resolve_existing(&absolute);
    let root = resolve_existing(project);
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

/// `~` and `~/…` with `home` put in; anything else (`~user`, and everything when `home` is not an
/// absolute folder) as it is.
#[must_use]
pub fn expand_home(text: &str, home: Option<&str>) -> String {
    let rest = match text.strip_prefix('~') {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => rest,
        _ => return text.to_owned(),
    };
    match home {
        Some(home) if home.starts_with('/') => format!("{}{rest}", home.trim_end_matches('/')),
        _ => text.to_owned(),
    }
}

/// `path` (absolute) with its existing part's symlinks and `..` applied as the kernel applies them: where
/// a write to it would land.
#[must_use]
pub fn real_path(path: &Path) -> PathBuf {
    resolve_existing(path)
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

/// The most symbolic links followed while resolving one path (the kernel's own limit is 40).
const MAX_LINKS: usize = 40;

/// A path longer than this (Linux's `PATH_MAX`) is resolved lexically: no system call could open it, and
/// walking hundreds of thousands of components took seconds.
const MAX_RESOLVED_BYTES: usize = 4096;

/// Resolves an absolute path as the kernel would for the part that exists: one component at a time,
/// each symbolic link replaced by its target before a later `..` is applied (so `link/..` is the link
/// target's parent, not the folder holding the link), a dangling link followed to where it points. From
/// the first component that does not exist, the rest is applied lexically (nothing there can be a link).
/// One `lstat` per existing component; a link loop, or more than [`MAX_LINKS`] links, leaves the path
/// lexical.
fn resolve_existing(path: &Path) -> PathBuf {
    if path.as_os_str().len() > MAX_RESOLVED_BYTES || !path.is_absolute() {
        return lexical(path);
    }
    let mut queue: std::collections::VecDeque<std::ffi::OsString> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect();
    let mut out = PathBuf::from("/");
    let mut links = 0;
    let mut exists = true;
    while let Some(part) = queue.pop_front() {
        if part == ".." {
            out.pop();
            continue;
        }
        out.push(&part);
        if !exists {
            continue;
        }
        match std::fs::symlink_metadata(&out) {
            Ok(m) if m.file_type().is_symlink() => {
                links += 1;
                let Ok(target) = std::fs::read_link(&out) else {
                    continue;
                };
                if links > MAX_LINKS {
                    return lexical(path);
                }
                out.pop();
                if target.is_absolute() {
                    out = PathBuf::from("/");
                }
                for c in target.components().rev() {
                    match c {
                        Component::Normal(n) => queue.push_front(n.to_os_string()),
                        Component::ParentDir => queue.push_front("..".into()),
                        _ => {}
                    }
                }
            }
            Ok(_) => {}
            Err(_) => exists = false,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leading_tilde_is_home() {
        let home = std::env::var("HOME").unwrap();
        let t = tempfile::tempdir().unwrap();
        assert_eq!(
            resolve("~/.bashrc", t.path(), t.path()),
            Resolved::Outside(real_path(&Path::new(&home).join(".bashrc")))
        );
        assert_eq!(
            resolve("~x/y", t.path(), t.path()),
            Resolved::Inside("~x/y".into()),
            "`~x` is a user's home, not ours: left as a relative name"
        );
    }

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
    fn dotdot_after_a_symlinked_folder_is_the_targets_parent() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().canonicalize().unwrap();
        std::fs::create_dir_all(p.join("services/api/src")).unwrap();
        std::os::unix::fs::symlink(p.join("services/api/src"), p.join("src-link")).unwrap();
        // The kernel: src-link/.. is services/api, not the project root.
        assert_eq!(
            resolve("src-link/../handler.go", &p, &p),
            Resolved::Inside("services/api/handler.go".into())
        );
        std::os::unix::fs::symlink("services/api/src", p.join("rel-link")).unwrap();
        assert_eq!(
            resolve("rel-link/../../x.go", &p, &p),
            Resolved::Inside("services/x.go".into())
        );
    }

    #[test]
    fn a_dangling_link_resolves_to_where_it_points() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().canonicalize().unwrap();
        std::fs::create_dir_all(p.join("notes")).unwrap();
        std::os::unix::fs::symlink("../api/new.go", p.join("notes/todo.txt")).unwrap();
        assert_eq!(
            resolve("notes/todo.txt", &p, &p),
            Resolved::Inside("api/new.go".into())
        );
    }

    #[test]
    fn link_loops_and_overlong_paths_stay_lexical() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().canonicalize().unwrap();
        std::os::unix::fs::symlink(p.join("b"), p.join("a")).unwrap();
        std::os::unix::fs::symlink(p.join("a"), p.join("b")).unwrap();
        assert_eq!(resolve("a/x.go", &p, &p), Resolved::Inside("a/x.go".into()));
        let long = "d/".repeat(300_000) + "x.go";
        assert_eq!(
            resolve(&long, &p, &p),
            Resolved::Inside(long.clone()),
            "past PATH_MAX the path is taken as written"
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
