//! Unit tests of a hook's `decide` without a process: a temp project, a captured event re-pointed at it,
//! and a [`Ctx`] with the environment, config and clock the test gives.
//!
//! ```no_run
//! # use portcullis_core::{Hook, Failure, Registration, Ctx, Event, Result, Verdict};
//! # struct MyHook;
//! # impl Hook for MyHook { const NAME: &'static str = "h"; const SUMMARY: &'static str = "";
//! #   const EVENTS: &'static [Registration] = &[]; const ON_ERROR: Failure = Failure::Open;
//! #   fn decide(_: &Event, _: &Ctx) -> Result<Verdict> { Ok(Verdict::allow()) } }
//! use portcullis_testkit::decide::TestProject;
//! use serde_json::json;
//!
//! let p = TestProject::new();
//! p.put("api/x.go", "package x\n");
//! let event = p.event("PreToolUse-Write", &json!({"tool_input": {"file_path": p.path("api/x.go")}}));
//! let ctx = p.ctx::<MyHook>().config(&json!({"log": {"enabled": false}})).build();
//! let verdict = MyHook::decide(&event, &ctx).unwrap();
//! ```

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use portcullis_core::config::{Layer, Schema, SectionSpec};
use portcullis_core::{Config, Ctx, Env, Event, Hook};
use serde_json::{Value, json};

/// The folder of the captured events (`fixtures/events/`).
#[must_use]
pub fn events_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/events")
}

/// The captured event `fixtures/events/<name>.json`, re-pointed at `root` (`cwd`, a `transcript_path`
/// inside it, session `session`), then `changes` applied key by key (`null` removes a key). The one way
/// every test loads a real event.
#[must_use]
pub fn captured(name: &str, root: &Path, session: &str, changes: &Value) -> Value {
    repointed(
        &events_dir().join(format!("{name}.json")),
        root,
        session,
        &root.join("transcript.jsonl"),
        changes,
    )
}

/// The captured Codex event `fixtures/events-codex/<name>.json`, re-pointed at `root` (`cwd`, session
/// `session`, `rollout` as its `transcript_path`), then `changes` applied as in [`captured`].
#[must_use]
pub fn captured_codex(
    name: &str,
    root: &Path,
    session: &str,
    rollout: &Path,
    changes: &Value,
) -> Value {
    let path = events_dir().join(format!("../events-codex/{name}.json"));
    repointed(&path, root, session, rollout, changes)
}

/// The captured Gemini event `fixtures/events-gemini/<name>.json`, re-pointed at `root` (`cwd`, session
/// `session`, `transcript` as its `transcript_path`), then `changes` applied as in [`captured`].
#[must_use]
pub fn captured_gemini(
    name: &str,
    root: &Path,
    session: &str,
    transcript: &Path,
    changes: &Value,
) -> Value {
    let path = events_dir().join(format!("../events-gemini/{name}.json"));
    repointed(&path, root, session, transcript, changes)
}

/// The captured Copilot event `fixtures/events-copilot/<name>.json`, re-pointed at `root` (`cwd`, session
/// `session`), then `changes` applied as in [`captured`]. Its `transcript_path` is kept only where Copilot
/// sends one (Stop), set to `events`.
#[must_use]
pub fn captured_copilot(
    name: &str,
    root: &Path,
    session: &str,
    events: &Path,
    changes: &Value,
) -> Value {
    let path = events_dir().join(format!("../events-copilot/{name}.json"));
    let mut e = repointed(&path, root, session, events, changes);
    if e["hook_event_name"] != "Stop"
        && changes.get("transcript_path").is_none()
        && let Some(o) = e.as_object_mut()
    {
        o.remove("transcript_path");
    }
    e
}

fn repointed(path: &Path, root: &Path, session: &str, transcript: &Path, changes: &Value) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut e: Value =
        serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    e["session_id"] = json!(session);
    e["cwd"] = json!(root);
    e["transcript_path"] = json!(transcript);
    if let (Some(obj), Some(changes)) = (e.as_object_mut(), changes.as_object()) {
        for (k, v) in changes {
            if v.is_null() {
                obj.remove(k);
            } else {
                obj.insert(k.clone(), v.clone());
            }
        }
    }
    e
}

/// A project in a temp folder (canonical path, with `.claude/`), removed when dropped.
#[derive(Debug)]
pub struct TestProject {
    /// The project root.
    pub root: PathBuf,
    _dir: tempfile::TempDir,
}

impl Default for TestProject {
    fn default() -> Self {
        Self::new()
    }
}

impl TestProject {
    /// A fresh project.
    #[must_use]
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().canonicalize().expect("canonical temp dir");
        std::fs::create_dir_all(root.join(".claude")).expect("creating .claude");
        Self { root, _dir: dir }
    }

    /// `rel` inside the project, as a string (for event fields).
    #[must_use]
    pub fn path(&self, rel: &str) -> String {
        self.root.join(rel).display().to_string()
    }

    /// Writes `text` to `rel`, creating folders.
    pub fn put(&self, rel: &str, text: &str) {
        let p = self.root.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("creating folders");
        }
        std::fs::write(&p, text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    }

    /// Runs `git ARGS` in the project (a real repository for the hooks that read git state); panics when
    /// git fails.
    pub fn git(&self, args: &[&str]) {
        let out = std::process::Command::new("git")
            .current_dir(&self.root)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
            .args([
                "-c",
                "commit.gpgsign=false",
                "-c",
                "init.defaultBranch=main",
            ])
            .args(args)
            .output()
            .expect("running git");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Defines an agent `name` in `.claude/agents/`.
    pub fn agent(&self, name: &str) {
        self.put(
            &format!(".claude/agents/{name}.md"),
            &format!("---\nname: {name}\ndescription: Use when testing.\n---\nbody\n"),
        );
    }

    /// The captured event `name` re-pointed at this project ([`captured`], session `test-session`).
    #[must_use]
    pub fn event_json(&self, name: &str, changes: &Value) -> Value {
        captured(name, &self.root, "test-session", changes)
    }

    /// [`Self::event_json`], parsed as the hooks parse it.
    #[must_use]
    pub fn event(&self, name: &str, changes: &Value) -> Event {
        let json = self.event_json(name, changes);
        Event::parse(json.to_string().as_bytes()).expect("a captured event parses")
    }

    /// A context builder for hook `H` in this project.
    #[must_use]
    pub fn ctx<H: Hook>(&self) -> CtxBuilder {
        CtxBuilder {
            hook: H::NAME,
            sections: H::SECTIONS,
            project: self.root.clone(),
            env: vec![("HOME".into(), self.path("no-home"))],
            config: json!({}),
            now: None,
        }
    }
}

/// Builds the [`Ctx`] of one test: the project, an environment (only `HOME`, pointing nowhere, unless
/// the test adds more), a config checked as the hook's own loader checks it, and a clock.
#[derive(Debug)]
pub struct CtxBuilder {
    hook: &'static str,
    sections: &'static [SectionSpec],
    project: PathBuf,
    env: Vec<(String, String)>,
    config: Value,
    now: Option<DateTime<Utc>>,
}

impl CtxBuilder {
    /// Sets an environment variable.
    #[must_use]
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// The config, as a `portcullis.json` would give it.
    #[must_use]
    pub fn config(mut self, config: &Value) -> Self {
        self.config = config.clone();
        self
    }

    /// The time of the run.
    #[must_use]
    pub fn now(mut self, now: DateTime<Utc>) -> Self {
        self.now = Some(now);
        self
    }

    /// The context; panics when the config does not pass the hook's own checks.
    #[must_use]
    pub fn build(self) -> Ctx {
        let layer = Layer {
            path: self.project.join(".claude/portcullis.json"),
            value: self.config,
        };
        let config = Config::from_layers(&[layer], Schema::hook(self.sections))
            .unwrap_or_else(|e| panic!("test config: {e}"));
        let env = Env::from_pairs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let ctx = Ctx::for_test(self.hook, &self.project, config).with_env(env);
        match self.now {
            Some(now) => ctx.with_now(now),
            None => ctx,
        }
    }
}
