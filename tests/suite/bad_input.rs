//! The bad-input catalogue: every hook binary on every bad input, as a process, in one table.
//!
//! For each (input, hook) the table gives the outcome class (README "Bad input"):
//! - `Open`: the hook cannot decide and takes its failure policy (every hook fails open today: exit 1,
//!   empty stdout, one stderr line `portcullis <hook>: <cause>`; Claude Code shows a notice and the action
//!   proceeds).
//! - `Pass`: exit 0, empty stdout (the input is not the hook's business, or it is tolerated).
//! - `Decides`: exit 0 and a verdict or nothing; at most one stderr line (a warning).
//!
//! Every run also must: not panic, finish within [`WATCHDOG`] (a hang detector, not a speed test), stay under
//! a 1 GiB address-space limit, and lose no state: a run that fails leaves the state folder byte-identical,
//! and every state file left behind parses.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use portcullis_core::HookSpec;
use portcullis_core::child;
use portcullis_suite::HOOKS;
use portcullis_testkit::workspace_bin;

use crate::support::home_event;
use serde_json::{Value, json};

/// The hooks that parse the tool's input of their home event (a Write of `api/x.go`).
const READ_TOOL_INPUT: &[&str] = &[
    "agent-first",
    "feedback-loop",
    "workspace-guard",
    "definition-audit",
];

/// The hooks that keep no per-session state.
const NO_SESSION_STATE: &[&str] = &[
    "agent-first",
    "compaction-gate",
    "secret-guard",
    "definition-audit",
    "feature-progress",
];

/// Hooks that read no config on their home event (a write that is not a definition; no section).
const NO_CONFIG_HERE: &[&str] = &["definition-audit", "feature-progress"];

fn open_if(open: bool) -> Outcome {
    if open {
        Outcome::Open
    } else {
        Outcome::Decides
    }
}

/// A run that takes longer than this is a hang.
pub(crate) const WATCHDOG: Duration = Duration::from_secs(30);

/// The address-space limit every run gets (KiB, for `ulimit -v`).
const MEMORY_LIMIT_KIB: u64 = 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Open,
    Pass,
    Decides,
}

/// One project for one run.
pub(crate) struct Project {
    _dir: tempfile::TempDir,
    pub(crate) root: PathBuf,
    env: BTreeMap<String, String>,
}

impl Project {
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap().join("project");
        std::fs::create_dir_all(root.join(".claude/agents")).unwrap();
        std::fs::create_dir_all(root.join("api")).unwrap();
        std::fs::write(
            root.join(".claude/agents/backend-developer.md"),
            "---\nname: backend-developer\n---\n",
        )
        .unwrap();
        let transcript = root.join("transcript.jsonl");
        let line = json!({"type": "assistant", "message": {"role": "assistant", "model": "claude-sonnet-4-5",
            "content": [{"type": "text", "text": "done"}],
            "usage": {"input_tokens": 1000, "output_tokens": 10}}});
        std::fs::write(&transcript, format!("{line}\n")).unwrap();
        Self {
            _dir: dir,
            root,
            env: BTreeMap::new(),
        }
    }

    fn state(&self) -> PathBuf {
        self.root.join(".claude/portcullis")
    }

    fn session_state(&self) -> PathBuf {
        self.state().join("sessions/bad-input")
    }
}

#[test]
fn each_hook_is_tried_on_its_main_path() {
    let homes: Vec<(&str, String)> = HOOKS.iter().map(|h| (h.name, home_event(h.name))).collect();
    let get = |n: &str| homes.iter().find(|(h, _)| *h == n).map(|(_, e)| e.as_str());
    assert_eq!(get("agent-first"), Some("PreToolUse-Write"));
    assert_eq!(get("compaction-gate"), Some("PreToolUse-Agent"));
    assert_eq!(get("feedback-loop"), Some("PostToolUse-Write"));
    assert_eq!(get("iteration-limit"), Some("PreToolUse-Bash"));
    assert_eq!(get("output-location"), Some("Stop"));
}

/// The state file a hook reads on its home event.
fn own_state(hook: &str) -> Option<&'static str> {
    match hook {
        "feedback-loop" => Some("feedback-loop.json"),
        "output-location" => Some("output-location.json"),
        "loop-detect" => Some("loop-detect.json"),
        "iteration-limit" => Some("attempts.json"),
        "escalation-advisor" => Some("escalation.json"),
        _ => None,
    }
}

/// The hook's home event, re-pointed at the project, with `changes` applied (`null` removes a key).
pub(crate) fn event(p: &Project, hook: &str, changes: &Value) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../../fixtures/events/{}.json", home_event(hook)));
    let mut e: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    e["session_id"] = json!("bad-input");
    e["cwd"] = json!(p.root);
    e["transcript_path"] = json!(p.root.join("transcript.jsonl"));
    if let Some(input) = e.get_mut("tool_input")
        && input.get("file_path").is_some()
    {
        input["file_path"] = json!(p.root.join("api/x.go"));
    }
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            e.as_object_mut().unwrap().remove(k);
        } else {
            e[k] = v.clone();
        }
    }
    e.to_string().into_bytes()
}

fn file_path(p: &Project, hook: &str, path: &str) -> Vec<u8> {
    let mut e: Value = serde_json::from_slice(&event(p, hook, &json!({}))).unwrap();
    if let Some(input) = e.get_mut("tool_input") {
        input["file_path"] = json!(path);
    }
    e.to_string().into_bytes()
}

/// A transcript case: the hook's event with the transcript (and a subagent's) at `path`, no last message.
fn transcript_at(p: &Project, hook: &str, path: &Path) -> Vec<u8> {
    event(
        p,
        hook,
        &json!({"transcript_path": path, "agent_transcript_path": path, "last_assistant_message": null}),
    )
}

type Setup = fn(&mut Project, &HookSpec) -> Vec<u8>;

/// The outcome class of a hook on an input.
type Expect = fn(&str) -> Outcome;

/// (name, setup, outcome per hook). One table on purpose: a row per input reads better than helpers.
#[allow(clippy::too_many_lines)]
fn catalogue() -> Vec<(&'static str, Setup, Expect)> {
    fn open(_: &str) -> Outcome {
        Outcome::Open
    }
    fn pass(_: &str) -> Outcome {
        Outcome::Pass
    }
    fn decides(_: &str) -> Outcome {
        Outcome::Decides
    }
    vec![
        ("empty stdin", |_, _| Vec::new(), open),
        ("whitespace", |_, _| b" \n\t\r\n ".to_vec(), open),
        ("not JSON", |_, _| b"PreToolUse please".to_vec(), open),
        (
            "JSON array",
            |_, _| b"[{\"hook_event_name\":\"Stop\"}]".to_vec(),
            open,
        ),
        ("JSON number", |_, _| b"42".to_vec(), open),
        ("JSON string", |_, _| b"\"Stop\"".to_vec(), open),
        (
            "truncated JSON",
            |p, h| {
                let mut e = event(p, h.name, &json!({}));
                e.truncate(e.len() / 2);
                e
            },
            open,
        ),
        (
            "invalid UTF-8",
            |p, h| {
                let mut e = event(p, h.name, &json!({"session_id": "XX"}));
                let at = e.windows(2).position(|w| w == b"XX").unwrap();
                e[at] = 0xff;
                e[at + 1] = 0xfe;
                e
            },
            open,
        ),
        (
            // JavaScript strings may hold one half of a surrogate pair; JSON.stringify writes it as an
            // escape that serde_json refuses. Every hook must still decide (issue 35, item 21).
            "lone surrogate escapes in the tool input and the event",
            |p, h| {
                let mut e: Value = serde_json::from_slice(&event(p, h.name, &json!({}))).unwrap();
                if let Some(input) = e.get_mut("tool_input").and_then(Value::as_object_mut) {
                    for key in ["content", "description", "command", "new_string"] {
                        if let Some(Value::String(s)) = input.get_mut(key) {
                            s.push_str("LONE-HIGH");
                        }
                    }
                }
                e["last_assistant_message"] = json!("done LONE-LOW");
                e.to_string()
                    .replace("LONE-HIGH", "\\ud800")
                    .replace("LONE-LOW", "\\udfff")
                    .into_bytes()
            },
            decides,
        ),
        (
            "deeply nested JSON in an unknown field",
            |p, h| {
                let e = String::from_utf8(event(p, h.name, &json!({}))).unwrap();
                let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
                format!("{},\"extra\":{deep}}}", &e[..e.len() - 1]).into_bytes()
            },
            decides,
        ),
        (
            "deeply nested tool_input",
            |p, h| {
                let e = String::from_utf8(event(p, h.name, &json!({"tool_input": "X"}))).unwrap();
                let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
                e.replace("\"X\"", &deep).into_bytes()
            },
            // Only the hooks that read this tool's input parse it (and meet serde's depth limit).
            |h| open_if(READ_TOOL_INPUT.contains(&h)),
        ),
        (
            "64 MB stdin",
            |p, h| {
                let e = String::from_utf8(event(p, h.name, &json!({}))).unwrap();
                let pad = "a".repeat(64 * 1024 * 1024);
                format!("{},\"pad\":\"{pad}\"}}", &e[..e.len() - 1]).into_bytes()
            },
            open,
        ),
        (
            "hook_event_name missing",
            |p, h| event(p, h.name, &json!({"hook_event_name": null})),
            open,
        ),
        (
            "hook_event_name of the wrong type",
            |p, h| event(p, h.name, &json!({"hook_event_name": 7})),
            open,
        ),
        (
            "session_id of the wrong type",
            |p, h| event(p, h.name, &json!({"session_id": {"id": 1}})),
            open,
        ),
        (
            "tool_input of the wrong type",
            |p, h| event(p, h.name, &json!({"tool_input": "rm -rf /"})),
            // Hooks that read the input of this tool cannot; the others never look at it.
            |h| open_if(READ_TOOL_INPUT.contains(&h)),
        ),
        (
            "session_id missing",
            |p, h| event(p, h.name, &json!({"session_id": null})),
            // Hooks that keep per-session state need it.
            |h| open_if(!NO_SESSION_STATE.contains(&h)),
        ),
        (
            "session_id escaping the state folder",
            |p, h| event(p, h.name, &json!({"session_id": "../../etc"})),
            |h| open_if(!NO_SESSION_STATE.contains(&h)),
        ),
        (
            "unknown event",
            |p, h| event(p, h.name, &json!({"hook_event_name": "SomethingNew"})),
            pass,
        ),
        (
            "NUL byte in a path",
            |p, h| file_path(p, h.name, &format!("{}/api/x\u{0}.go", p.root.display())),
            decides,
        ),
        (
            "path with .. escaping the project",
            |p, h| file_path(p, h.name, &format!("{}/../../etc/x.go", p.root.display())),
            decides,
        ),
        (
            "symlink escaping the project",
            |p, h| {
                let outside = p.root.parent().unwrap().join("outside");
                std::fs::create_dir_all(&outside).unwrap();
                std::os::unix::fs::symlink(&outside, p.root.join("api/link")).unwrap();
                file_path(p, h.name, &format!("{}/api/link/x.go", p.root.display()))
            },
            decides,
        ),
        (
            "transcript missing",
            |p, h| transcript_at(p, h.name, &p.root.join("nope.jsonl")),
            decides,
        ),
        (
            "transcript empty",
            |p, h| {
                let t = p.root.join("empty.jsonl");
                std::fs::write(&t, "").unwrap();
                transcript_at(p, h.name, &t)
            },
            decides,
        ),
        (
            "transcript truncated mid-line",
            |p, h| {
                let t = p.root.join("cut.jsonl");
                std::fs::write(&t, "{\"type\":\"assistant\",\"message\":{\"role\":\"assistant\",\"content\":[{\"type\":\"te").unwrap();
                transcript_at(p, h.name, &t)
            },
            decides,
        ),
        (
            "transcript is a folder",
            |p, h| transcript_at(p, h.name, &p.root.join("api")),
            decides,
        ),
        (
            "transcript is a FIFO nobody writes",
            |p, h| {
                let t = p.root.join("fifo.jsonl");
                portcullis_testkit::mkfifo(&t);
                transcript_at(p, h.name, &t)
            },
            decides,
        ),
        (
            "corrupt state file",
            |p, h| {
                if let Some(f) = own_state(h.name) {
                    std::fs::create_dir_all(p.session_state()).unwrap();
                    std::fs::write(
                        p.session_state().join(f),
                        "{\"schema_version\":1,\"state\":{tor",
                    )
                    .unwrap();
                }
                event(p, h.name, &json!({}))
            },
            decides,
        ),
        (
            "zero-length state file",
            |p, h| {
                if let Some(f) = own_state(h.name) {
                    std::fs::create_dir_all(p.session_state()).unwrap();
                    std::fs::write(p.session_state().join(f), "").unwrap();
                }
                event(p, h.name, &json!({}))
            },
            decides,
        ),
        (
            "state folder unwritable (a file is in its place)",
            |p, h| {
                let blocker = p.root.join("state-is-a-file");
                std::fs::write(&blocker, "x").unwrap();
                p.env
                    .insert("PORTCULLIS_STATE_DIR".into(), blocker.display().to_string());
                event(p, h.name, &json!({}))
            },
            // Hooks that must write state on this event cannot decide; the others do not write
            // (workspace-guard's claims live in `.claude/locks/`, not in the state folder).
            |h| open_if(!(NO_SESSION_STATE.contains(&h) || h == "workspace-guard")),
        ),
        (
            "config with an unknown key",
            |p, h| {
                std::fs::write(
                    p.root.join(".claude/portcullis.json"),
                    r#"{"agent_frist": {"mode": "off"}}"#,
                )
                .unwrap();
                event(p, h.name, &json!({}))
            },
            // A near miss of a hook's own section is its error; another hook's section is not its business
            // (`portcullis doctor` reports it), so a typo there cannot switch the other hooks off.
            |h| {
                let owns = portcullis_suite::hook(h)
                    .is_some_and(|s| s.sections.iter().any(|s| s.key == "agent_first"));
                if owns {
                    Outcome::Open
                } else {
                    Outcome::Decides
                }
            },
        ),
        (
            "config with a wrong type",
            |p, h| {
                std::fs::write(
                    p.root.join(".claude/portcullis.json"),
                    r#"{"stop": {"max_consecutive_blocks": "six"}}"#,
                )
                .unwrap();
                event(p, h.name, &json!({}))
            },
            |h| open_if(!NO_CONFIG_HERE.contains(&h)),
        ),
    ]
}

/// Every file under `dir` with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    walk(dir)
        .into_iter()
        .filter_map(|p| std::fs::read(&p).ok().map(|b| (p, b)))
        .collect()
}

/// What changed between two snapshots, apart from whole lines appended to the decision log (a failed run
/// logs its error).
fn changed(
    before: &BTreeMap<PathBuf, Vec<u8>>,
    after: &BTreeMap<PathBuf, Vec<u8>>,
) -> Option<String> {
    for (path, old) in before {
        match after.get(path) {
            None => return Some(format!("{} is gone", path.display())),
            Some(new) if path.ends_with("log.jsonl") => {
                if !new.starts_with(old) || !new.ends_with(b"\n") {
                    return Some("the log was rewritten".into());
                }
            }
            Some(new) if new != old => return Some(format!("{} changed", path.display())),
            Some(_) => {}
        }
    }
    after
        .keys()
        .find(|p| !before.contains_key(*p) && !p.ends_with("log.jsonl"))
        .map(|p| format!("{} appeared", p.display()))
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Seeds valid state (a real run of the hook's home event), so "state not lost" has something to lose.
fn seed(p: &Project, hook: &HookSpec) {
    let mut cmd = Command::new(workspace_bin(hook.name));
    cmd.current_dir(&p.root)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", p.root.join("home"))
        .env("CLAUDE_PROJECT_DIR", &p.root);
    let _ = child::run(cmd, &event(p, hook.name, &json!({})), WATCHDOG, 1 << 20).unwrap();
}

#[test]
fn every_hook_on_every_bad_input() {
    let mut failures = Vec::new();
    let mut runs = 0;
    for (name, setup, expect) in catalogue() {
        for hook in HOOKS {
            let mut p = Project::new();
            seed(&p, hook);
            let input = setup(&mut p, hook);
            let before = snapshot(&p.state());
            let mut cmd = Command::new("sh");
            cmd.args(["-c", &format!("ulimit -v {MEMORY_LIMIT_KIB}; exec \"$0\"")])
                .arg(workspace_bin(hook.name))
                .current_dir(&p.root)
                .env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .env("HOME", p.root.join("home"))
                .env("CLAUDE_PROJECT_DIR", &p.root)
                .envs(&p.env);
            let out = child::run(cmd, &input, WATCHDOG, 1 << 20).unwrap();
            runs += 1;
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
            let want = expect(hook.name);
            let mut problems = Vec::new();
            if out.timed_out {
                problems.push("hung".to_owned());
            }
            if stderr.contains("panicked") || stderr.contains("internal error") {
                problems.push("panicked".to_owned());
            }
            if stderr.lines().count() > 1 {
                problems.push(format!("{} stderr lines", stderr.lines().count()));
            }
            match want {
                Outcome::Open => {
                    let code = i32::from(hook.on_error.code());
                    if out.code != Some(code)
                        || !stdout.is_empty()
                        || !stderr.starts_with(&format!("portcullis {}", hook.name))
                    {
                        problems.push(format!("expected the failure policy: exit {code} with one `portcullis <hook>` line"));
                    }
                    if let Some(what) = changed(&before, &snapshot(&p.state())) {
                        problems.push(format!("a failed run changed the state folder: {what}"));
                    }
                }
                Outcome::Pass => {
                    if out.code != Some(0) || !stdout.is_empty() || !stderr.is_empty() {
                        problems.push("expected exit 0 and no output".into());
                    }
                }
                Outcome::Decides => {
                    let json_ok = stdout.is_empty()
                        || serde_json::from_str::<Value>(&stdout).is_ok_and(|v| v.is_object());
                    if out.code != Some(0) || !json_ok {
                        problems.push("expected exit 0 with a verdict or nothing".into());
                    }
                }
            }
            for file in walk(&p.state()) {
                let is_json = file.extension().is_some_and(|x| x == "json");
                if is_json
                    && serde_json::from_slice::<Value>(&std::fs::read(&file).unwrap()).is_err()
                {
                    problems.push(format!("state file {} does not parse", file.display()));
                }
                if file.extension().is_some_and(|x| x == "jsonl") {
                    let text = std::fs::read_to_string(&file).unwrap();
                    if text
                        .lines()
                        .any(|l| serde_json::from_str::<Value>(l).is_err())
                    {
                        problems.push("a torn log line".into());
                    }
                }
            }
            if !problems.is_empty() {
                failures.push(format!(
                    "{name} / {}: {} (exit {:?}, stdout {:?}, stderr {:?})",
                    hook.name,
                    problems.join("; "),
                    out.code,
                    stdout.chars().take(200).collect::<String>(),
                    stderr.chars().take(300).collect::<String>()
                ));
            }
        }
    }
    assert!(runs >= 200, "{runs} runs");
    assert!(
        failures.is_empty(),
        "{} of {runs} runs failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
