//! `portcullis progress` as a process: a feature's life (start, phase, note, done, status), the heavy-phase
//! gate on a real transcript measure, parallel writers losing no update, and writers killed mid-write
//! leaving a whole manifest.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use feature_progress::store::{Store, parse};
use portcullis_testkit::workspace_bin;

fn project() -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().canonicalize().unwrap().join("project");
    std::fs::create_dir_all(root.join(".claude")).unwrap();
    (t, root)
}

fn progress_cmd(project: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(workspace_bin("portcullis"));
    c.arg("progress")
        .args(args)
        .current_dir(project)
        .env("HOME", project.parent().unwrap().join("home"))
        .env_remove("CLAUDE_CONFIG_DIR")
        .env_remove("PORTCULLIS_CONFIG")
        .env_remove("CLAUDE_PROJECT_DIR");
    c
}

fn progress(project: &Path, args: &[&str]) -> Output {
    progress_cmd(project, args).output().unwrap()
}

fn out(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn only_manifest(project: &Path) -> PathBuf {
    let store = Store::new(project);
    let ids = store.ids();
    assert_eq!(ids.len(), 1, "{ids:?}");
    store.manifest_path(&ids[0])
}

#[test]
fn a_feature_is_started_moved_noted_and_finished() {
    let (_t, p) = project();
    let start = progress(&p, &["start", "Login form", "--type", "small"]);
    assert!(start.status.success(), "{}", out(&start));
    assert!(
        out(&start).contains("started `login-form-"),
        "{}",
        out(&start)
    );
    let phase = progress(&p, &["phase", "implementation"]);
    assert!(
        out(&phase).contains("phase 8 Implementation"),
        "{}",
        out(&phase)
    );
    assert!(
        out(&phase).contains("next: 10 Domain Compliance"),
        "small skips 9: {}",
        out(&phase)
    );
    assert!(progress(&p, &["note", "API done"]).status.success());
    let status = progress(&p, &["status"]);
    assert!(
        out(&status).contains("last note: API done"),
        "{}",
        out(&status)
    );
    let json: serde_json::Value =
        serde_json::from_slice(&progress(&p, &["status", "--json"]).stdout).unwrap();
    assert_eq!(json[0]["current_phase"], 8);
    assert_eq!(json[0]["type"], "small");
    let bad = progress(&p, &["phase", "nonsense"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        out(&bad).contains("no phase is called `nonsense`"),
        "{}",
        out(&bad)
    );
    assert!(progress(&p, &["done"]).status.success());
    assert!(out(&progress(&p, &["status"])).contains("no active feature\n(1 done)"));
    let none = progress(&p, &["phase", "3"]);
    assert_eq!(none.status.code(), Some(1));
    assert!(out(&none).contains("no active feature"), "{}", out(&none));
}

#[test]
fn two_active_features_need_a_name_and_a_broken_manifest_is_never_overwritten() {
    let (_t, p) = project();
    assert!(progress(&p, &["start", "One"]).status.success());
    assert!(progress(&p, &["start", "Two"]).status.success());
    let which = progress(&p, &["note", "x"]);
    assert_eq!(which.status.code(), Some(1));
    assert!(
        out(&which).contains("2 features are active"),
        "{}",
        out(&which)
    );
    let ids = Store::new(&p).ids();
    let named = progress(&p, &["note", "x", "--feature", &ids[0]]);
    assert!(named.status.success(), "{}", out(&named));
    let path = Store::new(&p).manifest_path(&ids[1]);
    std::fs::write(&path, "title: [oops\n").unwrap();
    let refused = progress(&p, &["phase", "2", "--feature", &ids[1]]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        out(&refused).contains("MANIFEST.yaml:"),
        "{}",
        out(&refused)
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "title: [oops\n");
    assert_eq!(
        progress(&p, &["status"]).status.code(),
        Some(1),
        "status reports it"
    );
}

/// A session transcript whose last answer used `tokens` of a 200K window.
fn transcript_at(project: &Path, tokens: u64) {
    let home = project.parent().unwrap().join("home/.claude");
    let dir = portcullis_context::project_sessions_dir(&home, project);
    std::fs::create_dir_all(&dir).unwrap();
    let line = format!(
        r#"{{"type":"assistant","isSidechain":false,"message":{{"id":"m1","model":"claude-sonnet-4-5","content":[{{"type":"text","text":"ok"}}],"usage":{{"input_tokens":{tokens},"cache_read_input_tokens":0,"cache_creation_input_tokens":0,"output_tokens":100}}}}}}"#
    );
    std::fs::write(dir.join("s1.jsonl"), line + "\n").unwrap();
}

#[test]
fn a_heavy_phase_is_refused_while_the_context_is_in_the_block_band() {
    let (_t, p) = project();
    assert!(
        progress(&p, &["start", "Big one", "--type", "large"])
            .status
            .success()
    );
    transcript_at(&p, 176_000);
    let before = std::fs::read_to_string(only_manifest(&p)).unwrap();
    let refused = progress(&p, &["phase", "implementation"]);
    assert_eq!(refused.status.code(), Some(1), "{}", out(&refused));
    let text = out(&refused);
    assert!(
        text.contains("phase 8 Implementation is a heavy phase"),
        "{text}"
    );
    assert!(
        text.contains("88.1% (176K of 200K") && text.contains("/compact"),
        "{text}"
    );
    assert_eq!(std::fs::read_to_string(only_manifest(&p)).unwrap(), before);
    // A light phase is entered whatever the context; after compaction the heavy one too.
    assert!(progress(&p, &["phase", "2"]).status.success());
    transcript_at(&p, 40_000);
    let entered = progress(&p, &["phase", "8"]);
    assert!(entered.status.success(), "{}", out(&entered));
}

#[test]
fn parallel_writers_lose_no_update() {
    let (_t, p) = project();
    assert!(progress(&p, &["start", "Shared"]).status.success());
    let children: Vec<_> = (0..24)
        .map(|i| {
            progress_cmd(&p, &["note", &format!("note {i}")])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let m = parse(&std::fs::read_to_string(only_manifest(&p)).unwrap()).unwrap();
    let mut notes: Vec<&str> = m.log.iter().map(|n| n.text.as_str()).collect();
    notes.sort_unstable();
    notes.dedup();
    assert_eq!(notes.len(), 24, "{notes:?}");
}

#[test]
fn writers_killed_mid_write_leave_a_whole_manifest() {
    let (_t, p) = project();
    assert!(progress(&p, &["start", "Killed"]).status.success());
    let path = only_manifest(&p);
    for i in 0..30u64 {
        let mut c = progress_cmd(&p, &["note", &"x".repeat(10_000)])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_micros(300 * (i % 10)));
        let _ = c.kill();
        let _ = c.wait();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(parse(&text).is_ok(), "after kill {i}: a torn manifest");
    }
}

/// A manifest larger than the read cap is neither parsed from its head nor written back: `portcullis
/// progress` refuses with the reason and the SubagentStop hook records nothing, and the file stays byte for
/// byte as it was (issue 35, item 23: it was cut at the cap and rewritten, losing hand-written notes).
#[test]
fn a_manifest_over_the_cap_is_never_rewritten() {
    let (_t, p) = project();
    assert!(progress(&p, &["start", "Huge"]).status.success());
    let path = only_manifest(&p);
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("handwritten: |\n");
    for i in 0..120_000 {
        let _ = writeln!(text, "  line {i} of the notes a person keeps here, by hand");
    }
    text.push_str("last_key: kept\n");
    assert!(text.len() > 4 << 20, "{}", text.len());
    std::fs::write(&path, &text).unwrap();

    let refused = progress(&p, &["note", "one more"]);
    assert_eq!(refused.status.code(), Some(1), "{}", out(&refused));
    assert!(
        out(&refused).contains("larger than 4 MiB"),
        "{}",
        out(&refused)
    );

    let stop = portcullis_testkit::decide::captured(
        "SubagentStop-subagent",
        &p,
        "big",
        &serde_json::json!({"last_assistant_message": "done"}),
    );
    let hook = portcullis_testkit::run_with_stdin(
        Command::new(workspace_bin("feature-progress"))
            .current_dir(&p)
            .env_clear()
            .env("HOME", p.parent().unwrap().join("home"))
            .env("CLAUDE_PROJECT_DIR", &p),
        stop.to_string().as_bytes(),
    )
    .unwrap();
    assert!(
        std::fs::read_to_string(&path).unwrap() == text,
        "the manifest changed: {}",
        String::from_utf8_lossy(&hook.stderr)
    );
}
