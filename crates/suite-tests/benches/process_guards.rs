//! The process bench's cases for the guards: workspace-guard and secret-guard.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use super::cases::captured;
use super::{Case, root, run_once};

/// workspace-guard: the common paths (a Bash call that writes nothing, a Read, a write to a file the
/// writer already holds, a first write that makes the claim) and the jail's worst case (a write outside
/// the project: the workspace's folders gathered from settings files and the client's command line).
pub(crate) fn workspace_guard_cases(rel: &Path, tmp: &Path) -> Vec<Case> {
    let project = tmp.join("guard");
    std::fs::create_dir_all(project.join(".claude")).unwrap();
    std::fs::write(
        project.join(".claude/settings.json"),
        r#"{"permissions": {"additionalDirectories": ["/srv/shared"]}}"#,
    )
    .unwrap();
    let bin = rel.join("workspace-guard");
    let write = |file: &str, agent: &str| {
        captured(
            "PreToolUse-Write-subagent",
            &project,
            &serde_json::json!({"agent_id": agent, "tool_input": {"file_path": file, "content": "x"}}),
        )
    };
    let held = project.join("src/held.rs").display().to_string();
    let fresh = project.join("src/fresh.rs").display().to_string();
    // The holder's claim exists before the runs (made by one untimed run).
    run_once(&bin, &project, &write(&held, "a1"));
    let claims = workspace_guard::Claims::new(&project, Duration::from_secs(3600));
    let case = |name, stdin| Case::plain(name, &bin, &project, stdin);
    vec![
        case(
            "workspace-guard / Bash that writes nothing",
            captured(
                "PreToolUse-Bash",
                &project,
                &serde_json::json!({"tool_input": {"command": "cargo test --workspace"}}),
            ),
        ),
        case(
            "workspace-guard / Read (reads not jailed)",
            captured(
                "PreToolUse-Read",
                &project,
                &serde_json::json!({"tool_input": {"file_path": project.join("src/lib.rs")}}),
            ),
        ),
        case(
            "workspace-guard / Write, the writer holds the claim",
            write(&held, "a1"),
        ),
        Case {
            reset: vec![claims.file_for("src/fresh.rs")],
            ..case(
                "workspace-guard / Write, first write: new claim",
                write(&fresh, "a2"),
            )
        },
        case(
            "workspace-guard / Write outside the workspace: deny",
            write("/etc/portcullis-bench.conf", "a1"),
        ),
    ]
}

/// secret-guard: the guard on an ordinary Read and command, a denied Read of `.env`, and the redaction
/// of tool output: a small ordinary output (the common path), 1 MB of this repository's sources (the
/// keyword pass, then the rules its keywords call for, around each keyword), and a 1 MB log with three
/// secrets (decoded, scanned string by string, rewritten).
pub(crate) fn secret_guard_cases(rel: &Path, tmp: &Path) -> Vec<Case> {
    let project = tmp.join("secrets");
    std::fs::create_dir_all(project.join(".claude")).unwrap();
    std::fs::write(
        project.join(".env"),
        "DB_PASSWORD=Zq8Vx2Lm9Pw4Rt7Y\nPORT=3000\n",
    )
    .unwrap();
    let bin = rel.join("secret-guard");
    let mut sources = String::new();
    let mut stack = vec![root().join("crates")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs")
                && !p.to_string_lossy().contains("test")
                // The scanner's own sources are a catalogue of secret forms, not ordinary code.
                && !p.to_string_lossy().contains("portcullis-secrets")
                && sources.len() < 1 << 20
            {
                let text = std::fs::read_to_string(&p).unwrap();
                // Test modules hold fake secrets on purpose.
                sources.push_str(text.split("#[cfg(test)]").next().unwrap_or_default());
            }
        }
    }
    let log: String = (0..12_000)
        .map(|i| match i {
            3_000 => "deploy: using AWS key AKIAZ2ZJ3Q4XK5MB6NCD\n".to_owned(),
            6_000 => "export GITHUB_TOKEN=ghp_aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5\n".to_owned(),
            9_000 => "db: connecting with Zq8Vx2Lm9Pw4Rt7Y\n".to_owned(),
            _ => format!("{i:05} INFO request served in 3 ms, status 200, path /api/v1/items\n"),
        })
        .collect();
    let bash_out = |stdout: &str| {
        captured(
            "PostToolUse-Bash",
            &project,
            &serde_json::json!({"tool_response": {"stdout": stdout, "stderr": "", "interrupted": false, "isImage": false, "noOutputExpected": false}}),
        )
    };
    let case = |name, stdin| Case::plain(name, &bin, &project, stdin);
    vec![
        case(
            "secret-guard / Read, not a secret file",
            captured(
                "PreToolUse-Read",
                &project,
                &serde_json::json!({"tool_input": {"file_path": project.join("src/lib.rs")}}),
            ),
        ),
        case(
            "secret-guard / Bash that reads no secret",
            captured(
                "PreToolUse-Bash",
                &project,
                &serde_json::json!({"tool_input": {"command": "cargo test --workspace 2>&1 | tail -20"}}),
            ),
        ),
        case(
            "secret-guard / Read .env: deny",
            captured(
                "PreToolUse-Read",
                &project,
                &serde_json::json!({"tool_input": {"file_path": project.join(".env")}}),
            ),
        ),
        case(
            "secret-guard / output, small, no secret",
            bash_out("test result: ok. 42 passed; 0 failed; 0 ignored\n"),
        ),
        case(
            "secret-guard / output, 1 MB of source code, no secret",
            bash_out(&sources),
        ),
        case(
            "secret-guard / output, 1 MB log, 3 secrets: redact",
            bash_out(&log),
        ),
    ]
}

/// context-filter: a small output (the common path, which ends before config is read), and 1 MB of a test
/// log (3 failures among 20,000 passing tests) filtered, saved and redacted: the issue's "filtering 1 MB
/// costs under 20 ms over the empty binary".
pub(crate) fn context_filter_cases(rel: &Path, tmp: &Path) -> Vec<Case> {
    let project = tmp.join("filter");
    std::fs::create_dir_all(project.join(".git")).unwrap();
    let bin = rel.join("context-filter");
    let mut log = String::from("running 20003 tests\n");
    let mut i = 0;
    while log.len() < 1 << 20 {
        let _ = writeln!(log, "test tests::module_{}::case_{i} ... ok", i % 97);
        if i % 7_000 == 3_500 {
            let _ = writeln!(
                log,
                "test tests::broken_{i} ... FAILED\nthread 'tests::broken_{i}' panicked at src/lib.rs:{i}:5:\nassertion failed"
            );
        }
        i += 1;
    }
    log.push_str("test result: FAILED. 20000 passed; 3 failed; 0 ignored\n");
    let bash_out = |command: &str, stdout: &str| {
        captured(
            "PostToolUse-Bash",
            &project,
            &serde_json::json!({"tool_input": {"command": command}, "tool_response": {"stdout": stdout, "stderr": "", "interrupted": false, "isImage": false, "noOutputExpected": false}}),
        )
    };
    let case = |name, stdin| Case::plain(name, &bin, &project, stdin);
    vec![
        case(
            "context-filter / output, small",
            bash_out(
                "cargo test",
                "test result: ok. 42 passed; 0 failed; 0 ignored\n",
            ),
        ),
        case(
            "context-filter / 1 MB test log: filter",
            bash_out("cargo test", &log),
        ),
    ]
}
