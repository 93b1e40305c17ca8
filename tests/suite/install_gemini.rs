//! `portcullis install --client gemini` on real Gemini settings files: comments, foreign settings and
//! foreign hooks stay byte for byte, install is idempotent and uninstall removes exactly ours; `doctor
//! --client gemini` tells when Gemini would not run them (an untrusted folder, `hooksConfig`).

use std::path::PathBuf;
use std::process::Command;

use portcullis_testkit::workspace_bin;
use serde_json::Value;

/// A Gemini settings file as a user keeps it: comments, their own settings and a hook of their own.
const FOREIGN: &str = r#"{
  // my theme, keep it
  "ui": { "theme": "GitHub" },
  "hooks": {
    "BeforeTool": [
      /* my own guard */
      { "matcher": "run_shell_command", "hooks": [{ "name": "mine", "type": "command", "command": "/usr/local/bin/my-guard", "timeout": 5000 }] }
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
        self.home.join(".gemini/settings.json")
    }

    fn portcullis(&self, args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
        let bin = workspace_bin("portcullis");
        let out = Command::new(&bin)
            .args(args)
            .current_dir(&self.project)
            .env("HOME", &self.home)
            .env("PATH", "/usr/bin:/bin")
            .env_remove("GEMINI_CLI_HOME")
            .env_remove("GEMINI_CLI_TRUST_WORKSPACE")
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

fn value(text: &str) -> Value {
    portcullis::settings::jsonc_value(text).unwrap().unwrap()
}

#[test]
fn gemini_install_keeps_comments_and_foreign_hooks_and_uninstall_removes_only_ours() {
    let s = Setup::new();
    let bin_dir = workspace_bin("portcullis")
        .parent()
        .unwrap()
        .display()
        .to_string();
    std::fs::create_dir_all(s.settings().parent().unwrap()).unwrap();
    std::fs::write(s.settings(), FOREIGN).unwrap();
    let (ok, out) = s.portcullis(
        &[
            "install",
            "--client",
            "gemini",
            "--user",
            "--bin-dir",
            &bin_dir,
        ],
        &[],
    );
    assert!(ok, "{out}");
    let installed = std::fs::read_to_string(s.settings()).unwrap();
    assert!(installed.contains("// my theme, keep it") && installed.contains("/* my own guard */"));
    let v = value(&installed);
    assert_eq!(v["ui"]["theme"], "GitHub");
    let before_tool = v["hooks"]["BeforeTool"].as_array().unwrap();
    assert_eq!(
        before_tool[0]["hooks"][0]["command"],
        "/usr/local/bin/my-guard"
    );
    // Ours: Gemini's names, a name per handler, milliseconds, and one AfterTool handler per hook.
    let after_tool = v["hooks"]["AfterTool"].as_array().unwrap();
    let feedback: Vec<&Value> = after_tool
        .iter()
        .flat_map(|g| g["hooks"].as_array().unwrap())
        .filter(|h| h["name"] == "portcullis-feedback-loop")
        .collect();
    assert_eq!(feedback.len(), 1, "{after_tool:?}");
    assert!(
        feedback[0]["command"]
            .as_str()
            .unwrap()
            .ends_with("/feedback-loop --client gemini")
    );
    assert_eq!(feedback[0]["timeout"].as_u64().unwrap() % 1000, 0);
    assert!(v["hooks"]["AfterAgent"].is_array() && v["hooks"].get("Stop").is_none());
    assert!(
        !installed.contains("agent-first --client")
            && !installed.contains("handoff-router --client")
    );
    // A second install changes nothing, byte for byte.
    let (ok, out) = s.portcullis(
        &[
            "install",
            "--client",
            "gemini",
            "--user",
            "--bin-dir",
            &bin_dir,
        ],
        &[],
    );
    assert!(ok, "{out}");
    assert_eq!(std::fs::read_to_string(s.settings()).unwrap(), installed);
    let (ok, out) = s.portcullis(
        &["doctor", "--client", "gemini", "--bin-dir", &bin_dir],
        &[],
    );
    assert!(
        out.contains("gemini hooks") && !out.contains("is not registered"),
        "{ok} {out}"
    );
    assert!(out.contains("user settings need no trust"), "{out}");
    // A gate Gemini does not run is not reported as a gate there, and says why.
    assert!(
        out.contains("note  agent-first: not run in Gemini CLI: "),
        "{out}"
    );
    assert!(!out.contains("warn  agent-first"), "{out}");
    assert!(
        out.contains("note  skill-gateway: partly in Gemini CLI: prompts only"),
        "{out}"
    );
    // Uninstall leaves what was there.
    let (ok, out) = s.portcullis(&["uninstall", "--client", "gemini", "--user"], &[]);
    assert!(ok, "{out}");
    let after = std::fs::read_to_string(s.settings()).unwrap();
    assert_eq!(value(&after), value(FOREIGN));
    assert!(after.contains("// my theme, keep it") && after.contains("/* my own guard */"));
}

#[test]
fn doctor_tells_when_gemini_would_not_run_the_hooks() {
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
            "gemini",
            "--project",
            &project,
            "--bin-dir",
            &bin_dir,
        ],
        &[],
    );
    assert!(
        ok && out.contains("runs a project's hooks only in a trusted folder"),
        "{out}"
    );
    assert!(s.project.join(".gemini/settings.json").is_file());
    let doctor = |env: &[(&str, &str)]| {
        s.portcullis(
            &[
                "doctor",
                "--client",
                "gemini",
                "--project",
                &project,
                "--bin-dir",
                &bin_dir,
            ],
            env,
        )
        .1
    };
    let untrusted = doctor(&[]);
    assert!(
        untrusted.contains("only in a trusted folder"),
        "{untrusted}"
    );
    // Trusted the way Gemini records it.
    std::fs::create_dir_all(s.home.join(".gemini")).unwrap();
    std::fs::write(
        s.home.join(".gemini/trustedFolders.json"),
        serde_json::json!({ project.clone(): "TRUST_FOLDER" }).to_string(),
    )
    .unwrap();
    let trusted = doctor(&[]);
    assert!(
        trusted.contains("is a trusted folder") && !trusted.contains("only in a trusted folder"),
        "{trusted}"
    );
    // Switched off in the user's settings: doctor says so.
    std::fs::write(
        s.home.join(".gemini/settings.json"),
        r#"{"hooksConfig": {"disabled": ["portcullis-secret-guard"]}}"#,
    )
    .unwrap();
    let off = doctor(&[]);
    assert!(
        off.contains("switches off portcullis-secret-guard"),
        "{off}"
    );
}
