//! [`Ctx`]: everything a hook's `decide` may consult besides the event: the project root, the
//! environment, the clock, the deadline, config (loaded on first use) and the state folder. All of it is
//! injectable, so a unit test needs no process, no HOME and no repository.

use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::OnceLock;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::{Config, Schema, SectionSpec};
use crate::deadline::Deadline;
use crate::env::Env;
use crate::env_vars;
use crate::error::{Error, Result};
use crate::event::Event;
use crate::state::StateDir;

/// The context of one hook run.
#[derive(Debug)]
pub struct Ctx {
    /// The hook's name (its binary name).
    pub hook: &'static str,
    /// Environment variables.
    pub env: Env,
    /// The project root (see [`find_project_root`]).
    pub project: PathBuf,
    /// The directory the event happened in (`cwd`, else the project).
    pub cwd: PathBuf,
    /// The time this run started.
    pub now: DateTime<Utc>,
    /// When growing work must stop.
    pub deadline: Deadline,
    sections: &'static [SectionSpec],
    config: OnceLock<std::result::Result<Config, String>>,
    preset_config: Option<Config>,
    typed: TypedSections,
    notes: RefCell<Vec<String>>,
}

/// Sections already read in this run, by type: a hook may ask for its section in several places, and
/// each ask would otherwise deserialize it again.
#[derive(Default)]
struct TypedSections(RefCell<Vec<(TypeId, Box<dyn Any>)>>);

impl std::fmt::Debug for TypedSections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TypedSections({})", self.0.borrow().len())
    }
}

impl Ctx {
    /// The context for a real run: project from `CLAUDE_PROJECT_DIR` or the event's `cwd`.
    #[must_use]
    pub fn for_event(hook: &'static str, event: &Event, env: Env, deadline: Deadline) -> Self {
        let process_cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        let cwd = event.cwd.as_deref().filter(|c| !c.is_empty()).map_or_else(
            || process_cwd.clone(),
            |c| crate::event::absolutize(Path::new(c), &process_cwd),
        );
        let project = env
            .var(env_vars::CLAUDE_PROJECT_DIR)
            .map_or_else(|| find_project_root(&cwd), PathBuf::from);
        Self {
            hook,
            env,
            project,
            cwd,
            now: Utc::now(),
            deadline,
            sections: &[],
            config: OnceLock::new(),
            preset_config: None,
            typed: TypedSections::default(),
            notes: RefCell::new(Vec::new()),
        }
    }

    /// A context for tests: fixed project, empty environment, the given config.
    #[must_use]
    pub fn for_test(hook: &'static str, project: &Path, config: Config) -> Self {
        Self {
            hook,
            env: Env::from_pairs([]),
            project: project.to_path_buf(),
            cwd: project.to_path_buf(),
            now: Utc::now(),
            deadline: Deadline::after(Duration::from_secs(60)),
            sections: &[],
            config: OnceLock::new(),
            preset_config: Some(config),
            typed: TypedSections::default(),
            notes: RefCell::new(Vec::new()),
        }
    }

    /// The config sections the hook reads, checked strictly when config is loaded ([`crate::Hook::SECTIONS`]).
    #[must_use]
    pub fn with_sections(mut self, sections: &'static [SectionSpec]) -> Self {
        self.sections = sections;
        self
    }

    /// Section `S` of the config (see [`Config::section`]), read once per run and shared.
    pub fn section<S: crate::config::Section + 'static>(&self) -> Result<Rc<S>> {
        let id = TypeId::of::<S>();
        if let Some(s) = self
            .typed
            .0
            .borrow()
            .iter()
            .find(|(t, _)| *t == id)
            .and_then(|(_, v)| v.downcast_ref::<Rc<S>>())
        {
            return Ok(Rc::clone(s));
        }
        let s: Rc<S> = Rc::new(self.config()?.section()?);
        self.typed
            .0
            .borrow_mut()
            .push((id, Box::new(Rc::clone(&s))));
        Ok(s)
    }

    /// Replaces the clock (tests).
    #[must_use]
    pub fn with_now(mut self, now: DateTime<Utc>) -> Self {
        self.now = now;
        self
    }

    /// Replaces the environment (tests).
    #[must_use]
    pub fn with_env(mut self, env: Env) -> Self {
        self.env = env;
        self
    }

    /// The merged config, loaded on first use. A bad config file is an error naming file and key.
    pub fn config(&self) -> Result<&Config> {
        if let Some(c) = &self.preset_config {
            return Ok(c);
        }
        self.config
            .get_or_init(|| {
                Config::load(&self.env, &self.project, Schema::hook(self.sections))
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|m| Error::Other(m.clone()))
    }

    /// The project's state folder (created on first write).
    #[must_use]
    pub fn state(&self) -> StateDir {
        StateDir::for_project(&self.env, &self.project)
    }

    /// Records a warning for the decision log (written by the run loop as a `warning` entry). For problems
    /// the user should fix that must not change the verdict, e.g. a malformed agent file.
    pub fn note(&self, message: impl Into<String>) {
        self.notes.borrow_mut().push(message.into());
    }

    /// The warnings recorded so far.
    #[must_use]
    pub fn take_notes(&self) -> Vec<String> {
        std::mem::take(&mut self.notes.borrow_mut())
    }

    /// A warning for stderr, printed by the run loop on one line with any others (exit-0 stderr reaches
    /// only Claude Code's debug log).
    pub fn warn(&self, message: &str) {
        crate::warnings::push(message);
    }
}

/// The project a command-line tool works on: `explicit` (`--project`), else `$CLAUDE_PROJECT_DIR`, else
/// the project around the current folder; canonical when it exists. The hooks' counterpart is
/// [`Ctx::for_event`].
#[must_use]
pub fn cli_project(explicit: Option<PathBuf>, env: &Env) -> PathBuf {
    let project = explicit
        .or_else(|| env.var(env_vars::CLAUDE_PROJECT_DIR).map(PathBuf::from))
        .unwrap_or_else(|| {
            find_project_root(&std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")))
        });
    project.canonicalize().unwrap_or(project)
}

/// The project root for a `cwd`: the nearest ancestor (or itself) holding `.claude/` or `.git`; the
/// `cwd` itself when none does.
#[must_use]
pub fn find_project_root(cwd: &Path) -> PathBuf {
    cwd.ancestors()
        .find(|dir| dir.join(".claude").is_dir() || dir.join(".git").exists())
        .unwrap_or(cwd)
        .to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_root_walks_up_to_claude_or_git() {
        let t = tempfile::tempdir().unwrap();
        let deep = t.path().join("a/b/c");
        std::fs::create_dir_all(&deep).unwrap();
        assert_eq!(find_project_root(&deep), deep);
        std::fs::create_dir_all(t.path().join("a/.claude")).unwrap();
        assert_eq!(find_project_root(&deep), t.path().join("a"));
        std::fs::create_dir_all(t.path().join("a/b/.git")).unwrap();
        assert_eq!(find_project_root(&deep), t.path().join("a/b"));
    }

    #[test]
    fn claude_project_dir_wins_over_cwd() {
        let e = Event::parse(br#"{"hook_event_name":"Stop","cwd":"/somewhere/else"}"#).unwrap();
        let ctx = Ctx::for_event(
            "t",
            &e,
            Env::from_pairs([("CLAUDE_PROJECT_DIR", "/proj")]),
            Deadline::after(Duration::from_secs(1)),
        );
        assert_eq!(ctx.project, PathBuf::from("/proj"));
        assert_eq!(ctx.cwd, PathBuf::from("/somewhere/else"));
    }

    #[test]
    fn cli_project_prefers_the_flag_then_the_env() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().canonicalize().unwrap();
        let env = Env::from_pairs([("CLAUDE_PROJECT_DIR", "/from-env")]);
        assert_eq!(cli_project(Some(p.clone()), &env), p);
        assert_eq!(cli_project(None, &env), PathBuf::from("/from-env"));
    }

    #[test]
    fn a_section_is_read_once_per_run() {
        let config = Config::default().with_section(&crate::config::StopConfig {
            max_consecutive_blocks: 4,
        });
        let ctx = Ctx::for_test("t", Path::new("/p"), config);
        for _ in 0..3 {
            let stop = ctx.section::<crate::config::StopConfig>().unwrap();
            assert_eq!(stop.max_consecutive_blocks, 4);
        }
        let _ = ctx.section::<crate::config::LogConfig>().unwrap();
        assert_eq!(ctx.typed.0.borrow().len(), 2, "one entry per section type");
    }

    #[test]
    fn empty_env_values_are_unset() {
        let env = Env::from_pairs([("HOME", ""), ("CLAUDE_CONFIG_DIR", "/c")]);
        assert_eq!(env.var("HOME"), None);
        assert_eq!(env.claude_home(), Some(PathBuf::from("/c")));
    }
}
