//! `portcullis install --client copilot` on real Copilot hook files: foreign settings and hooks stay byte
//! for byte, install is idempotent and uninstall removes exactly ours; the repository file says its format's
//! version, and install and doctor say when Copilot would skip it.

use std::path::PathBuf;
use std::process::Command;

use portcullis_testkit::workspace_bin;
use serde_json::Value;

/// A Copilot settings file as a user keeps it: a setting and a hook of their own.
const FOREIGN: &str = r#"{
  "model": "claude-sonnet-4.5",
  "hooks": {
    "PreToolUse": [
      { "type": "command", "bash": "/usr/local/bin/my-guard", "timeoutSec": 5 }
    ]
  }
}
"#;

struct Setup {
    _tmp: tempfile::TempDir,
    project: PathBuf,
    home: PathBuf,
}

impl Setup {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        let project = root.join("proj");
        std::fs::create_dir_all(project.join(".git")).unwrap();
        Self {
            home: root.join("home"),
            project,
            _tmp: tmp,
        }
    }

    fn settings(&self) -> PathBuf {
        self.home.join(".copilot/settings.json")
    }

    fn portcullis(&self, args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
        let out = Command::new(workspace_bin("portcullis"))
            .args(args)
            .current_dir(&self.project)
            .env("HOME", &self.home)
            .env("PATH", "/usr/bin:/bin")
            .env_remove("COPILOT_HOME")
            .env_remove("COPILOT_ALLOW_ALL")
            .env_remove("PORTCULLIS_CONFIG")
            .env_remove("CLAUDE_PROJECT_DIR")
            .envs(env.iter().copied())
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }
}

#[test]
fn copilot_install_keeps_foreign_hooks_and_uninstall_removes_only_ours() {
    let s = Setup::new();
    let bin_dir = workspace_bin("portcullis")
        .parent()
        .unwrap()
        .display()
        .to_string();
    std::fs::create_dir_all(s.settings().parent().unwrap()).unwrap();
    std::fs::write(s.settings(), FOREIGN).unwrap();
    let install = [
        "install",
        "--client",
        "copilot",
        "--user",
        "--bin-dir",
        &bin_dir,
    ];
    let (ok, out) = s.portcullis(&install, &[]);
    assert!(ok, "{out}");
    let installed = std::fs::read_to_string(s.settings()).unwrap();
    let v: Value = serde_json::from_str(&installed).unwrap();
    assert_eq!(v["model"], "claude-sonnet-4.5");
    assert_eq!(
        v["hooks"]["PreToolUse"][0]["bash"],
        "/usr/local/bin/my-guard"
    );
    // Ours: Claude Code's event names, a bash command line naming the client, seconds.
    let post: Vec<&Value> = v["hooks"]["PostToolUse"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["hooks"].as_array().into_iter().flatten())
        .filter(|h| {
            h["bash"]
                .as_str()
                .is_some_and(|b| b.ends_with("/feedback-loop --client copilot"))
        })
        .collect();
    assert_eq!(
        post.len(),
        1,
        "one handler for PostToolUse and its failures"
    );
    assert!(post[0]["timeoutSec"].as_u64().unwrap() < 100);
    assert!(
        v["hooks"].get("PostToolUseFailure").is_none() && v["hooks"].get("SubagentStart").is_none()
    );
    assert!(
        !installed.contains("agent-first --client")
            && !installed.contains("handoff-router --client")
    );
    let (ok, out) = s.portcullis(&install, &[]);
    assert!(ok, "{out}");
    assert_eq!(
        std::fs::read_to_string(s.settings()).unwrap(),
        installed,
        "a second install changes nothing"
    );
    let (_, out) = s.portcullis(
        &["doctor", "--client", "copilot", "--bin-dir", &bin_dir],
        &[],
    );
    assert!(
        out.contains("copilot hooks") && !out.contains("is not registered"),
        "{out}"
    );
    let (ok, out) = s.portcullis(&["uninstall", "--client", "copilot", "--user"], &[]);
    assert!(ok, "{out}");
    let after: Value =
        serde_json::from_str(&std::fs::read_to_string(s.settings()).unwrap()).unwrap();
    let foreign: Value = serde_json::from_str(FOREIGN).unwrap();
    assert_eq!(after, foreign);
}

#[test]
fn the_repository_file_says_its_version_and_that_it_needs_a_trusted_folder() {
    let s = Setup::new();
    let bin_dir = workspace_bin("portcullis")
        .parent()
        .unwrap()
        .display()
        .to_string();
    let project = s.project.display().to_string();
    let (ok, out) = s.portcullis(
        &[
            "install",
            "--client",
            "copilot",
            "--project",
            &project,
            "--bin-dir",
            &bin_dir,
        ],
        &[],
    );
    assert!(ok && out.contains("only in a trusted folder"), "{out}");
    let file = s.project.join(".github/hooks/portcullis.json");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(v["version"], 1);
    let doctor = |env: &[(&str, &str)]| {
        s.portcullis(
            &[
                "doctor",
                "--client",
                "copilot",
                "--project",
                &project,
                "--bin-dir",
                &bin_dir,
            ],
            env,
        )
        .1
    };
    assert!(doctor(&[]).contains("--trust-folder"));
    assert!(doctor(&[("COPILOT_ALLOW_ALL", "true")]).contains("COPILOT_ALLOW_ALL=true loads"));
    std::fs::create_dir_all(s.settings().parent().unwrap()).unwrap();
    std::fs::write(s.settings(), r#"{"disableAllHooks": true}"#).unwrap();
    let off = doctor(&[]);
    assert!(off.contains("disableAllHooks"), "{off}");
}
