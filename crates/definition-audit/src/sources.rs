//! Where definitions are: the project's `.claude/agents/`, `.claude/skills/` and skill library, the
//! agents and skills of the plugins the settings enable, and with `--user` those of `~/.claude/`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use walkdir::WalkDir;

/// Most files looked at under one root: a hostile or huge tree costs a bounded walk.
const MAX_FILES_PER_ROOT: usize = 20_000;
/// Deepest folder looked into under one root.
const MAX_DEPTH: usize = 12;

/// Whose definition it is. Names must be unique within one origin.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Origin {
    Project,
    User,
    Plugin(String),
}

/// What kind of definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Agent,
    /// A skill registered with the client (`skills/`).
    Skill,
    /// A library skill, loaded by path through a gateway.
    Library,
}

impl Kind {
    pub(crate) fn is_skill(self) -> bool {
        matches!(self, Self::Skill | Self::Library)
    }
}

/// A definition file found.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub(crate) path: PathBuf,
    pub(crate) kind: Kind,
    pub(crate) origin: Origin,
}

/// Where to look.
#[derive(Debug)]
pub(crate) struct Roots<'a> {
    pub(crate) project: &'a Path,
    /// `~/.claude` (or `CLAUDE_CONFIG_DIR`), when known.
    pub(crate) claude_home: Option<&'a Path>,
    /// Also the user's own agents and skills.
    pub(crate) user: bool,
    /// The library, project-relative.
    pub(crate) library: &'a str,
}

/// Every definition under the roots, each once, in path order per source.
pub(crate) fn discover(roots: &Roots<'_>, incomplete: &mut Vec<String>) -> Vec<Found> {
    let mut out = Vec::new();
    let p = roots.project.join(".claude");
    agents_under(&p.join("agents"), &Origin::Project, &mut out, incomplete);
    skills_under(
        &p.join("skills"),
        Kind::Skill,
        &Origin::Project,
        &mut out,
        incomplete,
    );
    skills_under(
        &roots.project.join(roots.library),
        Kind::Library,
        &Origin::Project,
        &mut out,
        incomplete,
    );
    if let Some(home) = roots.claude_home {
        if roots.user {
            agents_under(&home.join("agents"), &Origin::User, &mut out, incomplete);
            skills_under(
                &home.join("skills"),
                Kind::Skill,
                &Origin::User,
                &mut out,
                incomplete,
            );
        }
        for (name, dir) in enabled_plugins(roots.project, home) {
            let origin = Origin::Plugin(name);
            agents_under(&dir.join("agents"), &origin, &mut out, incomplete);
            skills_under(
                &dir.join("skills"),
                Kind::Skill,
                &origin,
                &mut out,
                incomplete,
            );
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|f| seen.insert(f.path.clone()));
    out
}

/// Definitions under a folder the user named that the usual places do not cover (a plugin's source, a
/// collection of agents): every `SKILL.md`, and every Markdown file in a folder named `agents`.
pub(crate) fn discover_in(
    dir: &Path,
    library: &Path,
    out: &mut Vec<Found>,
    incomplete: &mut Vec<String>,
) {
    if dir.is_file() {
        if let Some(kind) = kind_of(dir, library) {
            out.push(Found {
                path: dir.to_path_buf(),
                kind,
                origin: Origin::Project,
            });
        }
        return;
    }
    let all = files(dir, incomplete);
    // An `agents` folder inside a skill holds prompts the skill hands to subagents, not definitions.
    let skill_dirs: Vec<&Path> = all
        .iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "SKILL.md"))
        .filter_map(|p| p.parent())
        .collect();
    for path in &all {
        let kind = kind_of(path, library);
        if kind == Some(Kind::Agent) && skill_dirs.iter().any(|d| path.starts_with(d)) {
            continue;
        }
        if let Some(kind) = kind {
            out.push(Found {
                path: path.clone(),
                kind,
                origin: Origin::Project,
            });
        }
    }
}

/// What a path is, judged by its name alone: `SKILL.md` anywhere is a skill (a library one under the
/// library), a Markdown file below an `agents` folder is an agent.
pub(crate) fn kind_of(path: &Path, library: &Path) -> Option<Kind> {
    let name = path.file_name()?.to_str()?;
    if name == "SKILL.md" {
        return Some(if path.starts_with(library) {
            Kind::Library
        } else {
            Kind::Skill
        });
    }
    let is_md = Path::new(name)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("md"));
    let under_agents = path.parent().is_some_and(|p| {
        p.ancestors()
            .any(|a| a.file_name().is_some_and(|n| n == "agents"))
    });
    (is_md && under_agents && !is_documentation(name)).then_some(Kind::Agent)
}

/// A README or similar beside agent files: not an agent.
fn is_documentation(name: &str) -> bool {
    let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
    ["readme", "changelog", "contributing", "license", "index"]
        .iter()
        .any(|d| stem.eq_ignore_ascii_case(d))
}

fn agents_under(dir: &Path, origin: &Origin, out: &mut Vec<Found>, incomplete: &mut Vec<String>) {
    for path in files(dir, incomplete) {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if Path::new(name)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("md"))
            && !is_documentation(name)
        {
            out.push(Found {
                path,
                kind: Kind::Agent,
                origin: origin.clone(),
            });
        }
    }
}

fn skills_under(
    dir: &Path,
    kind: Kind,
    origin: &Origin,
    out: &mut Vec<Found>,
    incomplete: &mut Vec<String>,
) {
    for path in files(dir, incomplete) {
        if path.file_name().is_some_and(|n| n == "SKILL.md") {
            out.push(Found {
                path,
                kind,
                origin: origin.clone(),
            });
        }
    }
}

/// Folders that hold no definitions, only what tools make or fetch: never walked. A virtualenv is also
/// known by its `pyvenv.cfg`, whatever its name. (A skill's own `.venv` of 30,000 files once used up the
/// walk's budget before any `SKILL.md` was reached.)
const NOT_DEFINITIONS: &[&str] = &[
    ".git",
    "node_modules",
    ".venv",
    "venv",
    "__pycache__",
    "site-packages",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".cache",
    "target",
];

/// Whether the walk passes over this folder entry.
fn not_definitions(e: &walkdir::DirEntry) -> bool {
    e.depth() > 0
        && e.file_type().is_dir()
        && (e
            .file_name()
            .to_str()
            .is_some_and(|n| NOT_DEFINITIONS.contains(&n))
            || e.path().join("pyvenv.cfg").is_file())
}

/// The files under `dir` (symlinks followed, loops and unreadable entries skipped), sorted, without the
/// [`NOT_DEFINITIONS`] folders. FIFOs, sockets and devices are listed too: a `SKILL.md` that is one is
/// reported, and never opened. A walk cut short by its limits is recorded in `incomplete`: an audit that
/// did not see everything must not say it passed.
fn files(dir: &Path, incomplete: &mut Vec<String>) -> Vec<PathBuf> {
    if !dir.is_dir() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut too_deep = false;
    let walk = WalkDir::new(dir)
        .follow_links(true)
        .max_depth(MAX_DEPTH)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| !not_definitions(e))
        .filter_map(Result::ok);
    for e in walk {
        if e.file_type().is_dir() {
            too_deep |= e.depth() == MAX_DEPTH;
            continue;
        }
        if out.len() == MAX_FILES_PER_ROOT {
            incomplete.push(format!(
                "{}: stopped after {MAX_FILES_PER_ROOT} files; definitions past them were not audited",
                dir.display()
            ));
            break;
        }
        out.push(e.into_path());
    }
    if too_deep {
        incomplete.push(format!(
            "{}: folders deeper than {MAX_DEPTH} levels were not looked into",
            dir.display()
        ));
    }
    out.sort();
    out
}

/// The plugins the settings enable, with their install folders: `enabledPlugins` of the user, project
/// and local settings (later wins), looked up in `plugins/installed_plugins.json`.
fn enabled_plugins(project: &Path, home: &Path) -> Vec<(String, PathBuf)> {
    let mut enabled: BTreeMap<String, bool> = BTreeMap::new();
    for file in [
        home.join("settings.json"),
        project.join(".claude/settings.json"),
        project.join(".claude/settings.local.json"),
    ] {
        let Some(Value::Object(map)) =
            read_json(&file).and_then(|v| v.get("enabledPlugins").cloned())
        else {
            continue;
        };
        for (id, on) in map {
            enabled.insert(id, on.as_bool().unwrap_or(false));
        }
    }
    if !enabled.values().any(|on| *on) {
        return Vec::new();
    }
    let Some(installed) = read_json(&home.join("plugins/installed_plugins.json")) else {
        return Vec::new();
    };
    let Some(plugins) = installed.get("plugins").and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (id, on) in &enabled {
        if !on {
            continue;
        }
        let installs: Vec<&Value> = match plugins.get(id) {
            Some(Value::Array(a)) => a.iter().collect(),
            Some(v @ Value::Object(_)) => vec![v],
            _ => continue,
        };
        let fits = |i: &&&Value| match i.get("scope").and_then(Value::as_str) {
            Some("project" | "local") => i
                .get("projectPath")
                .and_then(Value::as_str)
                .is_some_and(|p| Path::new(p) == project),
            _ => true,
        };
        if let Some(dir) = installs
            .iter()
            .find(fits)
            .and_then(|i| i.get("installPath"))
            .and_then(Value::as_str)
        {
            let name = id.split_once('@').map_or(id.as_str(), |(n, _)| n);
            out.push((name.to_string(), PathBuf::from(dir)));
        }
    }
    out
}

/// A small JSON file, or `None` when it is missing, not a regular file, too big or not JSON.
fn read_json(path: &Path) -> Option<Value> {
    let file = portcullis_core::files::open_regular(path).ok()?;
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::Read::take(file, 4 << 20), &mut text).ok()?;
    serde_json::from_str(&text).ok()
}
