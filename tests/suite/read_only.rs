//! Read-only means read-only (issue 36, item 6): `doctor`, `log`, `locks`, `audit`, `domains`, `skills` and
//! `progress status` create and change nothing, in a project or outside one; outside one, a command that
//! needs a project says so and exits non-zero.

use std::path::Path;
use std::process::Command;

use portcullis_testkit::workspace_bin;

const READ_ONLY: &[&[&str]] = &[
    &["doctor"],
    &["log"],
    &["locks"],
    &["audit"],
    &["domains"],
    &["skills", "list"],
    &["progress", "status"],
    &["handoffs"],
];

/// Every path below `dir` but `keep`.
fn contents(dir: &Path, keep: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
            if keep
                .iter()
                .any(|k| rel == *k || rel.starts_with(&format!("{k}/")))
            {
                continue;
            }
            out.push(rel);
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            }
        }
    }
    out.sort();
    out
}

fn run(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(workspace_bin("portcullis"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir.join("home"))
        // Nothing above the temp folder (a `.git` there) may make it a project.
        .env(
            "GIT_CEILING_DIRECTORIES",
            dir.parent().unwrap_or(dir).as_os_str(),
        )
        .output()
        .unwrap()
}

#[test]
fn read_only_commands_make_nothing_and_refuse_a_folder_that_is_no_project() {
    for args in READ_ONLY {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().canonicalize().unwrap();
        let out = run(&dir, args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_ne!(out.status.code(), Some(0), "{args:?} outside a project");
        assert!(err.contains("is not in a project"), "{args:?}: {err}");
        assert_eq!(
            contents(&dir, &["home"]),
            Vec::<String>::new(),
            "{args:?} made files"
        );

        std::fs::create_dir_all(dir.join(".git")).unwrap();
        let _ = run(&dir, args);
        assert_eq!(
            contents(&dir, &["home", ".git"]),
            Vec::<String>::new(),
            "{args:?} made files in a project"
        );
    }
    // A command that would make a project out of a random folder refuses too.
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().canonicalize().unwrap();
    let out = run(&dir, &["progress", "start", "Login form"]);
    assert_ne!(out.status.code(), Some(0));
    assert_eq!(contents(&dir, &["home"]), Vec::<String>::new());
}

/// Issue 36, item 10: every binary's help has a usage line and the `--client` flag where it applies, and
/// `uninstall --help` speaks of removing, not installing.
#[test]
fn every_help_has_a_usage_line_and_the_client_flag() {
    for hook in portcullis_suite::HOOKS {
        let out = Command::new(workspace_bin(hook.name))
            .arg("--help")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{}", hook.name);
        assert!(
            text.contains(&format!("Usage: {}", hook.name)) && text.contains("--client"),
            "{}: {text}",
            hook.name
        );
    }
    let out = Command::new(workspace_bin("portcullis"))
        .args(["uninstall", "--help"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Usage: portcullis uninstall"), "{text}");
    assert!(!text.contains("Install into"), "{text}");
}

/// Issue 36, item 8: `log --follow` prints entries as the hooks write them.
#[test]
fn log_follow_prints_new_entries() {
    use std::io::{BufRead, BufReader, Write};
    let t = tempfile::tempdir().unwrap();
    let p = t.path().canonicalize().unwrap();
    std::fs::create_dir_all(p.join(".claude/portcullis")).unwrap();
    let log = p.join(".claude/portcullis/log.jsonl");
    std::fs::write(&log, "").unwrap();
    let mut child = Command::new(workspace_bin("portcullis"))
        .args(["log", "--follow", "--project"])
        .arg(&p)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    std::thread::sleep(std::time::Duration::from_millis(700));
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    writeln!(
        f,
        r#"{{"time":"t","session":"s","agent":"main","hook":"agent-first","event":"PreToolUse","verdict":"deny","reason":"followed entry","micros":1}}"#
    )
    .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut seen = Vec::new();
    while std::time::Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(std::time::Duration::from_millis(200)) {
            seen.push(line);
            if seen.iter().any(|l| l.contains("followed entry")) {
                break;
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        seen.iter().any(|l| l.contains("followed entry")),
        "{seen:?}"
    );
}
