//! The hook's decisions on events, in process.

use std::fmt::Write as _;
use std::path::Path;

use portcullis_core::{Ctx, Event};
use portcullis_testkit::decide::captured;
use serde_json::{Value, json};

use super::*;

const SESSION: &str = "c0ffee00-0000-4000-8000-000000000037";

fn project() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(t.path().join(".git")).unwrap();
    t
}

fn decide(root: &Path, event: &Value) -> Verdict {
    let event = Event::parse(&serde_json::to_vec(event).unwrap()).unwrap();
    let ctx = Ctx::for_test("context-filter", root, portcullis_core::Config::default())
        .with_sections(ContextFilter::SECTIONS);
    ContextFilter::decide(&event, &ctx).unwrap()
}

fn bash(root: &Path, command: &str, stdout: &str) -> Value {
    captured(
        "PostToolUse-Bash",
        root,
        SESSION,
        &json!({"tool_input": {"command": command}, "tool_response": {"stdout": stdout, "stderr": "", "interrupted": false, "isImage": false, "noOutputExpected": false}}),
    )
}

#[test]
fn under_the_threshold_nothing_is_returned() {
    let t = project();
    let v = decide(
        t.path(),
        &bash(t.path(), "cargo test", "test result: ok. 1 passed\n"),
    );
    assert!(v.updated_tool_output.is_none() && v.context.is_empty());
    let big = (0..300).fold(String::new(), |mut s, i| {
        let _ = writeln!(s, "line {i}");
        s
    });
    assert!(big.len() < 8192);
    assert!(
        decide(t.path(), &bash(t.path(), "seq", &big))
            .updated_tool_output
            .is_none()
    );
}

#[test]
fn a_large_output_is_filtered_in_its_shape_and_saved_whole() {
    let t = project();
    let mut out = String::new();
    for i in 0..3000 {
        let _ = writeln!(out, "test tests::case_{i} ... ok");
    }
    out.push_str("test tests::broken ... FAILED\n\nfailures:\n    tests::broken\n\ntest result: FAILED. 3000 passed; 1 failed\n");
    let v = decide(t.path(), &bash(t.path(), "cargo test", &out));
    let shown = v.updated_tool_output.expect("replaced");
    assert_eq!(shown["stderr"], "");
    assert_eq!(shown["interrupted"], false);
    let text = shown["stdout"].as_str().unwrap();
    assert!(text.contains("test tests::broken ... FAILED"), "{text}");
    assert!(
        text.contains("test result: FAILED. 3000 passed; 1 failed"),
        "{text}"
    );
    assert!(
        text.contains("[… 3000 passing tests not shown …]"),
        "{text}"
    );
    let saved = text.lines().last().unwrap().split('`').nth(1).unwrap();
    assert_eq!(std::fs::read(t.path().join(saved)).unwrap(), out.as_bytes());
    assert!(saved.starts_with(".claude/portcullis/sessions/"), "{saved}");
}

#[test]
fn the_raw_marker_and_mode_off_leave_the_output_alone() {
    let t = project();
    let out = (0..3000).fold(String::new(), |mut s, i| {
        let _ = writeln!(s, "row {i}");
        s
    });
    let v = decide(
        t.path(),
        &bash(t.path(), "cat big.csv # portcullis:raw", &out),
    );
    assert!(v.updated_tool_output.is_none());
    std::fs::create_dir_all(t.path().join(".claude")).unwrap();
    std::fs::write(
        t.path().join(".claude/portcullis.json"),
        r#"{"context_filter": {"mode": "off"}}"#,
    )
    .unwrap();
    let event =
        Event::parse(&serde_json::to_vec(&bash(t.path(), "cat big.csv", &out)).unwrap()).unwrap();
    let config = portcullis_core::Config::load(
        &portcullis_core::Env::from_pairs([]),
        t.path(),
        portcullis_core::config::Schema::suite(ContextFilter::SECTIONS),
    )
    .unwrap();
    let ctx =
        Ctx::for_test("context-filter", t.path(), config).with_sections(ContextFilter::SECTIONS);
    assert!(
        ContextFilter::decide(&event, &ctx)
            .unwrap()
            .updated_tool_output
            .is_none()
    );
}

#[test]
fn a_persisted_output_is_read_from_its_file() {
    let t = project();
    let mut whole = String::new();
    for i in 0..5000 {
        let _ = writeln!(whole, "test tests::case_{i} ... ok");
    }
    whole.push_str("test result: ok. 5000 passed; 0 failed\n");
    let file = t.path().join("persisted.txt");
    std::fs::write(&file, &whole).unwrap();
    let event = captured(
        "PostToolUse-Bash-persisted",
        t.path(),
        SESSION,
        &json!({"tool_input": {"command": "cargo test"}, "tool_response": {"stdout": &whole[..30000], "stderr": "", "interrupted": false, "isImage": false, "noOutputExpected": false, "persistedOutputPath": file, "persistedOutputSize": whole.len()}}),
    );
    let shown = decide(t.path(), &event)
        .updated_tool_output
        .expect("replaced");
    let text = shown["stdout"].as_str().unwrap();
    assert!(
        text.contains("test result: ok. 5000 passed"),
        "the tail reached the model: {text}"
    );
    assert!(shown.get("persistedOutputPath").is_none());
}

#[test]
fn a_codex_output_is_a_string_and_stays_one() {
    let t = project();
    let out = (0..3000).fold(String::new(), |mut s, i| {
        let _ = writeln!(s, "'src/f{i}' -> 'dst/f{i}'");
        s
    });
    let mut event = bash(t.path(), "cp -rv src dst", &out);
    event["tool_response"] = json!(out);
    let shown = decide(t.path(), &event)
        .updated_tool_output
        .expect("replaced");
    assert!(shown.as_str().unwrap().contains("lines not shown"));
}

#[test]
fn a_failed_run_gets_its_failures_as_context() {
    let t = project();
    let mut error = String::from("Exit code 101\n");
    for i in 0..400 {
        let _ = writeln!(error, "test tests::case_{i} ... ok");
    }
    error.push_str("test tests::broken ... FAILED\nthread 'tests::broken' panicked at src/lib.rs:9:5:\ntest result: FAILED. 400 passed; 1 failed\n");
    let event = captured(
        "PostToolUseFailure-Bash",
        t.path(),
        SESSION,
        &json!({"error": error}),
    );
    let v = decide(t.path(), &event);
    let context = v.context.join("\n");
    assert!(
        context.contains("test tests::broken ... FAILED"),
        "{context}"
    );
    assert!(context.contains("panicked at src/lib.rs:9:5"), "{context}");
    assert!(!context.contains("case_3 ... ok"), "{context}");
}

#[test]
fn the_session_end_removes_its_saved_outputs_and_no_other() {
    let t = project();
    let out = (0..3000).fold(String::new(), |mut s, i| {
        let _ = writeln!(s, "row {i} copied");
        s
    });
    assert!(
        decide(t.path(), &bash(t.path(), "./copy.sh", &out))
            .updated_tool_output
            .is_some()
    );
    let sessions = t.path().join(".claude/portcullis/sessions");
    let other = sessions.join("0ther000-0000-4000-8000-000000000000/outputs");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("x.txt"), "kept").unwrap();
    assert!(sessions.join(SESSION).join("outputs").is_dir());
    decide(
        t.path(),
        &captured("SessionEnd", t.path(), SESSION, &json!({})),
    );
    assert!(!sessions.join(SESSION).join("outputs").exists());
    assert!(
        other.join("x.txt").is_file(),
        "another session's outputs were removed"
    );
}
