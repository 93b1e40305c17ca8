//! `portcullis run-with-secrets` as a process: the command gets the secret in its environment, its
//! output comes back scrubbed, its exit code passes through; a source that fails runs nothing.

use std::path::Path;
use std::process::{Command, Output};

use portcullis_testkit::workspace_bin;

fn run(project: &Path, args: &[&str]) -> Output {
    Command::new(workspace_bin("portcullis"))
        .arg("run-with-secrets")
        .args(args)
        .current_dir(project)
        .env("HOME", project.join("home"))
        .env("MY_SECRET_VAR", "from-env-9Xq2")
        .env_remove("CLAUDE_CONFIG_DIR")
        .env_remove("PORTCULLIS_CONFIG")
        .env_remove("CLAUDE_PROJECT_DIR")
        .output()
        .unwrap()
}

#[test]
fn the_command_gets_the_secret_and_its_output_is_scrubbed() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().canonicalize().unwrap();
    std::fs::create_dir_all(p.join(".claude")).unwrap();
    let vault = p.join("vault.env");
    std::fs::write(&vault, "DEPLOY_TOKEN=\"dpl-7Hq2Xv9Lm4Rt8Kw3\"\n").unwrap();
    let source = format!("T=file:{}#DEPLOY_TOKEN", vault.display());
    let out = run(
        &p,
        &[
            "--env",
            &source,
            "--env",
            "E=env:MY_SECRET_VAR",
            "--",
            "sh",
            "-c",
            "printf %s \"$T\" > got.txt; echo \"out $T and $E\"; echo \"err $T\" >&2; exit 7",
        ],
    );
    assert_eq!(out.status.code(), Some(7), "the command's exit code");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "out [REDACTED secret:T] and [REDACTED secret:E]\n"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "err [REDACTED secret:T]\n"
    );
    assert_eq!(
        std::fs::read_to_string(p.join("got.txt")).unwrap(),
        "dpl-7Hq2Xv9Lm4Rt8Kw3"
    );
}

#[test]
fn named_secrets_come_from_config_and_a_failing_source_runs_nothing() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().canonicalize().unwrap();
    std::fs::create_dir_all(p.join(".claude")).unwrap();
    std::fs::write(p.join("s.env"), "K=named-value-42\n").unwrap();
    std::fs::write(
        p.join(".claude/portcullis.json"),
        r#"{"secrets": {"deploy": {"env": "DEPLOY", "source": "file:s.env#K"}}}"#,
    )
    .unwrap();
    let out = run(
        &p,
        &["deploy", "--", "sh", "-c", "echo \"$DEPLOY\" | wc -c"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "15",
        "14 bytes and a newline"
    );
    for (args, why) in [
        (vec!["--env", "X=file:s.env#NOPE"], "no key `NOPE`"),
        (vec!["--env", "X=env:UNSET_VAR_XYZ"], "not set"),
        (vec!["nobody"], "no secret `nobody`"),
        (vec!["--env", "X=vault:x"], "a source is"),
    ] {
        let mut all = args.clone();
        all.extend(["--", "touch", "ran.txt"]);
        let out = run(&p, &all);
        assert_eq!(out.status.code(), Some(125), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(why),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!p.join("ran.txt").exists(), "nothing ran for {args:?}");
    }
}

/// Issue 35, items 19 and 20, and issue 36's exit codes: a command not found is 127; a file source whose
/// line does not parse is refused without quoting the line; a child that prints the value escaped or
/// base64-encoded has it scrubbed too.
#[test]
fn not_found_is_127_a_bad_line_is_not_quoted_and_encoded_values_are_scrubbed() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().canonicalize().unwrap();
    std::fs::create_dir_all(p.join(".claude")).unwrap();
    std::fs::write(p.join("s.env"), "K=enc-Value-73qZ\n").unwrap();
    let missing = run(
        &p,
        &["--env", "X=file:s.env#K", "--", "no-such-program-xyz"],
    );
    assert_eq!(missing.status.code(), Some(127));

    std::fs::write(p.join("bad.env"), "BAD LINE=leaky-Secret-9Qz\nK=v\n").unwrap();
    let bad = run(&p, &["--env", "X=file:bad.env#K", "--", "true"]);
    let err = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(125), "{err}");
    assert!(!err.contains("leaky"), "the secret line was printed: {err}");

    let out = run(
        &p,
        &[
            "--env",
            "T=file:s.env#K",
            "--",
            "sh",
            "-c",
            "printf %s \"$T\" | base64; echo \"$T\" | base64; printf '{\"t\":\"%s\"}\\n' \"$T\" | od -An -c | head -0; printf %s \"$T\" | od -An -tx1 | tr -d ' \\n'; echo",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in stdout.lines().filter(|l| !l.is_empty()) {
        assert_eq!(line, "[REDACTED secret:T]", "{stdout}");
    }
}
