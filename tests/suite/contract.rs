//! The process contract of every hook binary (README "Exit codes"): captured events parse, verdicts render
//! for their event, allows print nothing. Malformed input is in the bad-input catalogue (`bad_input.rs`).

use std::io::Write;
use std::process::{Command, Stdio};

use portcullis_core::{Event, EventName, Verdict};
use portcullis_suite::HOOKS;
use portcullis_testkit::workspace_bin;

fn run(bin: &std::path::Path, input: &[u8], env: &[(&str, &str)]) -> std::process::Output {
    let project = tempfile::tempdir().unwrap();
    let mut child = Command::new(bin)
        .current_dir(project.path())
        .env_clear()
        .env("CLAUDE_PROJECT_DIR", project.path())
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    // A hook may stop reading at its cap; a broken pipe here is expected then.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

#[test]
fn every_captured_event_parses() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/events");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let event = Event::parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            !matches!(event.name(), EventName::Unknown(_)),
            "{}",
            path.display()
        );
        assert!(event.session().is_ok());
        event
            .tool_input()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        n += 1;
    }
    assert!(n >= 28, "only {n} captured events");
}

#[test]
fn every_verdict_renders_json_its_event_accepts() {
    let verdicts = [
        Verdict::deny("d"),
        Verdict::ask("a"),
        Verdict::allow().with_context("c"),
        Verdict::allow().with_user_message("u"),
        Verdict::block("b").with_context("c").with_user_message("u"),
    ];
    let top_level = [
        "continue",
        "stopReason",
        "suppressOutput",
        "systemMessage",
        "decision",
        "reason",
        "hookSpecificOutput",
    ];
    for name in EventName::ALL {
        let event = EventName::parse(name);
        for v in &verdicts {
            let Some(json) = v.render(&event) else {
                continue;
            };
            let text = serde_json::to_string(&json).unwrap();
            let back: serde_json::Value = serde_json::from_str(&text).unwrap();
            let obj = back.as_object().unwrap();
            for key in obj.keys() {
                assert!(
                    top_level.contains(&key.as_str()),
                    "{name}: unknown top-level key {key}"
                );
            }
            if let Some(hso) = obj.get("hookSpecificOutput") {
                assert_eq!(hso["hookEventName"], *name);
                if hso.get("permissionDecision").is_some() {
                    assert!(matches!(*name, "PreToolUse" | "PreModelSwitch"), "{name}");
                }
                if hso.get("additionalContext").is_some() {
                    assert!(
                        portcullis_core::verdict::takes_additional_context(&event),
                        "{name}"
                    );
                }
            }
            if obj.contains_key("decision") {
                assert_eq!(obj["decision"], "block");
                assert!(
                    portcullis_core::verdict::takes_block_decision(&event),
                    "{name}"
                );
                assert!(obj["reason"].as_str().is_some_and(|r| !r.is_empty()));
            }
        }
    }
}

#[test]
fn allow_prints_nothing_and_unknown_events_pass() {
    for hook in HOOKS {
        let bin = workspace_bin(hook.name);
        for input in [
            &br#"{"session_id":"s","hook_event_name":"SomethingNew","cwd":"/"}"#[..],
            include_bytes!("../../fixtures/events/PreToolUse-Read.json"),
            include_bytes!("../../fixtures/events/SessionEnd.json"),
        ] {
            let out = run(&bin, input, &[]);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{}: {}",
                hook.name,
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                out.stdout.is_empty() && out.stderr.is_empty(),
                "{}",
                hook.name
            );
        }
    }
}

#[test]
fn disabled_marker_makes_every_hook_a_no_op() {
    for hook in HOOKS {
        let out = run(
            &workspace_bin(hook.name),
            b"not even json",
            &[("PORTCULLIS_DISABLED", "1")],
        );
        assert_eq!(out.status.code(), Some(0), "{}", hook.name);
        assert!(
            out.stdout.is_empty() && out.stderr.is_empty(),
            "{}",
            hook.name
        );
    }
}

#[test]
fn usage_errors_never_exit_2() {
    for name in portcullis_suite::binaries() {
        let out = Command::new(workspace_bin(name))
            .arg("--no-such-flag")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(64), "{name}");
        let out = Command::new(workspace_bin(name))
            .arg("--version")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{name}");
    }
}

#[test]
fn a_panic_takes_the_failure_policy() {
    let out = run(
        &workspace_bin("noop_hook"),
        br#"{"hook_event_name":"PortcullisPanicTest","session_id":"s"}"#,
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("portcullis noop-hook: internal error: deliberate test panic"),
        "{stderr}"
    );
    // The same binary allows a normal event: the panic is the event's doing, not the binary's.
    let ok = run(
        &workspace_bin("noop_hook"),
        include_bytes!("../../fixtures/events/Stop.json"),
        &[],
    );
    assert_eq!(ok.status.code(), Some(0));
}
