//! Finding candidate outputs: Markdown (by `output_location.patterns`) outside the allowed places that
//! are untracked (and not ignored) or staged but never committed.
//!
//! In a git repository: the index, HEAD and libgit2's ignore rules, with a walk of the project that
//! never `stat`s a tracked file ([`scan`]). Outside git, the project is walked, skipping `.git` and the
//! usual dependency and build folders.

use std::path::Path;
use std::time::SystemTime;

use crate::config::OutputLocationConfig;
use globset::{GlobSet, GlobSetBuilder};
use portcullis_core::{Error, Result};

/// Folders never walked outside git: dependencies, builds, caches, VCS metadata.
pub(crate) const SKIPPED_DIRS: &[&str] = &[
    ".git",
    "node_modules",
    "target",
    "dist",
    "build",
    ".venv",
    "venv",
    "__pycache__",
    ".next",
    ".cache",
    "vendor",
];

/// The most files a walk outside git looks at before it stops (a home folder opened as a project).
pub(crate) const MAX_WALK_ENTRIES: usize = 200_000;

/// The git state of a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum FileState {
    /// Not in the index, not ignored (or: no git repository).
    Untracked,
    /// In the index, not in HEAD: staged but never committed.
    StagedNew,
}

/// One Markdown file outside the allowed places.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Candidate {
    /// Project-relative, `/`-separated.
    pub path: String,
    /// Its git state.
    pub state: FileState,
}

/// `output_location`'s globs, compiled.
#[derive(Debug)]
pub(crate) struct Matcher {
    outputs: GlobSet,
    allowed: GlobSet,
    /// The output folder, project-relative, without a trailing `/`.
    pub output_dir: String,
}

fn build(key: &str, globs: &[String]) -> Result<GlobSet> {
    let mut b = GlobSetBuilder::new();
    for g in globs {
        b.add(
            portcullis_domains::glob(g)
                .map_err(|e| Error::Other(format!("output_location.{key}: bad glob `{g}`: {e}")))?,
        );
    }
    b.build()
        .map_err(|e| Error::Other(format!("output_location.{key}: {e}")))
}

/// Compiles `output_location.patterns` alone: the cheap first question (is this an output at all?) that
/// spares the common path compiling the allow list.
pub(crate) fn output_patterns(config: &OutputLocationConfig) -> Result<GlobSet> {
    build("patterns", &config.patterns)
}

impl Matcher {
    /// Compiles the config; a bad glob is an error naming the key.
    pub(crate) fn new(config: &OutputLocationConfig) -> Result<Self> {
        let output_dir = config.output_dir.trim_end_matches('/').to_owned();
        let mut allowed = config.allowed.clone();
        allowed.push(format!("{output_dir}/**"));
        Ok(Self {
            outputs: build("patterns", &config.patterns)?,
            allowed: build("allowed", &allowed)?,
            output_dir,
        })
    }

    /// True for an output outside the allowed places.
    #[must_use]
    pub(crate) fn is_stray(&self, rel: &str) -> bool {
        self.outputs.is_match(rel) && !self.allowed.is_match(rel)
    }
}

/// What a scan found.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    /// Candidates (untracked or staged-new), sorted by path.
    pub candidates: Vec<Candidate>,
    /// True when the walk stopped at [`MAX_WALK_ENTRIES`].
    pub truncated: bool,
    /// Tracked stray-looking files as the index records them, for [`modified_tracked`].
    pub tracked_strays: Vec<TrackedFile>,
}

/// A tracked file as the index records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TrackedFile {
    /// Project-relative path.
    pub path: String,
    /// Index mtime (seconds, nanoseconds) and size.
    pub stat: (i64, u32, u64),
    /// The staged content.
    pub blob: git2::Oid,
}

/// Scans the project for untracked and staged-new stray outputs.
///
/// `since`: files staged before it are not looked up in HEAD (they cannot be new outputs of this
/// session); `None` looks every staged stray-looking file up (the baseline at session start).
pub(crate) fn scan(project: &Path, matcher: &Matcher, since: Option<SystemTime>) -> Result<Scan> {
    match git2::Repository::discover(project) {
        Ok(repo) if !repo.is_bare() => git_scan(&repo, project, matcher, since),
        _ => Ok(walk_scan(project, matcher)),
    }
}

fn git_error(e: &git2::Error) -> Error {
    Error::Other(format!("reading the git repository: {}", e.message()))
}

/// The project's path inside the repository's work tree, as a prefix (`""` or `"sub/dir/"`).
fn repo_prefix(repo: &git2::Repository, project: &Path) -> Result<String> {
    let workdir = repo
        .workdir()
        .ok_or_else(|| Error::Other("git repository without a work tree".into()))?;
    let workdir = workdir
        .canonicalize()
        .unwrap_or_else(|_| workdir.to_path_buf());
    let project = project
        .canonicalize()
        .unwrap_or_else(|_| project.to_path_buf());
    let prefix = project
        .strip_prefix(&workdir)
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .unwrap_or_default();
    Ok(if prefix.is_empty() {
        prefix
    } else {
        format!("{prefix}/")
    })
}

/// git status finds untracked files by comparing the whole work tree with the index, which means a
/// `stat` of every tracked file. Only untracked Markdown matters here, so this reads the index once,
/// walks the project folder by folder (the folder listing gives file kinds without a `stat`), prunes
/// ignored folders that hold no tracked file, and asks libgit2's ignore rules only about folders
/// without tracked files and about candidate files.
fn git_scan(
    repo: &git2::Repository,
    project: &Path,
    matcher: &Matcher,
    since: Option<SystemTime>,
) -> Result<Scan> {
    let prefix = repo_prefix(repo, project)?;
    let index = repo.index().map_err(|e| git_error(&e))?;
    // Index paths are sorted bytewise, so "does folder D hold a tracked file" is a binary search.
    let mut tracked: Vec<Vec<u8>> = Vec::with_capacity(index.len());
    let mut staged_strays: Vec<TrackedFile> = Vec::new();
    for entry in index.iter() {
        if let Some(rel) = entry
            .path
            .strip_prefix(prefix.as_bytes())
            .and_then(|r| std::str::from_utf8(r).ok())
            && matcher.is_stray(rel)
        {
            staged_strays.push(TrackedFile {
                path: rel.to_owned(),
                stat: (
                    i64::from(entry.mtime.seconds()),
                    entry.mtime.nanoseconds(),
                    u64::from(entry.file_size),
                ),
                blob: entry.id,
            });
        }
        tracked.push(entry.path);
    }
    // The index is sorted by path already; sorting again only if it is not costs one pass.
    if !tracked.is_sorted() {
        tracked.sort_unstable();
    }
    let head = repo.head().ok().and_then(|h| h.peel_to_tree().ok());
    let mut scan = Scan {
        candidates: staged_new(head.as_ref(), &prefix, &staged_strays, since),
        tracked_strays: staged_strays,
        truncated: false,
    };
    let holds_tracked = |dir: &str| {
        let key = format!("{prefix}{dir}/");
        let i = tracked.partition_point(|p| p.as_slice() < key.as_bytes());
        tracked
            .get(i)
            .is_some_and(|p| p.starts_with(key.as_bytes()))
    };
    let is_tracked = |rel: &str| {
        let key = format!("{prefix}{rel}");
        tracked
            .binary_search_by(|p| p.as_slice().cmp(key.as_bytes()))
            .is_ok()
    };
    let ignored = |rel: &str| {
        repo.is_path_ignored(format!("{prefix}{rel}"))
            .unwrap_or(false)
    };
    let mut stack = vec![String::new()];
    let mut seen = 0usize;
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(project.join(&dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            seen += 1;
            if seen > MAX_WALK_ENTRIES {
                scan.truncated = true;
                break;
            }
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            let rel = if dir.is_empty() {
                name.clone()
            } else {
                format!("{dir}/{name}")
            };
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                if name == ".git" {
                    continue;
                }
                if holds_tracked(&rel) {
                    stack.push(rel);
                } else if !ignored(&rel) && !entry.path().join(".git").exists() {
                    // An untracked folder (not a nested repository): recurse, as git status -uall does.
                    stack.push(rel);
                }
            } else if matcher.is_stray(&rel)
                && !is_tracked(&rel)
                && !ignored(&rel)
                && !in_tree(head.as_ref(), &format!("{prefix}{rel}"))
            {
                // (A file in HEAD but not in the index was `git rm --cached`: committed, not new.)
                scan.candidates.push(Candidate {
                    path: rel,
                    state: FileState::Untracked,
                });
            }
        }
        if scan.truncated {
            break;
        }
    }
    scan.candidates.sort();
    Ok(scan)
}

/// Whether `path` (repository-relative) is in `tree`.
fn in_tree(tree: Option<&git2::Tree<'_>>, path: &str) -> bool {
    tree.is_some_and(|t| t.get_path(Path::new(path)).is_ok())
}

/// Every blob of `tree`, read only when a staged file not in HEAD by path must be checked by content.
fn blobs_of(tree: &git2::Tree<'_>) -> std::collections::HashSet<git2::Oid> {
    let mut blobs = std::collections::HashSet::new();
    let _ = tree.walk(git2::TreeWalkMode::PreOrder, |_, entry| {
        if entry.kind() == Some(git2::ObjectType::Blob) {
            blobs.insert(entry.id());
        }
        git2::TreeWalkResult::Ok
    });
    blobs
}

/// Staged stray-looking files that are not in HEAD (an unborn HEAD has nothing), by path nor by content:
/// a file whose staged content is committed under another name (`git mv`) is no new output, and its fix
/// would stage the deletion of the committed file. With `since`, entries staged (by index mtime) before
/// it are skipped without a HEAD lookup.
fn staged_new(
    head: Option<&git2::Tree<'_>>,
    prefix: &str,
    staged_strays: &[TrackedFile],
    since: Option<SystemTime>,
) -> Vec<Candidate> {
    let mut out = Vec::new();
    let mut committed: Option<std::collections::HashSet<git2::Oid>> = None;
    let since_secs = since.and_then(|t| {
        t.duration_since(SystemTime::UNIX_EPOCH)
            .ok()
            .and_then(|d| i64::try_from(d.as_secs()).ok())
    });
    for TrackedFile {
        path: rel,
        stat,
        blob,
    } in staged_strays
    {
        let mtime = stat.0;
        if since_secs.is_some_and(|s| mtime < s - 1) {
            continue;
        }
        if in_tree(head, &format!("{prefix}{rel}")) {
            continue;
        }
        let content_committed =
            head.is_some_and(|t| committed.get_or_insert_with(|| blobs_of(t)).contains(blob));
        if !content_committed {
            out.push(Candidate {
                path: rel.clone(),
                state: FileState::StagedNew,
            });
        }
    }
    out
}

/// Tracked stray-looking files whose size or mtime differs from the index: changed, so not new outputs.
/// Named in a block reason, never moved; asked only when a block is already decided. A `stat` per
/// tracked stray-looking file, like git's own check, but of those files only.
#[must_use]
pub(crate) fn modified_tracked(project: &Path, tracked: &[TrackedFile]) -> Vec<String> {
    tracked
        .iter()
        .filter(|t| {
            let Ok(meta) = std::fs::symlink_metadata(project.join(&t.path)) else {
                return false; // deleted: not an output either way
            };
            let mtime = meta
                .modified()
                .ok()
                .and_then(|m| m.duration_since(SystemTime::UNIX_EPOCH).ok())
                .map(|d| {
                    (
                        i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
                        d.subsec_nanos(),
                    )
                });
            meta.len() != t.stat.2 || mtime != Some((t.stat.0, t.stat.1))
        })
        .map(|t| t.path.clone())
        .collect()
}

fn walk_scan(project: &Path, matcher: &Matcher) -> Scan {
    let mut scan = Scan::default();
    let walker = walkdir::WalkDir::new(project)
        .follow_links(false)
        .into_iter()
        .filter_entry(|e| {
            !(e.file_type().is_dir()
                && e.depth() > 0
                && e.file_name()
                    .to_str()
                    .is_some_and(|n| SKIPPED_DIRS.contains(&n)))
        });
    for (seen, entry) in walker.enumerate() {
        if seen >= MAX_WALK_ENTRIES {
            scan.truncated = true;
            break;
        }
        // Unreadable folders and vanished files are skipped: a scan never fails on one of them.
        let Ok(entry) = entry else { continue };
        if !entry.file_type().is_file() {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(project) else {
            continue;
        };
        let Some(rel) = rel.to_str().map(|r| r.replace('\\', "/")) else {
            continue;
        };
        if matcher.is_stray(&rel) {
            scan.candidates.push(Candidate {
                path: rel,
                state: FileState::Untracked,
            });
        }
    }
    scan.candidates.sort();
    scan
}

/// When a project file was last modified, if it can be read.
#[must_use]
pub(crate) fn modified(project: &Path, rel: &str) -> Option<SystemTime> {
    std::fs::symlink_metadata(project.join(rel))
        .and_then(|m| m.modified())
        .ok()
}
