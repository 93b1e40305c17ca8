//! `portcullis replay` on transcripts recorded from the real client (`tests/replay/<name>/`, made by the
//! e2e scenarios with `PORTCULLIS_RECORD=1`): the timelines match the reviewed expectations, a changed
//! verdict fails with a diff, bad lines are skipped and counted, and the project's own state is untouched.
//!
//! A fixture folder holds the session (`<id>.jsonl`, subagents in `<id>/subagents/`), `project/` (files the
//! replay project starts with) and `expected.timeline`. Re-bless after an intended verdict change with
//! `portcullis replay … --expect expected.timeline --bless` and review the diff.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use portcullis_testkit::{copy_tree, workspace_bin};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/replay")
        .join(name)
}

/// The fixture's session: its one transcript, or the Codex rollout that is not a subagent's (a
/// subagent's first line names its parent thread).
fn session(dir: &Path) -> PathBuf {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.extension().is_some_and(|x| x == "jsonl")
                && !std::fs::read_to_string(p)
                    .unwrap()
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .contains("\"parent_thread_id\"")
        })
        .unwrap_or_else(|| panic!("no session in {}", dir.display()))
}

/// A temp project with the fixture's `project/` files.
fn project(name: &str) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    copy_tree(&fixture(name).join("project"), t.path()).unwrap();
    t
}

fn hooks_json() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../hooks.json")
}

fn replay(args: &[&str], transcript: &Path, project: &Path) -> Output {
    let bin = workspace_bin("portcullis");
    Command::new(&bin)
        .arg("replay")
        .arg(transcript)
        .arg("--project")
        .arg(project)
        .arg("--bin-dir")
        .arg(bin.parent().unwrap())
        .args(args)
        .env("HOME", project.join("no-home"))
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn recorded_sessions_replay_to_their_expected_timelines() {
    for name in [
        "subagent",
        "mixed",
        "compact",
        "gate-deny",
        "gate-warn",
        "gate-1m",
    ] {
        let dir = fixture(name);
        let p = project(name);
        let expected = dir.join("expected.timeline");
        let hooks = hooks_json();
        let mut args = vec![
            "--hooks",
            hooks.to_str().unwrap(),
            "--expect",
            expected.to_str().unwrap(),
        ];
        // Re-bless after an intended change; review the diff.
        if std::env::var_os("PORTCULLIS_BLESS").is_some() {
            args.push("--bless");
            let _ = replay(&args, &session(&dir), p.path());
            continue;
        }
        let out = replay(&args, &session(&dir), p.path());
        assert!(out.status.success(), "{name}: {}", text(&out));
        assert!(text(&out).contains("the timeline matches"), "{name}");
    }
}

#[test]
fn the_timeline_shows_the_deny_the_subagent_and_the_event_count() {
    let p = project("mixed");
    let out = replay(
        &["--hooks", hooks_json().to_str().unwrap()],
        &session(&fixture("mixed")),
        p.path(),
    );
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(
        t.contains("   3  PreToolUse Write api/x.go\n        agent-first: deny\n"),
        "{t}"
    );
    assert!(t.contains("delegate this change"), "{t}");
    // The denied Write never ran, so no PostToolUse(Failure) for it; the failing Bash gets one.
    assert!(
        t.contains("9 events, 9 with portcullis hooks (allow 40, deny 1)"),
        "{t}"
    );

    let p = project("subagent");
    let out = replay(
        &["--hooks", hooks_json().to_str().unwrap()],
        &session(&fixture("subagent")),
        p.path(),
    );
    assert!(
        text(&out).contains("[backend-developer] PreToolUse Write api/x.go"),
        "{}",
        text(&out)
    );
}

#[test]
fn json_output_has_every_synthesized_event_in_client_order() {
    let p = project("subagent");
    let out = replay(&["--json"], &session(&fixture("subagent")), p.path());
    assert!(out.status.success(), "{}", text(&out));
    let events: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| {
            let e = v["event"].as_str()?.to_owned();
            Some(format!("{e}:{}", v["agent"].as_str().unwrap_or_default()))
        })
        .collect();
    assert_eq!(
        events,
        [
            "SessionStart:main",
            "UserPromptSubmit:main",
            "PreToolUse:main",
            "PostToolUse:main",
            "PreToolUse:main",
            "SubagentStart:backend-developer",
            "PreToolUse:backend-developer",
            "PostToolUse:backend-developer",
            "SubagentStop:backend-developer",
            "PostToolUse:main",
            "Stop:main",
        ]
    );
    let compact = replay(&["--json"], &session(&fixture("compact")), p.path());
    let t = String::from_utf8_lossy(&compact.stdout);
    let order: Vec<&str> = [
        "\"PreCompact\"",
        "\"subject\":\"compact\"",
        "\"PostCompact\"",
    ]
    .iter()
    .map(|needle| {
        assert!(t.contains(needle), "{needle} missing: {t}");
        *needle
    })
    .collect();
    assert!(t.find(order[0]) < t.find(order[1]) && t.find(order[1]) < t.find(order[2]));
}

#[test]
fn hooks_that_read_the_transcript_see_it_as_it_was_when_the_event_fired() {
    // The recorded session ends at 88%, but its first prompt came at 0%: replayed against the whole file,
    // compaction-gate would have flagged the prompt too.
    let p = project("gate-deny");
    let out = replay(
        &["--hooks", hooks_json().to_str().unwrap()],
        &session(&fixture("gate-deny")),
        p.path(),
    );
    let t = text(&out);
    assert!(
        t.contains("UserPromptSubmit \"E2E-CG-DENY: delegate the handler\"\n        compaction-gate: allow\n"),
        "{t}"
    );
    assert!(t.contains("compaction-gate: deny"), "{t}");
}

#[test]
fn a_call_denied_now_but_allowed_in_the_recording_gets_no_post_event() {
    // In the recording the main thread wrote notes.txt. Here notes.txt belongs to `backend`, so
    // agent-first denies it and the client would never have run the Write.
    let p = project("subagent");
    std::fs::write(
        p.path().join(".claude/portcullis.json"),
        r#"{"domains": {"backend": ["notes.txt", "api/**"]}}"#,
    )
    .unwrap();
    let out = replay(
        &["--json", "--hooks", hooks_json().to_str().unwrap()],
        &session(&fixture("subagent")),
        p.path(),
    );
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let notes: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|v| v["subject"] == "Write notes.txt")
        .collect();
    assert_eq!(notes.len(), 1, "{lines:?}");
    assert_eq!(notes[0]["event"], "PreToolUse");
    assert_eq!(notes[0]["hooks"][0]["verdict"], "deny");
}

#[test]
fn a_changed_verdict_fails_with_a_diff() {
    let p = project("mixed");
    std::fs::write(
        p.path().join(".claude/portcullis.json"),
        r#"{"agent_first": {"mode": "off"}}"#,
    )
    .unwrap();
    let dir = fixture("mixed");
    let out = replay(
        &[
            "--hooks",
            hooks_json().to_str().unwrap(),
            "--expect",
            dir.join("expected.timeline").to_str().unwrap(),
        ],
        &session(&dir),
        p.path(),
    );
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("the timeline differs"), "{t}");
    assert!(t.contains("-        agent-first: deny"), "{t}");
    assert!(t.contains("+        agent-first: allow"), "{t}");
}

#[test]
fn bless_writes_the_expectation_that_then_matches() {
    let p = project("subagent");
    let file = p.path().join("timeline.txt");
    let transcript = session(&fixture("subagent"));
    let hooks = hooks_json();
    let args = [
        "--hooks",
        hooks.to_str().unwrap(),
        "--expect",
        file.to_str().unwrap(),
    ];
    let blessed = replay(&[&args[..], &["--bless"]].concat(), &transcript, p.path());
    assert!(blessed.status.success(), "{}", text(&blessed));
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains("agent-first: allow")
    );
    let again = replay(&args, &transcript, p.path());
    assert!(again.status.success(), "{}", text(&again));
}

#[test]
fn installed_hooks_are_used_without_hooks_flag_and_project_state_is_untouched() {
    let p = project("mixed");
    let bin = workspace_bin("portcullis");
    let ok = Command::new(&bin)
        .args(["install", "--project"])
        .arg(p.path())
        .arg("--bin-dir")
        .arg(bin.parent().unwrap())
        .env("HOME", p.path().join("no-home"))
        .output()
        .unwrap()
        .status
        .success();
    assert!(ok);
    let out = replay(&[], &session(&fixture("mixed")), p.path());
    assert!(text(&out).contains("agent-first: deny"), "{}", text(&out));
    assert!(
        !p.path().join(".claude/portcullis").exists(),
        "replay wrote into the project's state folder"
    );
}

#[test]
fn bad_lines_are_skipped_and_counted_never_fatal() {
    let p = project("mixed");
    let original = std::fs::read_to_string(session(&fixture("mixed"))).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.jsonl");
    let mut damaged = String::from("not json at all\n\u{0}\u{1}garbage\n");
    damaged.push_str(&original);
    // An over-long line (past the 32 MiB cap) is read past without being held, then a truncated last line.
    damaged.push('"');
    damaged.push_str(&"x".repeat(33 * 1024 * 1024));
    damaged.push_str("\"\n{\"type\":\"user\",\"mess");
    std::fs::write(&path, damaged).unwrap();
    let out = replay(
        &["--hooks", hooks_json().to_str().unwrap()],
        &path,
        p.path(),
    );
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("agent-first: deny"), "{t}");
    assert!(t.contains("4 unreadable lines skipped"), "{t}");
}

#[test]
fn a_missing_transcript_a_directory_and_a_missing_subagent_file_are_clear() {
    let p = project("subagent");
    let out = replay(&[], &p.path().join("nope.jsonl"), p.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("opening"), "{}", text(&out));
    let out = replay(&[], p.path(), p.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("is a directory"), "{}", text(&out));

    // The main transcript alone: the subagent's start and stop are still fired, with a note.
    let dir = tempfile::tempdir().unwrap();
    let lone = dir.path().join("s.jsonl");
    std::fs::copy(session(&fixture("subagent")), &lone).unwrap();
    let out = replay(&[], &lone, p.path());
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("no transcript for subagent"), "{t}");
}

/// A transcript copied away from `~/.claude/projects` without its `<session>/subagents/` folder: the
/// subagents are found in the client's project folders by session id.
#[test]
fn a_copied_transcript_finds_its_subagents_by_session_id() {
    let p = project("subagent");
    let fixture_dir = fixture("subagent");
    let main = session(&fixture_dir);
    let session_id = main.file_stem().unwrap().to_owned();
    let recorded = p
        .path()
        .join("no-home/.claude/projects/-e2e-project")
        .join(&session_id);
    copy_tree(&fixture_dir.join(&session_id), &recorded).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lone = dir.path().join("copied.jsonl");
    std::fs::copy(&main, &lone).unwrap();
    let out = replay(&[], &lone, p.path());
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(!t.contains("no transcript for subagent"), "{t}");
}

/// Recorded ids are untrusted: an `agentId` that is not one safe file name is refused with a note, and
/// nothing is read or written by it.
#[test]
fn a_hostile_agent_id_is_refused() {
    let p = project("subagent");
    let fixture_dir = fixture("subagent");
    let main = session(&fixture_dir);
    let session_id = main.file_stem().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    copy_tree(
        &fixture_dir.join(&session_id),
        &dir.path().join(&session_id),
    )
    .unwrap();
    let text_of_main = std::fs::read_to_string(&main).unwrap();
    let id = text_of_main
        .split("\"agentId\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let hostile = text_of_main.replace(
        &format!("\"agentId\":\"{id}\""),
        "\"agentId\":\"../../../../../../pwned\"",
    );
    let copied = dir.path().join(main.file_name().unwrap());
    std::fs::write(&copied, hostile).unwrap();
    let out = replay(&[], &copied, p.path());
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("is not a safe file name"), "{t}");
}

/// A Codex rollout replays through the handlers `install --client codex` writes, to its reviewed timeline.
#[test]
fn a_recorded_codex_rollout_replays_to_its_expected_timeline() {
    replays_codex_fixture_to_its_timeline("codex-mixed");
}

/// A Codex subagent's rollout is followed from the parent's `spawn_agent`: its events carry its id, and
/// feedback-loop sees the patch it ran through the shell at its SubagentStop, then holds the parent's Stop.
#[test]
fn a_codex_subagent_is_replayed_from_its_own_rollout() {
    // The replay matches the reviewed timeline; what that timeline says is checked here.
    replays_codex_fixture_to_its_timeline("codex-subagent");
    let t = std::fs::read_to_string(fixture("codex-subagent").join("expected.timeline")).unwrap();
    let sub_call = t
        .find("[default] PreToolUse Bash `apply_patch")
        .expect("the subagent's own call, as the subagent");
    let stop = t.find("[default] SubagentStop").expect("its SubagentStop");
    assert!(sub_call < stop, "{t}");
    // Codex applies a shell-run patch itself and fires no PostToolUse for it.
    assert!(!t.contains("PostToolUse Bash `apply_patch"), "{t}");
    assert!(
        t[stop..].contains("feedback-loop: block"),
        "the subagent's patch holds the parent's Stop: {t}"
    );
}

/// Codex files each thread's rollout under the day it started (`sessions/YYYY/MM/DD/`): a subagent
/// spawned after midnight is in the next day's folder, here across a year's end, and is followed there.
#[test]
fn a_codex_subagent_filed_under_the_next_day_is_followed_there() {
    let dir = fixture("codex-subagent");
    let sessions = tempfile::tempdir().unwrap();
    let parent = session(&dir);
    let (day, next_day) = (
        sessions.path().join("2026/12/31"),
        sessions.path().join("2027/01/01"),
    );
    for d in [&day, &next_day] {
        std::fs::create_dir_all(d).unwrap();
    }
    for rollout in std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()) {
        if rollout.extension().is_some_and(|x| x == "jsonl") {
            let to = if rollout == parent { &day } else { &next_day };
            std::fs::copy(&rollout, to.join(rollout.file_name().unwrap())).unwrap();
        }
    }
    replays_codex_to_timeline("codex-subagent", &day.join(parent.file_name().unwrap()));
}

/// Replays `tests/replay/<name>` through Codex's installed handlers against its `expected.timeline`.
/// A Gemini session file replays through the handlers `install --client gemini` writes, to its reviewed
/// timeline: Gemini's own event and tool names, no AfterTool for the call the recorded hook refused, the
/// held turn end and the continuation Gemini fires as a BeforeAgent.
#[test]
fn a_recorded_gemini_session_replays_to_its_expected_timeline() {
    let t = replays_installed_to_timeline("gemini-mixed", "gemini", ".gemini/settings.json");
    for shown in [
        "BeforeTool run_shell_command `echo leaked > ../outside.txt`",
        "AfterTool replace src/lib.rs",
        "feedback-loop: block",
        "BeforeAgent \"[feedback-loop] This turn changed code",
    ] {
        assert!(t.contains(shown), "{shown} not in {t}");
    }
    assert!(
        !t.contains("AfterTool run_shell_command `echo leaked"),
        "{t}"
    );
}

/// A Copilot event log replays through the handlers `install --client copilot` writes, to its reviewed
/// timeline: Copilot's hook tool names, no PostToolUse for the call the recorded hook refused, the held turn
/// end and the continuation Copilot fires as a UserPromptSubmit.
#[test]
fn a_recorded_copilot_session_replays_to_its_expected_timeline() {
    let t =
        replays_installed_to_timeline("copilot-mixed", "copilot", ".github/hooks/portcullis.json");
    for shown in [
        "PreToolUse Bash `echo leaked > ../outside.txt`",
        "PostToolUse Edit",
        "feedback-loop: block",
        "UserPromptSubmit \"[output-location]",
    ] {
        assert!(t.contains(shown), "{shown} not in {t}");
    }
    assert!(!t.contains("PostToolUse Bash `echo leaked"), "{t}");
}

/// Replays fixture `name`'s session through the handlers `install --client CLIENT --project` writes into a
/// copy of its project (at `hooks`, relative to it), against the fixture's `expected.timeline` (re-blessed
/// with `PORTCULLIS_BLESS`); returns the timeline.
fn replays_installed_to_timeline(name: &str, client: &str, hooks: &str) -> String {
    let dir = fixture(name);
    let p = project(name);
    let bin = workspace_bin("portcullis");
    let installed = Command::new(&bin)
        .args(["install", "--client", client, "--project"])
        .arg(p.path())
        .arg("--bin-dir")
        .arg(bin.parent().unwrap())
        .env("HOME", p.path().join("no-home"))
        .env_remove("GEMINI_CLI_HOME")
        .env_remove("COPILOT_HOME")
        .output()
        .unwrap();
    assert!(installed.status.success(), "{}", text(&installed));
    let hooks = p.path().join(hooks);
    let expected = dir.join("expected.timeline");
    let mut args = vec![
        "--hooks",
        hooks.to_str().unwrap(),
        "--expect",
        expected.to_str().unwrap(),
    ];
    if std::env::var_os("PORTCULLIS_BLESS").is_some() {
        args.push("--bless");
    }
    let out = replay(&args, &session(&dir), p.path());
    assert!(out.status.success(), "{}", text(&out));
    std::fs::read_to_string(&expected).unwrap()
}

fn replays_codex_fixture_to_its_timeline(name: &str) {
    replays_codex_to_timeline(name, &session(&fixture(name)));
}

/// Replays the rollout `parent` through Codex's installed handlers in a copy of fixture `name`'s project,
/// against the fixture's `expected.timeline`.
fn replays_codex_to_timeline(name: &str, parent: &Path) {
    let dir = fixture(name);
    let p = project(name);
    let bin = workspace_bin("portcullis");
    let installed = Command::new(&bin)
        .args(["install", "--client", "codex", "--no-trust", "--project"])
        .arg(p.path())
        .arg("--bin-dir")
        .arg(bin.parent().unwrap())
        .env("HOME", p.path().join("no-home"))
        .env("CODEX_HOME", p.path().join("no-codex-home"))
        .output()
        .unwrap();
    assert!(installed.status.success(), "{}", text(&installed));
    let hooks = p.path().join(".codex/hooks.json");
    let expected = dir.join("expected.timeline");
    let mut args = vec![
        "--hooks",
        hooks.to_str().unwrap(),
        "--expect",
        expected.to_str().unwrap(),
    ];
    // Re-bless after an intended change, as the fixture suites do; review the diff.
    if std::env::var_os("PORTCULLIS_BLESS").is_some() {
        args.push("--bless");
    }
    let out = replay(&args, parent, p.path());
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("the timeline matches"), "{t}");
}
