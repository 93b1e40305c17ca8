//! The manifests on disk: `.claude/.output/features/<id>/MANIFEST.yaml`, read and changed under a lock
//! beside each (`.MANIFEST.lock`), written whole to a temp file and renamed, so a reader or a killed
//! writer never leaves half a file. A manifest that does not parse is reported with its line and never
//! overwritten: a person's edit is theirs to fix.

use std::fs;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use portcullis_core::Deadline;
use portcullis_core::state::{check_id, with_lock, write_atomic};

use crate::manifest::{FeatureStatus, Manifest, WorkType};

/// The manifest's file name.
pub const MANIFEST: &str = "MANIFEST.yaml";
/// Largest manifest read.
const MAX_MANIFEST_BYTES: u64 = 4 << 20;

/// Why a manifest could not be used.
#[derive(Debug)]
pub enum StoreError {
    /// The manifest does not parse: the file, its 1-based line, the parser's words.
    Unreadable(PathBuf, usize, String),
    /// Anything else, worded for the user.
    Other(String),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unreadable(path, line, why) => write!(
                f,
                "{}:{line}: not a manifest ({why}); fix it by hand, it is never overwritten",
                path.display()
            ),
            Self::Other(why) => f.write_str(why),
        }
    }
}

impl From<portcullis_core::Error> for StoreError {
    fn from(e: portcullis_core::Error) -> Self {
        Self::Other(e.to_string())
    }
}

/// The features folder of one project.
#[derive(Debug, Clone)]
pub struct Store {
    project: PathBuf,
    dir: PathBuf,
}

impl Store {
    /// The store of `project`: `<project>/.claude/.output/features/`.
    #[must_use]
    pub fn new(project: &Path) -> Self {
        Self {
            project: project.to_path_buf(),
            dir: project.join(".claude/.output/features"),
        }
    }

    /// The features folder.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The manifest of feature `id`.
    #[must_use]
    pub fn manifest_path(&self, id: &str) -> PathBuf {
        self.dir.join(id).join(MANIFEST)
    }

    /// Every feature's id, sorted; none when the folder is missing.
    #[must_use]
    pub fn ids(&self) -> Vec<String> {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut ids: Vec<String> = entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|id| check_id(id).is_ok() && !id.starts_with('.'))
            .collect();
        ids.sort();
        ids
    }

    /// Every feature, each read or its error.
    #[must_use]
    pub fn all(&self) -> Vec<(String, Result<Manifest, StoreError>)> {
        self.ids()
            .into_iter()
            .filter(|id| self.manifest_path(id).exists())
            .map(|id| {
                let m = self.read(&id);
                (id, m)
            })
            .collect()
    }

    /// Reads feature `id`'s manifest.
    pub fn read(&self, id: &str) -> Result<Manifest, StoreError> {
        check_id(id)?;
        let path = self.manifest_path(id);
        let file = portcullis_core::files::open_regular(&path)
            .map_err(|e| StoreError::Other(format!("{}: {e}", path.display())))?;
        let mut text = String::new();
        // One byte past the cap tells a whole file from a cut one: a manifest not read whole is refused,
        // never parsed from its head and written back (which lost everything past the cap).
        file.take(MAX_MANIFEST_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(|e| StoreError::Other(format!("{}: {e}", path.display())))?;
        if text.len() as u64 > MAX_MANIFEST_BYTES {
            return Err(StoreError::Other(format!(
                "{}: larger than {} MiB, so it is neither read nor rewritten; trim it by hand",
                path.display(),
                MAX_MANIFEST_BYTES >> 20
            )));
        }
        parse(&text).map_err(|(line, why)| StoreError::Unreadable(path, line, why))
    }

    /// Starts a feature: a new folder named after the title and the day (`login-form-20261201`, then
    /// `-2`, `-3` ... when taken), its manifest at the first phase.
    pub fn start(
        &self,
        title: &str,
        work_type: WorkType,
        now: &str,
    ) -> Result<Manifest, StoreError> {
        if title.trim().is_empty() {
            return Err(StoreError::Other("a feature needs a title".into()));
        }
        fs::create_dir_all(&self.dir)
            .map_err(|e| StoreError::Other(format!("{}: {e}", self.dir.display())))?;
        portcullis_core::files::check_real_dirs(&self.project, &self.dir)
            .map_err(|e| StoreError::Other(format!("{}: {e}", self.dir.display())))?;
        let base = format!(
            "{}-{}",
            slug(title),
            now.get(..10).unwrap_or(now).replace('-', "")
        );
        for n in 1..1000 {
            let id = if n == 1 {
                base.clone()
            } else {
                format!("{base}-{n}")
            };
            // `create_dir` fails when the folder exists: two starts at once get two ids.
            match fs::create_dir(self.dir.join(&id)) {
                Ok(()) => {
                    let m = Manifest::new(&id, title.trim(), work_type, now);
                    self.write(&id, &m)?;
                    return Ok(m);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(StoreError::Other(format!("{}: {e}", self.dir.display()))),
            }
        }
        Err(StoreError::Other(format!("too many features named {base}")))
    }

    /// Changes feature `id` under its lock: read, `change`, write back whole. A manifest that does not
    /// parse is left as it is.
    pub fn update<R>(
        &self,
        id: &str,
        deadline: &Deadline,
        change: impl FnOnce(&mut Manifest) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        check_id(id)?;
        let lock = self.dir.join(id).join(".MANIFEST.lock");
        let mut outcome: Option<Result<R, StoreError>> = None;
        with_lock(&lock, deadline, || {
            outcome = Some(self.read(id).and_then(|mut m| {
                let r = change(&mut m)?;
                self.write(id, &m)?;
                Ok(r)
            }));
            Ok(())
        })?;
        outcome.unwrap_or_else(|| Err(StoreError::Other("the update did not run".into())))
    }

    /// The ids of the features whose manifest reads as active.
    #[must_use]
    pub fn active_ids(&self) -> Vec<String> {
        self.all()
            .into_iter()
            .filter(|(_, m)| m.as_ref().is_ok_and(|m| m.status == FeatureStatus::Active))
            .map(|(id, _)| id)
            .collect()
    }

    /// The one active feature, or `id` when given.
    pub fn pick(&self, id: Option<&str>) -> Result<String, StoreError> {
        if let Some(id) = id {
            check_id(id)?;
            if !self.manifest_path(id).exists() {
                return Err(StoreError::Other(format!(
                    "no feature `{id}` in {}",
                    self.dir.display()
                )));
            }
            return Ok(id.to_string());
        }
        let all = self.all();
        let active: Vec<String> = all
            .iter()
            .filter(|(_, m)| m.as_ref().is_ok_and(|m| m.status == FeatureStatus::Active))
            .map(|(id, _)| id.clone())
            .collect();
        match active.as_slice() {
            [one] => Ok(one.clone()),
            // A manifest that cannot be read may be the active one: say so rather than "none".
            [] => Err(all
                .into_iter()
                .find_map(|(_, m)| m.err())
                .unwrap_or_else(|| {
                    StoreError::Other(
                        "no active feature; start one with `portcullis progress start \"TITLE\"`"
                            .into(),
                    )
                })),
            many => Err(StoreError::Other(format!(
                "{} features are active ({}); name one with --feature",
                many.len(),
                many.join(", ")
            ))),
        }
    }

    fn write(&self, id: &str, m: &Manifest) -> Result<(), StoreError> {
        let text = serde_saphyr::to_string(m)
            .map_err(|e| StoreError::Other(format!("writing the manifest: {e}")))?;
        let path = self.manifest_path(id);
        write_atomic(
            &path,
            format!("# portcullis progress: edit by hand if you like; keep it YAML.\n{text}")
                .as_bytes(),
        )?;
        Ok(())
    }
}

/// Parses a manifest; an error carries its 1-based line.
pub fn parse(text: &str) -> Result<Manifest, (usize, String)> {
    serde_saphyr::from_str::<Manifest>(text).map_err(|e| {
        let line = e
            .location()
            .map_or(1, |l| usize::try_from(l.line()).unwrap_or(1));
        let why = e.to_string();
        let why = why.lines().next().unwrap_or(&why).trim();
        (line, why.strip_prefix("error: ").unwrap_or(why).to_string())
    })
}

/// A short folder name from a title: lowercase letters and digits, words joined by `-`, at most 40.
#[must_use]
pub fn slug(title: &str) -> String {
    let mut s = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.is_empty() && !s.ends_with('-') {
            s.push('-');
        }
        if s.len() >= 40 {
            break;
        }
    }
    let s = s.trim_end_matches('-').to_string();
    if s.is_empty() { "feature".into() } else { s }
}
