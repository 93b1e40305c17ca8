//! The skill library as the gateway sees it: every `SKILL.md` under the library folders, any depth, read
//! for what it is matched on (name, description with its "Use when" triggers, keywords, headings), plus
//! the intents that gateway skills' routing tables send to each.
//!
//! Hostile libraries cost bounded time: symlinks are followed but a loop is reported, not walked; at
//! most `max_entries` files and folders are looked at; a `SKILL.md` is read only to
//! [`MAX_SKILL_BYTES`]; a path that is not UTF-8 is skipped and said.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use portcullis_frontmatter::{self as frontmatter, Parsed};
use regex::Regex;
use serde::Serialize;
use walkdir::WalkDir;

use crate::config::SkillsConfig;

/// The most of a `SKILL.md` read; its frontmatter and first headings are at the top.
pub(crate) const MAX_SKILL_BYTES: u64 = 256 * 1024;
/// How deep a library is walked.
const MAX_DEPTH: usize = 12;
/// Headings taken from one skill.
const MAX_HEADINGS: usize = 40;

/// Where skills are read from.
#[derive(Debug, Clone)]
pub(crate) struct Roots {
    /// The project root.
    pub(crate) project: PathBuf,
    /// `$HOME`, to show paths under it as `~/...`.
    pub(crate) home: Option<PathBuf>,
    /// Library folders, in order: the project's, the user's, then the configured ones.
    pub(crate) libraries: Vec<PathBuf>,
    /// Folders of core skills, where gateway skills live.
    pub(crate) core: Vec<PathBuf>,
}

impl Roots {
    /// The folders for `project` with `config`; `claude_home` is `~/.claude` (or `CLAUDE_CONFIG_DIR`).
    pub(crate) fn new(
        project: &Path,
        claude_home: Option<&Path>,
        home: Option<&Path>,
        config: &SkillsConfig,
    ) -> Self {
        let mut libraries = vec![project.join(".claude").join("skill-library")];
        let mut core = vec![project.join(".claude").join("skills")];
        if let Some(h) = claude_home {
            libraries.push(h.join("skill-library"));
            core.push(h.join("skills"));
        }
        for extra in &config.libraries {
            let path = match (extra.strip_prefix("~/"), home) {
                (Some(rest), Some(h)) => h.join(rest),
                _ => project.join(extra),
            };
            if !libraries.contains(&path) {
                libraries.push(path);
            }
        }
        Self {
            project: project.to_path_buf(),
            home: home.map(Path::to_path_buf),
            libraries,
            core,
        }
    }

    /// `path` as the agent should read it: project-relative, `~/...`, or absolute.
    pub(crate) fn shown(&self, path: &Path) -> String {
        if let Ok(rel) = path.strip_prefix(&self.project) {
            return rel.to_string_lossy().into_owned();
        }
        if let Some(h) = &self.home
            && let Ok(rel) = path.strip_prefix(h)
        {
            return format!("~/{}", rel.to_string_lossy());
        }
        path.to_string_lossy().into_owned()
    }
}

/// One library skill.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Skill {
    /// Frontmatter `name`, else the folder's name.
    pub name: String,
    /// The `SKILL.md`, as the agent should read it (project-relative, `~/...` or absolute).
    pub path: String,
    /// Frontmatter `description`.
    pub description: Option<String>,
    /// Frontmatter `keywords` (a list, or a comma-separated string).
    pub keywords: Vec<String>,
    /// The body's headings, in order.
    pub headings: Vec<String>,
    /// Intents gateway skills route to this skill.
    pub routes: Vec<String>,
    /// What is wrong with it, for `portcullis skills list`.
    pub problems: Vec<String>,
}

impl Skill {
    /// The description's first line, at most 200 characters.
    #[must_use]
    pub fn summary(&self) -> String {
        let d = self.description.as_deref().unwrap_or("").trim();
        let line = d.lines().next().unwrap_or("").trim();
        if line.chars().count() > 200 {
            let cut: String = line.chars().take(199).collect();
            format!("{cut}…")
        } else {
            line.to_owned()
        }
    }
}

/// A file or folder the last read of the library depended on, with its state then: the index is
/// rebuilt when one differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stamp {
    /// The path, lossily as text.
    pub(crate) path: String,
    /// Modification time in nanoseconds since the epoch; -1 when it did not exist.
    pub(crate) mtime: i64,
    /// Length in bytes (0 for folders).
    pub(crate) len: u64,
}

impl Stamp {
    /// The stamp of `path` now (its target, for a symlink).
    pub(crate) fn of(path: &Path) -> Self {
        let (mtime, len) = std::fs::metadata(path).map_or((-1, 0), |m| {
            let mtime = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
            (mtime, if m.is_dir() { 0 } else { m.len() })
        });
        Self {
            path: path.to_string_lossy().into_owned(),
            mtime,
            len,
        }
    }

    /// True when the path is as it was.
    pub(crate) fn holds(&self) -> bool {
        *self == Self::of(Path::new(&self.path))
    }
}

/// Something that was not read, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The path, as shown to the agent.
    pub path: String,
    /// Why.
    pub why: String,
}

/// Every library skill, what was skipped, and what the read depended on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Library {
    /// The skills, in walk order (library folders in order, names sorted within).
    pub skills: Vec<Skill>,
    /// Files and folders that were not read.
    pub skipped: Vec<Skipped>,
    /// The walk stopped at `max_entries`.
    pub truncated: bool,
    /// The stamps the read depended on.
    pub(crate) stamps: Vec<Stamp>,
}

/// Reads every library skill under `roots`, and the gateway routes to them.
pub(crate) fn read(roots: &Roots, config: &SkillsConfig) -> Library {
    let mut lib = Library::default();
    let mut entries = 0usize;
    for root in &roots.libraries {
        lib.stamps.push(Stamp::of(root));
        if !root.is_dir() {
            continue;
        }
        let mut walk = WalkDir::new(root)
            .follow_links(true)
            .max_depth(MAX_DEPTH)
            // A skill's own `SKILL.md` first: once it is read, the rest of its folder (references,
            // examples) is the skill's, not more skills.
            .sort_by(|a, b| {
                (a.file_name() != "SKILL.md")
                    .cmp(&(b.file_name() != "SKILL.md"))
                    .then_with(|| a.file_name().cmp(b.file_name()))
            })
            .into_iter();
        while let Some(next) = walk.next() {
            entries += 1;
            if entries > config.max_entries {
                lib.truncated = true;
                break;
            }
            let entry = match next {
                Ok(e) => e,
                Err(e) => {
                    let path = e.path().map(|p| roots.shown(p)).unwrap_or_default();
                    let why = if e.loop_ancestor().is_some() {
                        "a symlink loop; not followed".to_owned()
                    } else {
                        e.io_error()
                            .map_or_else(|| e.to_string(), ToString::to_string)
                    };
                    lib.skipped.push(Skipped { path, why });
                    continue;
                }
            };
            let path = entry.path();
            if entry.file_type().is_dir() {
                // The root is stamped above, whether or not it exists.
                if entry.depth() == 0 {
                    continue;
                }
                if entry.file_name().to_string_lossy().starts_with('.') {
                    walk.skip_current_dir();
                    continue;
                }
                lib.stamps.push(Stamp::of(path));
                continue;
            }
            if entry.file_name() != "SKILL.md" {
                continue;
            }
            walk.skip_current_dir();
            // A skill's folder needs no stamp of its own: nothing below it is read but this file, whose
            // stamp says when it changes or goes. (Its folder was stamped just before: `SKILL.md`
            // comes first.) One `stat` per skill, not two, on every prompt.
            if let Some(parent) = path.parent()
                && lib
                    .stamps
                    .last()
                    .is_some_and(|s| Path::new(&s.path) == parent)
            {
                lib.stamps.pop();
            }
            lib.stamps.push(Stamp::of(path));
            if path.to_str().is_none() {
                lib.skipped.push(Skipped {
                    path: roots.shown(path),
                    why: "its path is not UTF-8; the agent could not be told to read it".into(),
                });
                continue;
            }
            match read_skill(path, roots) {
                Ok(skill) => lib.skills.push(skill),
                Err(why) => lib.skipped.push(Skipped {
                    path: roots.shown(path),
                    why,
                }),
            }
        }
        if lib.truncated {
            break;
        }
    }
    add_routes(&mut lib, roots, config);
    mark_duplicates(&mut lib);
    lib
}

fn read_capped(path: &Path) -> Result<(String, bool), String> {
    let file = portcullis_core::files::open_regular(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    file.take(MAX_SKILL_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    let cut = bytes.len() as u64 > MAX_SKILL_BYTES;
    bytes.truncate(usize::try_from(MAX_SKILL_BYTES).unwrap_or(usize::MAX));
    Ok((String::from_utf8_lossy(&bytes).into_owned(), cut))
}

fn read_skill(path: &Path, roots: &Roots) -> Result<Skill, String> {
    let (text, cut) = read_capped(path)?;
    let folder = path
        .parent()
        .and_then(Path::file_name)
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut problems = Vec::new();
    if cut {
        problems.push(format!(
            "larger than {} KiB; only its start is indexed",
            MAX_SKILL_BYTES / 1024
        ));
    }
    let (fields, body) = if let Ok(split) = frontmatter::split(&text) {
        let fields = match frontmatter::parse(&split) {
            Parsed::Strict(f) => f,
            Parsed::Lenient(f, why, line) => {
                problems.push(format!(
                    "frontmatter line {line} is not YAML ({why}); read as the client reads it"
                ));
                f
            }
            Parsed::Broken(why, line) => {
                problems.push(format!(
                    "frontmatter line {line} is unreadable ({why}); matched on its folder name and headings only"
                ));
                frontmatter::Fields::new()
            }
        };
        (fields, split.body)
    } else {
        problems.push("no frontmatter; matched on its folder name and headings only".into());
        (frontmatter::Fields::new(), text.as_str())
    };
    let name = frontmatter::text(&fields, "name")
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or(folder);
    let description = frontmatter::text(&fields, "description")
        .map(|d| d.trim().to_owned())
        .filter(|d| !d.is_empty());
    match &description {
        None => problems.push("no description: routed on its name and headings only".into()),
        Some(d) if !d.to_lowercase().contains("use when") => {
            problems.push("the description says no \"Use when ...\" trigger".into());
        }
        Some(_) => {}
    }
    let keywords = frontmatter::list(&fields, "keywords")
        .or_else(|| frontmatter::list(&fields, "tags"))
        .unwrap_or_default();
    Ok(Skill {
        name,
        path: roots.shown(path),
        description,
        keywords,
        headings: headings(body),
        routes: Vec::new(),
        problems,
    })
}

/// Markdown headings outside code fences.
fn headings(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut fenced = false;
    for line in body.lines() {
        let t = line.trim_start();
        if t.starts_with("```") || t.starts_with("~~~") {
            fenced = !fenced;
            continue;
        }
        if fenced || !t.starts_with('#') {
            continue;
        }
        let h = t.trim_start_matches('#').trim();
        if !h.is_empty() {
            out.push(h.to_owned());
            if out.len() == MAX_HEADINGS {
                break;
            }
        }
    }
    out
}

/// A library path in a routing table's cell.
static ROUTE_PATH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:~/|\.claude/|/)?[\w./-]*skill-library/[\w./-]+").expect("valid regex")
});

/// Rows of gateway skills' tables (`| intent | path |`) add their intent to the skill they route to.
fn add_routes(lib: &mut Library, roots: &Roots, config: &SkillsConfig) {
    let by_path: BTreeMap<String, usize> = lib
        .skills
        .iter()
        .enumerate()
        .map(|(i, s)| (s.path.clone(), i))
        .collect();
    for core in &roots.core {
        lib.stamps.push(Stamp::of(core));
        let Ok(dirs) = std::fs::read_dir(core) else {
            continue;
        };
        let mut gateways: Vec<PathBuf> = dirs
            .flatten()
            .filter(|d| {
                d.file_name()
                    .to_string_lossy()
                    .starts_with(&config.gateway_prefix)
            })
            .map(|d| d.path().join("SKILL.md"))
            .collect();
        gateways.sort();
        for gateway in gateways {
            lib.stamps.push(Stamp::of(&gateway));
            let Ok((text, _)) = read_capped(&gateway) else {
                continue;
            };
            for line in text.lines().filter(|l| l.trim_start().starts_with('|')) {
                let cells: Vec<&str> = line.split('|').map(str::trim).collect();
                let Some(target) = cells.iter().find_map(|c| ROUTE_PATH.find(c)) else {
                    continue;
                };
                let Some(index) = resolve(target.as_str(), roots).and_then(|p| by_path.get(&p))
                else {
                    continue;
                };
                let intent: Vec<&str> = cells
                    .iter()
                    .filter(|c| !c.is_empty() && !ROUTE_PATH.is_match(c))
                    .copied()
                    .collect();
                if !intent.is_empty() {
                    lib.skills[*index].routes.push(intent.join(" "));
                }
            }
        }
    }
}

/// A routing table's path as a skill's shown path.
fn resolve(target: &str, roots: &Roots) -> Option<String> {
    let target = target.trim_end_matches(['.', ',', ')']);
    let path = if let Some(rest) = target.strip_prefix("~/") {
        roots.home.as_ref()?.join(rest)
    } else if target.starts_with('/') {
        PathBuf::from(target)
    } else {
        roots.project.join(target)
    };
    let path = if path.file_name().is_some_and(|n| n == "SKILL.md") {
        path
    } else {
        path.join("SKILL.md")
    };
    Some(roots.shown(&path))
}

/// A name two skills share: both are kept (each is read by path), and both say so.
fn mark_duplicates(lib: &mut Library) {
    let mut by_name: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, s) in lib.skills.iter().enumerate() {
        by_name.entry(s.name.clone()).or_default().push(i);
    }
    for same in by_name.values().filter(|v| v.len() > 1) {
        for &i in same {
            let others: Vec<String> = same
                .iter()
                .filter(|&&j| j != i)
                .map(|&j| lib.skills[j].path.clone())
                .collect();
            lib.skills[i].problems.push(format!(
                "its name is also the name of {}",
                others.join(", ")
            ));
        }
    }
}
