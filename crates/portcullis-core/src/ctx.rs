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
    /// Whether [`Ctx::project`] is known to be a project: named by the client (`CLAUDE_PROJECT_DIR`), the
    /// event's existing `cwd` or above it, or a folder with `.git` or `.claude/`. When not, no state folder
    /// is created there ([`Ctx::state`]).
    pub project_known: bool,
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
        let home = env.var("HOME").map(PathBuf::from);
        let named = env.var(env_vars::CLAUDE_PROJECT_DIR).map(PathBuf::from);
        let project = named
            .clone()
            .unwrap_or_else(|| project_root_below(&cwd, home.as_deref(), &ceilings(&env)));
        // State is kept only where the client named the project, or where the folder shows it is one: an
        // event whose `cwd` is missing or gone (or a run by hand) must not make a project of wherever the
        // process happens to be.
        let cwd_given = event.cwd.as_deref().is_some_and(|c| !c.is_empty()) && cwd.is_dir();
        let known = named.is_some()
            || (project.is_dir()
                && (cwd_given
                    || project.join(".git").exists()
                    || project.join(".claude").is_dir()));
        Self {
            hook,
            env,
            project,
            project_known: known,
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
            project_known: true,
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
        let dir = StateDir::for_project(&self.env, &self.project);
        if self.project_known {
            dir
        } else {
            dir.not_a_project(&self.project)
        }
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

/// The project root for a `cwd`: the nearest ancestor (or itself) with a sign of being a project; the
/// `cwd` itself when none has one. The signs: `.git`; or `.claude/` in `cwd` itself; or, in a folder above
/// it, a `.claude/` that holds more than the suite's own state folder and is not the user's home folder
/// (`~/.claude/` holds the client's user settings, not a project's; a `.claude/portcullis/` alone is what a
/// stray hook run leaves behind, as once in `/tmp`, where every temp project below then took `/tmp` for its
/// root). The search does not climb into a folder named in `GIT_CEILING_DIRECTORIES`, as git's does not.
#[must_use]
pub fn find_project_root(cwd: &Path) -> PathBuf {
    let env = Env::Process;
    let home = env.var(env_vars::HOME).map(PathBuf::from);
    project_root_below(cwd, home.as_deref(), &ceilings(&env))
}

/// [`find_project_root`] with the home folder and the ceilings given.
#[must_use]
pub fn project_root_below(cwd: &Path, home: Option<&Path>, ceilings: &[PathBuf]) -> PathBuf {
    cwd.ancestors()
        .take_while(|dir| *dir == cwd || !ceilings.iter().any(|c| c == dir))
        .find(|dir| is_project_sign(dir, *dir == cwd, home))
        .unwrap_or(cwd)
        .to_path_buf()
}

/// The folders of `GIT_CEILING_DIRECTORIES` (absolute ones only, as git reads them).
fn ceilings(env: &Env) -> Vec<PathBuf> {
    env.var(env_vars::GIT_CEILING_DIRECTORIES)
        .map(|v| {
            std::env::split_paths(&v)
                .filter(|p| p.is_absolute())
                .collect()
        })
        .unwrap_or_default()
}

/// Whether `dir` shows it is a project (see [`find_project_root`]).
fn is_project_sign(dir: &Path, is_start: bool, home: Option<&Path>) -> bool {
    if dir.join(".git").exists() {
        return true;
    }
    let claude = dir.join(".claude");
    if !claude.is_dir() {
        return false;
    }
    if is_start {
        return true;
    }
    if home.is_some_and(|h| h == dir) {
        return false;
    }
    std::fs::read_dir(&claude).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name() != "portcullis" && e.file_name() != ".gitignore")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_root_walks_up_to_claude_or_git() {
        let t = tempfile::tempdir().unwrap();
        // Nothing above the temp folder may decide.
        let above = [t.path().parent().unwrap().to_path_buf()];
        let deep = t.path().join("a/b/c");
        std::fs::create_dir_all(&deep).unwrap();
        assert_eq!(project_root_below(&deep, None, &above), deep);
        std::fs::create_dir_all(t.path().join("a/.claude/agents")).unwrap();
        assert_eq!(project_root_below(&deep, None, &above), t.path().join("a"));
        std::fs::create_dir_all(t.path().join("a/b/.git")).unwrap();
        assert_eq!(
            project_root_below(&deep, None, &above),
            t.path().join("a/b")
        );
    }

    #[test]
    fn the_search_does_not_climb_into_a_ceiling() {
        let t = tempfile::tempdir().unwrap();
        let top = t.path();
        let deep = top.join("a/b");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::create_dir_all(top.join(".git")).unwrap();
        assert_eq!(project_root_below(&deep, None, &[]), top.to_path_buf());
        assert_eq!(project_root_below(&deep, None, &[top.join("a")]), deep);
        // The ceiling is the start itself: it is still looked at.
        std::fs::create_dir_all(deep.join(".claude")).unwrap();
        assert_eq!(
            project_root_below(&deep, None, std::slice::from_ref(&deep)),
            deep
        );
        let listed = format!("relative:{}", top.join("a").display());
        let env = Env::from_pairs([(env_vars::GIT_CEILING_DIRECTORIES, listed.as_str())]);
        assert_eq!(ceilings(&env), vec![top.join("a")]);
    }

    #[test]
    fn a_stray_state_folder_or_the_home_settings_above_are_no_project() {
        let t = tempfile::tempdir().unwrap();
        let top = t.path();
        let above = [top.parent().unwrap().to_path_buf()];
        let deep = top.join("proj/src");
        std::fs::create_dir_all(&deep).unwrap();
        // What a stray hook run leaves behind (once in /tmp): not a sign of a project.
        std::fs::create_dir_all(top.join(".claude/portcullis/sessions")).unwrap();
        std::fs::write(top.join(".claude/portcullis/.gitignore"), "*\n").unwrap();
        assert_eq!(project_root_below(&deep, None, &above), deep);
        // The user's own settings in the home folder: not a project either.
        std::fs::write(top.join(".claude/settings.json"), "{}").unwrap();
        assert_eq!(project_root_below(&deep, Some(top), &above), deep);
        // The same settings in a folder that is not home: a project (a monorepo's root).
        assert_eq!(project_root_below(&deep, None, &above), top.to_path_buf());
        // The folder's own `.claude/` always counts, even in home.
        std::fs::create_dir_all(deep.join(".claude")).unwrap();
        assert_eq!(project_root_below(&deep, Some(&deep), &above), deep);
    }

    #[test]
    fn no_state_folder_is_made_where_no_project_is_known() {
        let t = tempfile::tempdir().unwrap();
        let gone = t.path().join("gone");
        let e = Event::parse(
            format!(r#"{{"hook_event_name":"Stop","cwd":"{}"}}"#, gone.display()).as_bytes(),
        )
        .unwrap();
        // Nothing above the temp folder (a `.git` there) may make it a project.
        let env = || {
            Env::from_pairs([(
                env_vars::GIT_CEILING_DIRECTORIES,
                t.path().to_str().unwrap(),
            )])
        };
        let ctx = Ctx::for_event("t", &e, env(), Deadline::after(Duration::from_secs(1)));
        assert!(!ctx.project_known);
        let err = ctx.state().ensure().unwrap_err().to_string();
        assert!(err.contains("not a project"), "{err}");
        assert!(!gone.exists(), "the missing folder was made");

        std::fs::create_dir_all(&gone).unwrap();
        let ctx = Ctx::for_event("t", &e, env(), Deadline::after(Duration::from_secs(1)));
        assert!(
            ctx.project_known,
            "an existing cwd the client names is a project"
        );
        ctx.state().ensure().unwrap();
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
