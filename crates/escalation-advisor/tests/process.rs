//! escalation-advisor as a process on captured events (from `fixtures/events/`, re-pointed at a temp
//! project), with real advisor programs (shell scripts) standing in for the advisor model: thresholds,
//! once per streak level, the decision log as evidence, loop-detect's `stuck`, redaction, the prompt
//! bound, timeouts, exit codes, garbage answers, and the recursion guard.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_escalation-advisor");
const HINT: &str = "Run the failing test alone and read its first error before editing again.";

struct Project {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Project {
    /// A project whose advisor is `script` (a shell script body; `$PROMPT_FILE` is where it may save
    /// its stdin).
    fn new(script: &str, extra: &Value) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join(".claude")).unwrap();
        let advisor = root.join("advisor.sh");
        let body = format!(
            "PROMPT_FILE='{}'\n{script}\n",
            root.join("prompt.txt").display()
        );
        std::fs::write(&advisor, body).unwrap();
        let mut config = json!({"escalation_advisor": {"command": ["sh", advisor]}});
        for (k, v) in extra.as_object().unwrap() {
            config["escalation_advisor"][k] = v.clone();
        }
        std::fs::write(root.join(".claude/portcullis.json"), config.to_string()).unwrap();
        Self { _dir: dir, root }
    }

    fn answering(hint: &str) -> Self {
        Self::new(
            &format!("cat > \"$PROMPT_FILE\"\necho '{hint}'"),
            &json!({}),
        )
    }

    fn event(&self, name: &str, changes: &Value) -> Value {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("../../fixtures/events/{name}.json"));
        let mut e: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        e["session_id"] = json!("e5ca-1a7e");
        e["cwd"] = json!(self.root);
        e["transcript_path"] = json!(self.root.join("none.jsonl"));
        e["prompt_id"] = json!("prompt-1");
        e["last_assistant_message"] = json!("I will try the same fix again.");
        for (k, v) in changes.as_object().unwrap() {
            e[k] = v.clone();
        }
        e
    }

    fn output(&self, event: &Value, env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(BIN);
        cmd.current_dir(&self.root)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.root.join("no-home"))
            .envs(env.iter().copied());
        portcullis_testkit::run_with_stdin(&mut cmd, event.to_string().as_bytes()).unwrap()
    }

    /// Runs one event: exit 0, at most one stderr line (a warning), and the verdict JSON if any.
    fn run(&self, event: &Value) -> (Option<Value>, String) {
        let out = self.output(event, &[]);
        assert!(out.status.success(), "{out:?}");
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            err.is_empty()
                || (err.starts_with("portcullis")
                    && err.contains("warning:")
                    && err.lines().count() == 1),
            "{err}"
        );
        let verdict =
            (!out.stdout.is_empty()).then(|| serde_json::from_slice(&out.stdout).unwrap());
        (verdict, err)
    }

    /// `n` stops of the main agent, the first with `stop_hook_active: false` and the rest true (a chain of
    /// blocked stops); returns each verdict.
    fn chain(&self, n: usize) -> Vec<Option<Value>> {
        (0..n)
            .map(|i| {
                self.run(&self.event("Stop", &json!({"stop_hook_active": i > 0})))
                    .0
            })
            .collect()
    }

    fn log(&self) -> Vec<Value> {
        std::fs::read_to_string(self.root.join(".claude/portcullis/log.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn escalations(&self) -> Vec<Value> {
        self.log()
            .into_iter()
            .filter(|e| e["verdict"] == "escalate")
            .collect()
    }

    /// Appends a decision-log entry as another portcullis hook would.
    fn log_entry(&self, hook: &str, verdict: &str, reason: &str) {
        let entry = json!({
            "time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "session": "e5ca-1a7e", "agent": "main", "hook": hook, "event": "Stop",
            "verdict": verdict, "reason": reason, "micros": 100,
        });
        let path = self.root.join(".claude/portcullis/log.jsonl");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        std::io::Write::write_all(&mut file, format!("{entry}\n").as_bytes()).unwrap();
    }

    fn prompt(&self) -> String {
        std::fs::read_to_string(self.root.join("prompt.txt")).unwrap()
    }
}

fn context(v: &Value) -> &str {
    v["hookSpecificOutput"]["additionalContext"]
        .as_str()
        .unwrap_or("")
}

fn message(v: &Value) -> &str {
    v["systemMessage"].as_str().unwrap_or("")
}

#[test]
fn the_fifth_stop_after_four_blocks_escalates_once() {
    let p = Project::answering(HINT);
    let verdicts = p.chain(7);
    for (i, v) in verdicts.iter().enumerate() {
        assert_eq!(v.is_some(), i == 4, "stop {}: {v:?}", i + 1);
    }
    let v = verdicts[4].as_ref().unwrap();
    assert!(v.get("decision").is_none(), "it never blocks: {v}");
    assert_eq!(v["hookSpecificOutput"]["hookEventName"], "Stop");
    assert!(context(v).contains(HINT), "{v}");
    assert!(
        context(v).contains("its last 4 stops in a row were blocked"),
        "{v}"
    );
    assert!(
        message(v).contains(HINT) && message(v).starts_with("[escalation-advisor] The main agent"),
        "{v}"
    );
    let esc = p.escalations();
    assert_eq!(esc.len(), 1, "{esc:?}");
    assert_eq!(esc[0]["detail"]["trigger"], "streak");
    assert_eq!(esc[0]["detail"]["streak"], 4);
    assert_eq!(esc[0]["detail"]["source"], "advisor");
    assert_eq!(esc[0]["detail"]["hint"], HINT);
    assert!(p.prompt().contains("Why is the agent stuck?"));
}

#[test]
fn the_threshold_is_configurable_and_a_new_prompt_starts_over() {
    let p = Project::new(&format!("echo '{HINT}'"), &json!({"threshold": 1}));
    let verdicts = p.chain(3);
    assert_eq!(
        verdicts.iter().map(Option::is_some).collect::<Vec<_>>(),
        [false, false, true],
        "threshold 1: escalate when more than one stop in a row was blocked"
    );
    let next = p
        .run(&p.event(
            "Stop",
            &json!({"stop_hook_active": true, "prompt_id": "prompt-2"}),
        ))
        .0;
    assert_eq!(next, None, "a new prompt is a new streak");
}

#[test]
fn agents_are_counted_apart() {
    let p = Project::answering(HINT);
    let sub = |active: bool, id: &str| {
        p.run(&p.event(
            "SubagentStop-subagent",
            &json!({"agent_id": id, "agent_type": "backend-developer", "stop_hook_active": active,
                    "agent_transcript_path": p.root.join("none.jsonl")}),
        ))
        .0
    };
    for i in 0..4 {
        assert_eq!(sub(i > 0, "agent-a"), None);
        assert_eq!(sub(i > 0, "agent-b"), None);
        assert_eq!(p.chain(1)[0], None, "main stops interleave");
    }
    let v = sub(true, "agent-a").expect("agent-a escalates");
    assert_eq!(v["hookSpecificOutput"]["hookEventName"], "SubagentStop");
    assert!(
        message(&v).contains("The subagent `backend-developer`"),
        "{v}"
    );
    assert!(sub(true, "agent-b").is_some());
}

/// With the client's flag stuck at false, the blocks of a real portcullis Stop hook (iteration-limit's
/// promise loop, run first on each stop as the client would run it beside this one) are the evidence: the
/// shared stop chain counts them.
#[test]
fn portcullis_blocks_count_when_the_client_flag_stays_false() {
    let p = Project::answering(HINT);
    let limiter = portcullis_testkit::workspace_bin("iteration-limit");
    let armed = Command::new(&limiter)
        .current_dir(&p.root)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .args(["loop", "start", "--session", "e5ca-1a7e", "--promise", "OK"])
        .args([
            "--max-iterations",
            "50",
            "--",
            "Run the tests of `api` first.",
        ])
        .output()
        .unwrap();
    assert!(armed.status.success(), "{armed:?}");
    let stop = || {
        let e = p.event("Stop", &json!({"stop_hook_active": false}));
        let mut cmd = Command::new(&limiter);
        cmd.current_dir(&p.root)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", p.root.join("no-home"));
        let out = portcullis_testkit::run_with_stdin(&mut cmd, e.to_string().as_bytes()).unwrap();
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("\"block\""),
            "{out:?}"
        );
        p.run(&e).0
    };
    for i in 0..4 {
        assert_eq!(stop(), None, "stop {i}");
    }
    let v = stop().expect("four blocks in a row with no tool call");
    assert!(context(&v).contains(HINT));
    assert!(
        p.prompt().contains("Run the tests of `api` first."),
        "{}",
        p.prompt()
    );
    // Without any block on record the same stops are not a streak.
    let q = Project::answering(HINT);
    for _ in 0..6 {
        assert_eq!(
            q.run(&q.event("Stop", &json!({"stop_hook_active": false})))
                .0,
            None
        );
    }
}

#[test]
fn a_stuck_entry_of_loop_detect_escalates_before_the_threshold() {
    let p = Project::answering(HINT);
    assert_eq!(p.chain(2), [None, None]);
    p.log_entry(
        "loop-detect",
        "stuck",
        "[loop-detect] Your last 3 answers were near-identical",
    );
    let v = p.chain(1)[0].clone().expect("stuck escalates");
    assert!(
        context(&v).contains("loop-detect found its last answers near-identical"),
        "{v}"
    );
    assert_eq!(p.escalations()[0]["detail"]["trigger"], "stuck");
    assert_eq!(
        p.chain(3),
        [None, None, None],
        "the same situation is not escalated twice"
    );
}

#[test]
fn the_prompt_is_built_from_the_transcript_tail_redacted_and_bounded() {
    let p = Project::new(
        "cat > \"$PROMPT_FILE\"\necho 'Ask the user for the key.'",
        &json!({"max_prompt_bytes": 4096}),
    );
    let t = p.root.join("t.jsonl");
    let line = |v: Value| format!("{v}\n");
    let mut text = String::new();
    text += &line(
        json!({"type": "user", "message": {"role": "user", "content": "an older instruction"}}),
    );
    text += &line(
        json!({"type": "user", "message": {"role": "user", "content": "E2E: deploy with DEPLOY_TOKEN=tok-abcdef-123456 please"}}),
    );
    for i in 0..50 {
        text += &line(
            json!({"type": "assistant", "message": {"role": "assistant", "content": [
            {"type": "text", "text": format!("attempt {i}: export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG {}", "x".repeat(100_000))}]}}),
        );
        text += &line(
            json!({"type": "user", "isMeta": true, "message": {"role": "user", "content": format!("Stop hook feedback:\nECHO-BLOCK {i}")}}),
        );
    }
    std::fs::write(&t, text).unwrap();
    let stop = |active: bool| {
        let mut e = p.event(
            "Stop",
            &json!({"stop_hook_active": active, "transcript_path": t}),
        );
        e.as_object_mut().unwrap().remove("last_assistant_message");
        p.run(&e).0
    };
    for i in 0..5 {
        assert_eq!(stop(i > 0).is_some(), i == 4);
    }
    let prompt = p.prompt();
    assert!(prompt.len() <= 4096, "{}", prompt.len());
    assert!(
        prompt.contains("E2E: deploy with DEPLOY_TOKEN=[REDACTED token]"),
        "{prompt}"
    );
    assert!(
        !prompt.contains("an older instruction"),
        "only the latest instruction"
    );
    assert!(
        !prompt.contains("tok-abcdef") && !prompt.contains("wJalrXUtnFEMI"),
        "{prompt}"
    );
    assert!(
        prompt.contains("ECHO-BLOCK 49"),
        "the newest block reason first: {prompt}"
    );
    assert!(prompt.contains("attempt 49"), "{prompt}");
    assert!(prompt.contains("bytes cut"), "{prompt}");
    assert!(prompt.ends_with("No preamble, no list.\n"));
}

/// Runs a chain to the escalation with an advisor that fails; returns the verdict, the stderr line and the
/// log's escalation detail.
fn failing(script: &str, extra: &Value) -> (Value, String, Value) {
    let p = Project::new(script, extra);
    p.log_entry(
        "output-location",
        "block",
        "Move NOTES.md to .claude/.output/.",
    );
    p.chain(4);
    let (v, err) = p.run(&p.event("Stop", &json!({"stop_hook_active": true})));
    let detail = p.escalations().pop().unwrap()["detail"].clone();
    (v.expect("a fallback hint"), err, detail)
}

#[test]
fn a_failing_advisor_gives_the_fallback_hint_and_one_stderr_line() {
    for (script, extra, error) in [
        (
            "sleep 30",
            json!({"timeout_secs": 1}),
            "no answer within 1s",
        ),
        (
            "echo 'model overloaded' >&2; exit 3",
            json!({}),
            "exited with 3: model overloaded",
        ),
        ("printf '\\377\\376'", json!({}), "not UTF-8"),
        ("echo", json!({}), "not a usable hint (empty)"),
        (
            "head -c 100000 /dev/zero | tr '\\0' x",
            json!({}),
            "more than 65536 bytes",
        ),
    ] {
        let (v, err, detail) = failing(script, &extra);
        assert_eq!(detail["source"], "fallback", "{script}");
        assert!(
            detail["error"].as_str().unwrap().contains(error),
            "{script}: {detail}"
        );
        assert!(
            err.contains(error) && err.contains("fallback"),
            "{script}: {err}"
        );
        assert!(
            context(&v).contains("`output-location` blocked 1 time, last saying \"Move NOTES.md to .claude/.output/.\""),
            "{script}: {v}"
        );
        assert!(context(&v).contains("decision log (the advisor model could not be asked)"));
    }
}

#[test]
fn a_missing_advisor_program_gives_the_fallback() {
    let p = Project::answering(HINT);
    std::fs::write(
        p.root.join(".claude/portcullis.json"),
        json!({"escalation_advisor": {"command": ["/nonexistent/advisor"]}}).to_string(),
    )
    .unwrap();
    p.chain(4);
    let (v, err) = p.run(&p.event("Stop", &json!({"stop_hook_active": true})));
    assert!(err.contains("could not start the advisor"), "{err}");
    assert!(
        context(&v.unwrap())
            .contains("4 stops in a row were blocked; no portcullis hook recorded why")
    );
}

#[test]
fn the_recursion_guard_holds_both_ways() {
    // The advisor runs with PORTCULLIS_DISABLED=1 (it echoes what it sees as the hint).
    let p = Project::new(
        "echo \"Guard is ${PORTCULLIS_DISABLED:-unset}.\"",
        &json!({}),
    );
    let v = p.chain(5)[4].clone().unwrap();
    assert!(context(&v).contains("Guard is 1."), "{v}");
    // And inside such a session the hook does nothing at all, not even count.
    let q = Project::answering(HINT);
    for i in 0..6 {
        let out = q.output(
            &q.event("Stop", &json!({"stop_hook_active": i > 0})),
            &[("PORTCULLIS_DISABLED", "1")],
        );
        assert!(out.status.success() && out.stdout.is_empty() && out.stderr.is_empty());
    }
    assert!(!q.root.join(".claude/portcullis").exists());
    assert!(!q.root.join("prompt.txt").exists());
}

#[test]
fn warn_mode_tells_the_user_only_and_off_does_nothing() {
    let p = Project::new(&format!("echo '{HINT}'"), &json!({"mode": "warn"}));
    let v = p.chain(5)[4].clone().unwrap();
    assert!(v.get("hookSpecificOutput").is_none(), "{v}");
    assert!(message(&v).contains(HINT));
    let q = Project::new(&format!("echo '{HINT}'"), &json!({"mode": "off"}));
    assert!(q.chain(8).iter().all(Option::is_none));
}

/// The count lives in the shared stop chain, so a corrupt escalation state costs nothing of it: the file
/// is set aside and the hint still comes at the chain's fifth stop (the second after the corruption).
#[test]
fn a_corrupt_state_file_is_set_aside_and_counting_goes_on() {
    let p = Project::answering(HINT);
    p.chain(3);
    let state = p
        .root
        .join(".claude/portcullis/sessions/e5ca-1a7e/escalation.json");
    assert!(state.exists());
    std::fs::write(&state, "{not json").unwrap();
    let verdicts: Vec<bool> = (0..6)
        .map(|_| {
            p.run(&p.event("Stop", &json!({"stop_hook_active": true})))
                .0
                .is_some()
        })
        .collect();
    assert_eq!(
        verdicts,
        [false, true, false, false, false, true],
        "the chain's count went on: levels at its 5th and 9th stops"
    );
    let aside = std::fs::read_dir(state.parent().unwrap())
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("escalation.corrupt-")
        })
        .count();
    assert_eq!(aside, 1);
}

#[test]
fn a_threshold_the_stop_cap_would_never_reach_is_a_config_error() {
    let p = Project::new("echo hi", &json!({"threshold": 6}));
    let out = p.output(&p.event("Stop", &json!({})), &[]);
    assert_eq!(out.status.code(), Some(1), "fails open");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("escalation_advisor.threshold") && err.lines().count() == 1,
        "{err}"
    );
}
