//! What a user sees at a terminal (issue 36, item 10): colour there and nowhere else, one `name: error:`
//! prefix, an example in every help, and completion scripts that know the real commands.

use std::path::Path;
use std::process::{Command, Output};

use portcullis_testkit::workspace_bin;

fn portcullis(dir: &Path, args: &[&str], extra_env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(workspace_bin("portcullis"));
    cmd.args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir.join("home"));
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// `portcullis doctor` run under `script`, which gives it a terminal; `None` where `script` is missing.
fn doctor_on_a_terminal(dir: &Path, no_color: bool) -> Option<String> {
    let bin = workspace_bin("portcullis");
    let command = format!(
        "{}cd '{}' && '{}' doctor --bin-dir '{}'",
        if no_color { "export NO_COLOR=1; " } else { "" },
        dir.display(),
        bin.display(),
        bin.parent().unwrap().display()
    );
    let out = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("HOME", dir.join("home"))
        .env_remove("NO_COLOR")
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn colour_on_a_terminal_only_and_never_with_no_color() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().canonicalize().unwrap();
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    let piped = portcullis(&dir, &["doctor"], &[]);
    let piped = String::from_utf8_lossy(&piped.stdout);
    assert!(piped.starts_with("doctor: "), "{piped}");
    assert!(!piped.contains('\x1b'), "colour in a pipe: {piped:?}");
    let Some(terminal) = doctor_on_a_terminal(&dir, false) else {
        assert!(std::env::var_os("CI").is_none(), "`script` is needed in CI");
        return;
    };
    assert!(terminal.contains("\x1b[32mok   \x1b[0m"), "{terminal:?}");
    let plain = doctor_on_a_terminal(&dir, true).unwrap();
    assert!(plain.contains("ok    config"), "{plain:?}");
    assert!(
        !plain.contains('\x1b'),
        "colour despite NO_COLOR: {plain:?}"
    );
}

#[test]
fn failures_have_one_prefix_and_usage_errors_exit_64() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().canonicalize().unwrap();
    let out = portcullis(&dir, &["--bogus"], &[]);
    assert_eq!(out.status.code(), Some(64));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("portcullis: error: unexpected argument '--bogus'"),
        "{err}"
    );
    let out = portcullis(&dir, &["log", "--project", "/no/such/folder"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "portcullis: error: `/no/such/folder` is not a folder\n"
    );
    for hook in ["agent-first", "feedback-loop"] {
        let out = Command::new(workspace_bin(hook))
            .arg("--bogus")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(64), "{hook}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with(&format!("{hook}: error: ")), "{err}");
    }
}

#[test]
fn every_command_help_has_an_example() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let top = portcullis(dir, &["--help"], &[]);
    let top = String::from_utf8_lossy(&top.stdout);
    let commands: Vec<&str> = top
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(commands.len() >= 14, "{top}");
    for command in commands {
        let out = portcullis(dir, &[command, "--help"], &[]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Usage: portcullis"), "{command}: {text}");
        assert!(
            text.contains("Examples:\n  portcullis "),
            "{command} --help has no example:\n{text}"
        );
    }
    for hook in portcullis_suite::HOOKS {
        let out = Command::new(workspace_bin(hook.name))
            .arg("--help")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Example"), "{} --help: {text}", hook.name);
    }
}

#[test]
fn completion_scripts_know_the_commands() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().canonicalize().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let out = portcullis(&dir, &["completions", shell], &[]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = String::from_utf8_lossy(&out.stdout);
        for word in ["init", "doctor", "dry-run"] {
            assert!(script.contains(word), "{shell} lacks {word}");
        }
    }
    // bash: the script completes `portcullis in` to `init` and `install`.
    let script = dir.join("portcullis.bash");
    std::fs::write(
        &script,
        portcullis(&dir, &["completions", "bash"], &[]).stdout,
    )
    .unwrap();
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source '{}'; COMP_WORDS=(portcullis in); COMP_CWORD=1; _portcullis portcullis in portcullis; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display()
        ))
        .output()
        .unwrap();
    let words = String::from_utf8_lossy(&out.stdout);
    assert!(
        words.lines().any(|w| w == "init") && words.lines().any(|w| w == "install"),
        "{words}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bad = portcullis(&dir, &["completions", "tcsh"], &[]);
    assert_eq!(bad.status.code(), Some(64));
}
