//! `portcullis install --client codex` on real Codex hook files: foreign handlers stay byte-identical,
//! install is idempotent and uninstall removes exactly ours; trust is recorded the way Codex reads it, and
//! `doctor --client codex` tells a hook Codex would skip.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use portcullis_testkit::e2e_codex::codex_or_skip;
use portcullis_testkit::workspace_bin;

/// A Codex hooks.json as a user might keep it: a foreign handler on an event ours use too.
const FOREIGN: &str = r#"{
  "hooks": {
    "PreToolUse": [
      { "matcher": "Bash", "hooks": [{ "type": "command", "command": "/usr/local/bin/my-guard", "timeout": 5 }] }
    ]
  }
}
"#;

struct Setup {
    _tmp: tempfile::TempDir,
    project: PathBuf,
    codex_home: PathBuf,
}

impl Setup {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        let project = root.join("proj");
        std::fs::create_dir_all(&project).unwrap();
        Self {
            codex_home: root.join("codex-home"),
            project,
            _tmp: tmp,
        }
    }

    fn portcullis(&self, args: &[&str]) -> (bool, String) {
        let bin = workspace_bin("portcullis");
        let out = Command::new(&bin)
            .args(args)
            .current_dir(&self.project)
            .env("HOME", self.project.join("home"))
            .env("CODEX_HOME", &self.codex_home)
            .env("PATH", "/usr/bin:/bin")
            .env_remove("PORTCULLIS_CONFIG")
            .env_remove("CLAUDE_PROJECT_DIR")
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    fn bin_dir() -> String {
        workspace_bin("portcullis")
            .parent()
            .unwrap()
            .display()
            .to_string()
    }
}

#[test]
fn codex_install_keeps_foreign_handlers_and_uninstall_removes_only_ours() {
    let h = Setup::new();
    let file = h.codex_home.join("hooks.json");
    std::fs::create_dir_all(&h.codex_home).unwrap();
    std::fs::write(&file, FOREIGN).unwrap();
    let bin_dir = Setup::bin_dir();
    let install = [
        "install",
        "--client",
        "codex",
        "--user",
        "--no-trust",
        "--bin-dir",
        &bin_dir,
    ];
    let (ok, text) = h.portcullis(&install);
    assert!(ok, "{text}");
    assert!(text.contains("trust not recorded (--no-trust)"), "{text}");
    assert!(text.contains("Codex skips untrusted hooks"), "{text}");
    let installed = std::fs::read_to_string(&file).unwrap();
    assert!(installed.contains("/usr/local/bin/my-guard"));
    assert!(
        installed.contains("/feedback-loop --client codex"),
        "{installed}"
    );
    assert!(
        !installed.contains("agent-first"),
        "agent-first is not for Codex"
    );
    assert!(
        !installed.contains("PostToolUseFailure"),
        "no Claude-only events"
    );
    assert!(
        !installed.contains("\"args\""),
        "Codex handlers take no args"
    );
    let (ok, text) = h.portcullis(&install);
    assert!(ok && text.contains("already up to date"), "{text}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), installed);
    let (ok, text) = h.portcullis(&["uninstall", "--client", "codex", "--user"]);
    assert!(ok, "{text}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), FOREIGN);
}

fn trust_project(codex_home: &Path, project: &Path) {
    let config = codex_home.join("config.toml");
    let mut text = std::fs::read_to_string(&config).unwrap_or_default();
    let _ = write!(
        text,
        "\n[projects.\"{}\"]\ntrust_level = \"trusted\"\n",
        project.display()
    );
    std::fs::write(&config, text).unwrap();
}

#[test]
fn codex_trust_is_recorded_as_codex_reads_it_and_doctor_tells_what_codex_would_skip() {
    let Some(codex) = codex_or_skip() else { return };
    let codex = codex.display().to_string();
    let h = Setup::new();
    let bin_dir = Setup::bin_dir();
    let project = h.project.display().to_string();
    let doctor = [
        "doctor",
        "--client",
        "codex",
        "--project",
        &project,
        "--bin-dir",
        &bin_dir,
        "--codex-bin",
        &codex,
    ];
    let (ok, text) = h.portcullis(&doctor);
    assert!(!ok && text.contains("is not registered"), "{text}");

    let install = [
        "install",
        "--client",
        "codex",
        "--project",
        &project,
        "--bin-dir",
        &bin_dir,
        "--codex-bin",
        &codex,
    ];
    let (ok, text) = h.portcullis(&install);
    assert!(ok, "{text}");
    assert!(text.contains("only in a trusted project"), "{text}");
    // Our handlers, listed as if the project were trusted, all newly trusted.
    let ours = text
        .lines()
        .find_map(|l| l.strip_prefix("trusted "))
        .and_then(|t| t.split(' ').next())
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or_else(|| panic!("{text}"));
    assert!(ours > 20 && text.contains("(0 already were)"), "{text}");
    // The project itself is the user's to trust: doctor says so until it is.
    let (ok, text) = h.portcullis(&doctor);
    assert!(!ok && text.contains("only in a trusted project"), "{text}");
    trust_project(&h.codex_home, &h.project);
    let (ok, text) = h.portcullis(&doctor);
    assert!(ok, "{text}");
    assert!(text.contains("ok    codex trust: all "), "{text}");

    // A changed handler (here: its timeout) has a new hash, and Codex skips it again; install puts our
    // handler back as it was, whose trust is on record.
    let file = h.project.join(".codex/hooks.json");
    let edited =
        std::fs::read_to_string(&file)
            .unwrap()
            .replacen("\"timeout\": 10", "\"timeout\": 11", 1);
    std::fs::write(&file, edited).unwrap();
    let (ok, text) = h.portcullis(&doctor);
    assert!(!ok && text.contains("Codex skips 1 of our"), "{text}");
    let (ok, text) = h.portcullis(&install);
    assert!(ok && text.contains("\ntrusted 0 handler(s)"), "{text}");
    let (ok, text) = h.portcullis(&doctor);
    assert!(ok, "{text}");
}
