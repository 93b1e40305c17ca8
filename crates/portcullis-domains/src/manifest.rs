//! The nearest `package.json`: whether a JavaScript/TypeScript package is UI or server code.

use std::io::Read;
use std::path::Path;

use crate::domains::{SERVER_PACKAGES, UI_PACKAGES};

/// The largest manifest read; a bigger one decides nothing.
const MAX_MANIFEST_BYTES: u64 = 1024 * 1024;

/// What a manifest says about its package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// `frontend` or `backend`.
    pub(crate) domain: &'static str,
    /// The project-relative manifest that decided.
    pub(crate) manifest: String,
    /// The dependency that decided.
    pub(crate) dependency: String,
}

/// Walks up from the folder of the project-relative `rel` to the project root and asks the first
/// `package.json` found. A UI framework among its dependencies makes the package frontend (a full-stack
/// framework such as Next.js counts as UI), else a server framework or database client makes it backend;
/// a manifest with neither, or none at all, decides nothing.
#[must_use]
pub(crate) fn decide(project: &Path, rel: &str) -> Option<Verdict> {
    let mut dir = Path::new(rel).parent();
    // At most one manifest is read: the nearest one owns the file, whatever it says.
    while let Some(d) = dir {
        let manifest_rel = d.join("package.json");
        let path = project.join(&manifest_rel);
        if let Some(deps) = read_dependencies(&path) {
            let manifest = manifest_rel.to_string_lossy().into_owned();
            let pick = |list: &[&str], domain: &'static str| {
                list.iter()
                    .find(|p| deps.iter().any(|d| d == *p))
                    .map(|p| Verdict {
                        domain,
                        manifest: manifest.clone(),
                        dependency: (*p).to_owned(),
                    })
            };
            return pick(UI_PACKAGES, "frontend").or_else(|| pick(SERVER_PACKAGES, "backend"));
        }
        dir = d.parent();
    }
    None
}

/// The dependency names of a manifest (`dependencies`, `devDependencies`, `peerDependencies`); `None`
/// when there is no readable, regular manifest there.
fn read_dependencies(path: &Path) -> Option<Vec<String>> {
    let file = portcullis_core::files::open_regular(path).ok()?;
    let mut text = String::new();
    file.take(MAX_MANIFEST_BYTES + 1)
        .read_to_string(&mut text)
        .ok()?;
    if text.len() as u64 > MAX_MANIFEST_BYTES {
        return Some(Vec::new());
    }
    let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let mut deps = Vec::new();
    for key in ["dependencies", "devDependencies", "peerDependencies"] {
        if let Some(map) = value.get(key).and_then(serde_json::Value::as_object) {
            deps.extend(map.keys().cloned());
        }
    }
    Some(deps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nearest_manifest_decides_ui_before_server() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path();
        std::fs::create_dir_all(p.join("packages/a/src")).unwrap();
        std::fs::create_dir_all(p.join("packages/b/src")).unwrap();
        std::fs::write(
            p.join("package.json"),
            r#"{"devDependencies": {"react": "18"}}"#,
        )
        .unwrap();
        std::fs::write(
            p.join("packages/a/package.json"),
            r#"{"dependencies": {"express": "4"}}"#,
        )
        .unwrap();
        std::fs::write(
            p.join("packages/b/package.json"),
            r#"{"dependencies": {"next": "15", "express": "4"}}"#,
        )
        .unwrap();
        let d = |rel: &str| decide(p, rel).map(|v| (v.domain, v.manifest));
        assert_eq!(
            d("packages/a/src/x.ts"),
            Some(("backend", "packages/a/package.json".into()))
        );
        assert_eq!(
            d("packages/b/src/x.ts"),
            Some(("frontend", "packages/b/package.json".into()))
        );
        assert_eq!(d("src/x.ts"), Some(("frontend", "package.json".into())));
        std::fs::write(p.join("packages/a/package.json"), r#"{"name": "a"}"#).unwrap();
        assert_eq!(
            d("packages/a/src/x.ts"),
            None,
            "the nearest manifest owns the file"
        );
        std::fs::write(p.join("packages/a/package.json"), "not json").unwrap();
        assert_eq!(d("packages/a/src/x.ts"), None);
    }
}
