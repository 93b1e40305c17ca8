//! Helpers shared by the suite's tests.

use std::path::Path;
use std::process::{Command, Output};

use portcullis_testkit::workspace_bin;

/// Runs the hook binary `hook` on `input` in project `root` as the client would (cleared environment,
/// `CLAUDE_PROJECT_DIR` set, a HOME that holds nothing); panics when it does not exit 0.
pub(crate) fn run_hook(hook: &str, root: &Path, input: &[u8]) -> Output {
    let mut cmd = Command::new(workspace_bin(hook));
    cmd.current_dir(root)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", root.join("no-home"))
        .env("CLAUDE_PROJECT_DIR", root);
    let out = portcullis_testkit::run_with_stdin(&mut cmd, input).unwrap();
    assert!(
        out.status.success(),
        "{hook}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs the hook binary `bin` as a client that runs it through the shell would: `--client CLIENT`, a
/// cleared environment but PATH and `env`, in `project`, with `event` on stdin (no trailing newline, as the
/// clients write it). Its exit status is the caller's to judge.
pub(crate) fn run_as_client(
    bin: &Path,
    client: &str,
    project: &Path,
    env: &[(&str, &std::ffi::OsStr)],
    event: &serde_json::Value,
) -> Output {
    let mut cmd = Command::new(bin);
    cmd.args(["--client", client])
        .current_dir(project)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(env.iter().copied());
    portcullis_testkit::run_with_stdin(&mut cmd, event.to_string().as_bytes()).unwrap()
}

/// The verdicts every client's renderer is checked on: each decision, with and without a reason, context,
/// messages, a rewritten input and a replaced output (in the shape `output` gives).
pub(crate) fn sample_verdicts(output: &serde_json::Value) -> Vec<portcullis_core::Verdict> {
    use portcullis_core::Verdict;
    use serde_json::json;
    vec![
        Verdict::deny("d"),
        Verdict::deny(""),
        Verdict::ask("a"),
        Verdict::block("b").with_context("c").with_user_message("u"),
        Verdict::allow().with_context("c"),
        Verdict::allow().with_user_message("u"),
        Verdict::allow().with_updated_input(json!({"command": "ls"})),
        Verdict::allow().with_updated_tool_output(output.clone()),
        Verdict::allow()
            .with_updated_tool_output(json!(""))
            .with_context("c"),
        Verdict::deny("d").with_updated_input(json!({"command": "ls"})),
    ]
}

/// A small deterministic generator (xorshift64); tests print the seed with every failure.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    /// A number below `n` (`n` > 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// A seed from the clock (never 0).
pub(crate) fn seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| {
            d.as_secs().rotate_left(32) ^ u64::from(d.subsec_nanos())
        })
        | 1
}

/// The captured event of the hook's first registration (its main path, which each hook lists first): the
/// event's own capture, else the capture named by the first tool or source its matcher names, else any
/// capture of that event. Taken from the registry, so a new hook is covered without an edit here.
pub(crate) fn home_event(hook: &str) -> String {
    if hook == "context-filter" {
        // Its work starts at a large output: a small one ends before config and state are read.
        return "PostToolUse-Bash-persisted".to_owned();
    }
    let spec = portcullis_suite::hook(hook).expect("a registered hook");
    let reg = spec.registrations[0];
    let dir = portcullis_testkit::decide::events_dir();
    let exists = |name: &str| dir.join(format!("{name}.json")).is_file();
    if exists(reg.event) {
        return reg.event.to_owned();
    }
    let tokens = reg
        .matcher
        .unwrap_or_default()
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .filter(|t| !t.is_empty());
    for token in tokens {
        let name = format!("{}-{token}", reg.event);
        if exists(&name) {
            return name;
        }
    }
    let mut any: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".json").map(str::to_owned))
        .filter(|n| n.starts_with(&format!("{}-", reg.event)))
        .collect();
    any.sort();
    any.into_iter()
        .next()
        .unwrap_or_else(|| panic!("no captured {} event for {hook}", reg.event))
}

/// Arms a completion-promise loop for `session` in project `root` (`iteration-limit loop start`).
pub(crate) fn arm_promise_loop(root: &Path, session: &str, promise: &str, max: u32, task: &str) {
    let ok = Command::new(workspace_bin("iteration-limit"))
        .args(["loop", "start", "--promise", promise, "--max-iterations"])
        .arg(max.to_string())
        .args(["--session", session, "--project"])
        .arg(root)
        .args(["--", task])
        .env("HOME", root.join("no-home"))
        .status()
        .unwrap()
        .success();
    assert!(ok, "loop start");
}

/// Runs `portcullis ARGS` in `root` with a cleared environment (a HOME that holds nothing, no git
/// repository above the project).
pub(crate) fn portcullis(root: &Path, args: &[&str]) -> Output {
    Command::new(workspace_bin("portcullis"))
        .args(args)
        .current_dir(root)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", root.join("no-home"))
        .env(
            "GIT_CEILING_DIRECTORIES",
            root.parent().unwrap_or(root).as_os_str(),
        )
        .output()
        .unwrap()
}

/// The `additionalContext` a hook answered (empty when it answered nothing); panics unless it exited 0.
pub(crate) fn context_of(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    if out.stdout.is_empty() {
        return String::new();
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["hookSpecificOutput"]["additionalContext"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}
