//! Agent definitions: Markdown files whose YAML frontmatter has a `name:`.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use portcullis_core::Deadline;
use portcullis_core::state::{StateDir, StateFile, stable_hash};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use walkdir::WalkDir;

use crate::domains::{DomainMatch, MatchKind};

/// Where an agent definition was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AgentSource {
    /// `<project>/.claude/agents/`.
    Project,
    /// `~/.claude/agents/`.
    User,
    /// An enabled plugin's `agents/`.
    Plugin,
}

/// One agent definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentDef {
    /// The name Claude Code knows it by (`subagent_type`): frontmatter `name`, `plugin:name` for plugins.
    pub name: String,
    /// The file.
    pub path: PathBuf,
    /// Where it came from.
    pub source: AgentSource,
    /// Project-relative globs of the files this agent owns (frontmatter `owns:`, which the client
    /// ignores): a domain declared where the agent is declared.
    pub owns: Vec<String>,
    /// The domain those globs form (frontmatter `domain:`; default: the name without `-developer`).
    pub domain: Option<String>,
    /// Frontmatter `description:` when it is one plain line (what the agent is for: a reviewer or a tester
    /// is also found by it).
    #[serde(default)]
    pub description: Option<String>,
}

impl AgentDef {
    /// The domain this agent declares, when it declares files it owns.
    #[must_use]
    pub fn declared_domain(&self) -> Option<String> {
        if self.owns.is_empty() {
            return None;
        }
        let bare = self.name.rsplit(':').next().unwrap_or(&self.name);
        Some(
            self.domain
                .clone()
                .unwrap_or_else(|| bare.strip_suffix("-developer").unwrap_or(bare).to_owned()),
        )
    }
}

/// All agent definitions visible to a project, and the files that could not be read.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentCatalog {
    /// Definitions, project first, then user, then plugins.
    pub agents: Vec<AgentDef>,
    /// Files skipped, with why (no frontmatter, no `name`, unreadable).
    pub skipped: Vec<(PathBuf, String)>,
}

/// Agent files are small; a larger file is read only this far (the frontmatter is at the top).
const HEAD_BYTES: u64 = 16 * 1024;
/// How deep the agent folders are walked.
const MAX_DEPTH: usize = 8;

/// Which agents a cache file holds, and its name.
trait CacheKind {
    const NAME: &'static str;
}

/// Every agent: `<state>/agent-catalog.json`.
#[derive(Debug, Default)]
struct Everyone;

impl CacheKind for Everyone {
    const NAME: &'static str = "agent-catalog";
}

/// Only the agents that declare files they own (`owns:`): `<state>/agent-domains.json`. feedback-loop
/// needs these on every tracked edit; most projects have none, so this file stays tiny where the full
/// catalog would be read whole.
#[derive(Debug, Default)]
struct Declaring;

impl CacheKind for Declaring {
    const NAME: &'static str = "agent-domains";
}

/// A catalog as last read, with the fingerprint of the agent files it was read from.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(bound = "")]
struct Cached<K> {
    fingerprint: u64,
    catalog: AgentCatalog,
    #[serde(skip)]
    kind: std::marker::PhantomData<K>,
}

impl<K: CacheKind + Default> StateFile for Cached<K> {
    const NAME: &'static str = K::NAME;
    // 2: descriptions are kept; a catalog cached without them is read again.
    const SCHEMA_VERSION: u32 = 2;
}

/// The catalog cached as kind `K` when its fingerprint is `fingerprint`, else `build`'s, stored for next
/// time.
fn cached<K: CacheKind + Default>(
    state: &StateDir,
    fingerprint: u64,
    build: impl FnOnce() -> AgentCatalog,
) -> AgentCatalog {
    if let Ok((cache, _)) = state.load::<Cached<K>>()
        && cache.fingerprint == fingerprint
    {
        return cache.catalog;
    }
    let catalog = build();
    let deadline = Deadline::after(std::time::Duration::from_millis(200));
    let _ = state.update::<Cached<K>, _>(&deadline, |c| {
        c.fingerprint = fingerprint;
        c.catalog = catalog.clone();
    });
    catalog
}

/// The folders agents are read from, in catalog order: (folder, source, plugin name).
fn agent_dirs(
    project: &Path,
    claude_home: Option<&Path>,
) -> Vec<(PathBuf, AgentSource, Option<String>)> {
    let mut dirs = vec![(
        project.join(".claude").join("agents"),
        AgentSource::Project,
        None,
    )];
    if let Some(home) = claude_home {
        dirs.push((home.join("agents"), AgentSource::User, None));
        for (plugin, dir) in enabled_plugin_dirs(project, home) {
            dirs.push((dir.join("agents"), AgentSource::Plugin, Some(plugin)));
        }
    }
    dirs
}

/// The most entries one agent folder's walk looks at, and the longest it may take: an agent folder holds
/// tens of files; a folder that holds a whole tree (or a link to one) must not cost every hook call more.
const MAX_WALK_ENTRIES: usize = 2_000;
const MAX_WALK_TIME: std::time::Duration = std::time::Duration::from_millis(200);

/// The agent files (`*.md`) of one folder, sorted, with their metadata, and a note when the walk was cut
/// short. Links to folders are not followed (a link to `/` would walk the file system); a link to a
/// file is read as that file (agents kept in a dotfiles repository are linked in one by one).
fn agent_files(dir: &Path) -> (Vec<(PathBuf, std::fs::Metadata)>, Option<String>) {
    let started = std::time::Instant::now();
    let mut files = Vec::new();
    let walk = WalkDir::new(dir)
        .max_depth(MAX_DEPTH)
        .follow_links(false)
        .sort_by_file_name();
    for (seen, entry) in walk
        .into_iter()
        .filter_map(std::result::Result::ok)
        .enumerate()
    {
        if seen >= MAX_WALK_ENTRIES || started.elapsed() > MAX_WALK_TIME {
            let note = format!(
                "the walk stopped after {seen} entries ({} ms): an agent folder should hold agent files, \
                 not a tree",
                started.elapsed().as_millis()
            );
            return (files, Some(note));
        }
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "md") {
            continue;
        }
        let metadata = if entry.path_is_symlink() {
            std::fs::metadata(path).ok()
        } else {
            entry.metadata().ok()
        };
        if let Some(m) = metadata.filter(std::fs::Metadata::is_file) {
            files.push((path.to_path_buf(), m));
        }
    }
    (files, None)
}

/// What the catalog depends on, without reading a file: each agent file's path, size and modification
/// time (a rename, an added or removed file, or an edit changes it), hashed without regard to walk order.
fn fingerprint(dirs: &[(PathBuf, AgentSource, Option<String>)]) -> u64 {
    use std::os::unix::ffi::OsStrExt;
    let mut total: u64 = 0;
    for (i, (dir, _, plugin)) in dirs.iter().enumerate() {
        let head = format!("{i} {} {}", plugin.as_deref().unwrap_or("-"), dir.display());
        total = total.wrapping_add(stable_hash(head.bytes()));
        if !dir.is_dir() {
            continue;
        }
        let (files, cut) = agent_files(dir);
        total = total.wrapping_add(u64::from(cut.is_some()));
        for (path, m) in files {
            let mtime = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            let bytes = path.as_os_str().as_bytes().iter().copied();
            let meta = m.len().to_le_bytes().into_iter().chain(mtime.to_le_bytes());
            // Summed, so the order the folder lists its files in does not matter.
            total = total.wrapping_add(stable_hash(bytes.chain(meta)));
        }
    }
    total
}

impl AgentCatalog {
    /// Scans the project's, the user's (`claude_home` = `~/.claude`) and enabled plugins' agents.
    #[must_use]
    pub fn discover(project: &Path, claude_home: Option<&Path>) -> Self {
        let mut catalog = Self::default();
        for (dir, source, plugin) in agent_dirs(project, claude_home) {
            catalog.scan(&dir, source, plugin.as_deref());
        }
        catalog
    }

    /// [`Self::discover`], reusing the catalog cached in `state` (`agent-catalog.json`) while no agent
    /// file was added, removed, renamed or changed since it was written: the hooks then stat the agent
    /// files instead of reading them. A cache that cannot be read or written is only slower.
    #[must_use]
    pub fn discover_cached(project: &Path, claude_home: Option<&Path>, state: &StateDir) -> Self {
        let dirs = agent_dirs(project, claude_home);
        cached::<Everyone>(state, fingerprint(&dirs), || {
            let mut catalog = Self::default();
            for (dir, source, plugin) in &dirs {
                catalog.scan(dir, *source, plugin.as_deref());
            }
            catalog
        })
    }

    /// The agents that declare files they own (`owns:`), cached like [`Self::discover_cached`] in a file
    /// of their own, so that asking costs a stat of each agent file and the read of a small file.
    #[must_use]
    pub fn declaring_cached(project: &Path, claude_home: Option<&Path>, state: &StateDir) -> Self {
        let fingerprint = fingerprint(&agent_dirs(project, claude_home));
        cached::<Declaring>(state, fingerprint, || Self {
            agents: Self::discover_cached(project, claude_home, state)
                .agents
                .into_iter()
                .filter(|a| !a.owns.is_empty())
                .collect(),
            skipped: Vec::new(),
        })
    }

    /// The first definition named `name`.
    #[must_use]
    pub fn find(&self, name: &str) -> Option<&AgentDef> {
        self.agents.iter().find(|a| a.name == name)
    }

    /// A definition named `name`, or a plugin agent named `<plugin>:name`.
    #[must_use]
    pub fn find_for_domain(&self, name: &str) -> Option<&AgentDef> {
        self.find(name).or_else(|| {
            self.agents.iter().find(|a| {
                a.source == AgentSource::Plugin && a.name.rsplit(':').next() == Some(name)
            })
        })
    }

    /// The domain an agent declares for the project-relative `rel` (`owns:` in its frontmatter), the first
    /// declaring agent winning; globs that do not parse are skipped.
    #[must_use]
    pub fn declared_domain_of(&self, rel: &str) -> Option<DomainMatch> {
        self.agents.iter().find_map(|a| {
            let domain = a.declared_domain()?;
            let glob = a
                .owns
                .iter()
                .find(|g| crate::glob(g).is_ok_and(|g| g.compile_matcher().is_match(rel)))?;
            Some(DomainMatch {
                domain,
                rule: format!("`owns: {glob}` of the agent `{}`", a.name),
                kind: MatchKind::Declared,
            })
        })
    }

    fn scan(&mut self, dir: &Path, source: AgentSource, plugin: Option<&str>) {
        if !dir.is_dir() {
            return;
        }
        let (files, cut) = agent_files(dir);
        if let Some(note) = cut {
            self.skipped.push((dir.to_path_buf(), note));
        }
        for (path, _) in &files {
            let path = path.as_path();
            match read_frontmatter(path) {
                Ok(front) => self.agents.push(AgentDef {
                    name: plugin
                        .map_or_else(|| front.name.clone(), |p| format!("{p}:{}", front.name)),
                    path: path.to_path_buf(),
                    source,
                    owns: front.owns,
                    domain: front.domain,
                    description: front.description,
                }),
                Err(why) => self.skipped.push((path.to_path_buf(), why)),
            }
        }
    }
}

/// What portcullis reads of an agent's YAML frontmatter.
#[derive(Debug, Default)]
struct Frontmatter {
    name: String,
    owns: Vec<String>,
    domain: Option<String>,
    description: Option<String>,
}

/// Reads `name:`, `owns:` (a flow list `[a, b]`, a block list of `- a` lines, or one glob) and `domain:`
/// from a file's YAML frontmatter. Only these plain forms are read; the client ignores `owns:` and
/// `domain:`.
fn read_frontmatter(path: &Path) -> Result<Frontmatter, String> {
    let mut head = String::new();
    portcullis_core::files::open_regular(path)
        .and_then(|f| f.take(HEAD_BYTES).read_to_string(&mut head))
        .map_err(|e| format!("unreadable: {e}"))?;
    let head = head.strip_prefix('\u{feff}').unwrap_or(&head);
    let mut lines = head.lines().peekable();
    if lines.next().map(str::trim_end) != Some("---") {
        return Err("no YAML frontmatter (the file must start with `---`)".into());
    }
    let unquote = |v: &str| v.trim().trim_matches(['"', '\'']).trim().to_owned();
    let mut front = Frontmatter::default();
    let mut name = None;
    while let Some(line) = lines.next() {
        let line = line.trim_end();
        if line == "---" {
            break;
        }
        if let Some(value) = line.strip_prefix("name:") {
            name.get_or_insert_with(|| unquote(value));
        } else if let Some(value) = line.strip_prefix("domain:") {
            front.domain = Some(unquote(value)).filter(|d| !d.is_empty());
        } else if let Some(value) = line.strip_prefix("description:") {
            front.description =
                Some(unquote(value)).filter(|d| !d.is_empty() && d != "|" && d != ">");
        } else if let Some(value) = line.strip_prefix("owns:") {
            let value = value.trim();
            if let Some(list) = value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
                front.owns = list
                    .split(',')
                    .map(unquote)
                    .filter(|g| !g.is_empty())
                    .collect();
            } else if !value.is_empty() {
                front.owns = vec![unquote(value)];
            } else {
                while let Some(item) = lines.peek().and_then(|l| l.trim_start().strip_prefix("- "))
                {
                    front.owns.push(unquote(item));
                    lines.next();
                }
            }
        }
    }
    match name {
        Some(n) if !n.is_empty() => {
            front.name = n;
            Ok(front)
        }
        Some(_) => Err("`name:` is empty".into()),
        None => Err("frontmatter has no `name:`".into()),
    }
}

/// `(plugin name, install folder)` of every plugin enabled in the user's or the project's settings, as
/// recorded in `~/.claude/plugins/installed_plugins.json`.
fn enabled_plugin_dirs(project: &Path, home: &Path) -> Vec<(String, PathBuf)> {
    let mut enabled: Vec<String> = Vec::new();
    for settings in [
        home.join("settings.json"),
        project.join(".claude/settings.json"),
        project.join(".claude/settings.local.json"),
    ] {
        let Some(v) = read_json(&settings) else {
            continue;
        };
        if let Some(map) = v.get("enabledPlugins").and_then(Value::as_object) {
            for (id, on) in map {
                if on.as_bool() == Some(true) && !enabled.contains(id) {
                    enabled.push(id.clone());
                }
            }
        }
    }
    if enabled.is_empty() {
        return Vec::new();
    }
    let Some(installed) = read_json(&home.join("plugins").join("installed_plugins.json")) else {
        return Vec::new();
    };
    let plugins = installed.get("plugins").unwrap_or(&installed);
    enabled
        .into_iter()
        .filter_map(|id| {
            let record = plugins.get(&id)?;
            let dir = find_install_path(record)?;
            let name = id.split('@').next().unwrap_or(&id).to_owned();
            Some((name, PathBuf::from(dir)))
        })
        .collect()
}

/// The first `installPath` in a plugin record (an object, or a list of per-scope objects).
fn find_install_path(v: &Value) -> Option<&str> {
    match v {
        Value::Object(m) => m
            .get("installPath")
            .and_then(Value::as_str)
            .or_else(|| m.values().find_map(find_install_path)),
        Value::Array(a) => a.iter().find_map(find_install_path),
        _ => None,
    }
}

fn read_json(path: &Path) -> Option<Value> {
    let text = fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(p: &Path, text: &str) {
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }

    #[test]
    fn the_cached_catalog_is_used_until_an_agent_file_changes() {
        let t = tempfile::tempdir().unwrap();
        let project = t.path().join("p");
        let agent = project.join(".claude/agents/backend-developer.md");
        write(&agent, "---\nname: backend-developer\n---\n");
        let state = StateDir::for_project(&portcullis_core::Env::from_pairs([]), &project);
        let first = AgentCatalog::discover_cached(&project, None, &state);
        assert_eq!(first, AgentCatalog::discover(&project, None));
        // Tamper with the cache: the next call returns it, so it read no agent file.
        let cache = project.join(".claude/portcullis/agent-catalog.json");
        let text = fs::read_to_string(&cache).unwrap();
        fs::write(
            &cache,
            text.replace("\"backend-developer\"", "\"from-the-cache\""),
        )
        .unwrap();
        let cached = AgentCatalog::discover_cached(&project, None, &state);
        assert_eq!(cached.agents[0].name, "from-the-cache");
        // An edit (another size) or a new file makes it read the files again.
        write(
            &agent,
            "---\nname: backend-developer\ndescription: d\n---\n",
        );
        let fresh = AgentCatalog::discover_cached(&project, None, &state);
        assert_eq!(fresh.agents[0].name, "backend-developer");
        write(&project.join(".claude/agents/b.md"), "---\nname: b\n---\n");
        assert_eq!(
            AgentCatalog::discover_cached(&project, None, &state)
                .agents
                .len(),
            2
        );
    }

    #[test]
    fn owns_and_domain_are_read_from_the_frontmatter() {
        let t = tempfile::tempdir().unwrap();
        let f = |name: &str, text: &str| {
            let p = t.path().join(name);
            write(&p, text);
            read_frontmatter(&p).unwrap()
        };
        let flow = f(
            "a.md",
            "---\nname: payments-developer\nowns: [\"services/payments/**\", 'libs/billing/**']\n---\n",
        );
        assert_eq!(flow.owns, ["services/payments/**", "libs/billing/**"]);
        let block = f(
            "b.md",
            "---\nname: x\nowns:\n  - a/**\n  - \"b/**\"\ndomain: data\ndescription: d\n---\n",
        );
        assert_eq!(
            (block.owns, block.domain.as_deref()),
            (vec!["a/**".to_owned(), "b/**".to_owned()], Some("data"))
        );
        let one = f(
            "c.md",
            "---\nname: x\nowns: ml/**\n---\nowns: not/frontmatter/**\n",
        );
        assert_eq!(one.owns, ["ml/**"]);
        let def = AgentDef {
            name: "payments-developer".into(),
            path: PathBuf::new(),
            source: AgentSource::Project,
            owns: vec!["services/payments/**".into()],
            domain: None,
            description: None,
        };
        assert_eq!(def.declared_domain().as_deref(), Some("payments"));
        let catalog = AgentCatalog {
            agents: vec![def],
            skipped: Vec::new(),
        };
        let hit = catalog
            .declared_domain_of("services/payments/src/a.ts")
            .unwrap();
        assert_eq!(
            (hit.domain.as_str(), hit.kind),
            ("payments", MatchKind::Declared)
        );
        assert!(catalog.declared_domain_of("services/users/a.ts").is_none());
    }

    #[test]
    fn finds_project_user_and_plugin_agents_and_skips_bad_files() {
        let t = tempfile::tempdir().unwrap();
        let proj = t.path().join("proj");
        let home = t.path().join("home/.claude");
        write(
            &proj.join(".claude/agents/backend-developer.md"),
            "---\nname: backend-developer\ndescription: x\n---\nbody",
        );
        write(
            &proj.join(".claude/agents/nested/deep/web.md"),
            "---\nname: \"frontend-developer\"\n---\n",
        );
        write(
            &proj.join(".claude/agents/broken.md"),
            "no frontmatter here",
        );
        write(
            &proj.join(".claude/agents/noname.md"),
            "---\ndescription: x\n---\n",
        );
        write(
            &home.join("agents/infra-developer.md"),
            "---\nname: infra-developer\n---\n",
        );
        write(
            &home.join("settings.json"),
            r#"{"enabledPlugins":{"acme@market":true,"off@market":false}}"#,
        );
        let plugin_dir = t.path().join("plugins/acme");
        write(
            &plugin_dir.join("agents/docs-developer.md"),
            "---\nname: docs-developer\n---\n",
        );
        write(
            &home.join("plugins/installed_plugins.json"),
            &format!(
                r#"{{"version":2,"plugins":{{"acme@market":[{{"scope":"user","installPath":"{}"}}]}}}}"#,
                plugin_dir.display()
            ),
        );
        let c = AgentCatalog::discover(&proj, Some(&home));
        assert_eq!(
            c.find("backend-developer").unwrap().source,
            AgentSource::Project
        );
        assert!(c.find("frontend-developer").is_some());
        assert_eq!(c.find("infra-developer").unwrap().source, AgentSource::User);
        assert_eq!(
            c.find_for_domain("docs-developer").unwrap().name,
            "acme:docs-developer"
        );
        assert_eq!(c.skipped.len(), 2);
        assert!(c.find("nobody").is_none());
    }
}
