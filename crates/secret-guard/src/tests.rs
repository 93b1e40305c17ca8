//! `decide` on captured events re-pointed at temp projects.

use super::*;
use portcullis_core::Decision;
use portcullis_testkit::decide::TestProject;
use serde_json::{Value, json};

fn run(p: &TestProject, event: &Event, config: &Value) -> Verdict {
    SecretGuard::decide(event, &p.ctx::<SecretGuard>().config(config).build()).unwrap()
}

fn bash(p: &TestProject, command: &str) -> Event {
    p.event(
        "PreToolUse-Bash",
        &json!({"tool_input": {"command": command}}),
    )
}

fn read(p: &TestProject, path: &str) -> Event {
    p.event(
        "PreToolUse-Read",
        &json!({"tool_input": {"file_path": path}}),
    )
}

fn denied(v: &Verdict) -> bool {
    v.decision == Decision::Block
}

#[test]
fn reads_of_secret_files_are_denied_with_the_way_to_use_them() {
    let p = TestProject::new();
    let v = run(&p, &read(&p, &p.path(".env")), &json!({}));
    assert!(denied(&v), "{v:?}");
    assert!(
        v.reason_text().contains("portcullis run-with-secrets"),
        "{}",
        v.reason_text()
    );
    for path in [
        ".env.production",
        "certs/tls.pem",
        "deploy/id_ed25519",
        "/home/u/.aws/credentials",
    ] {
        let target = if path.starts_with('/') {
            path.to_owned()
        } else {
            p.path(path)
        };
        assert!(denied(&run(&p, &read(&p, &target), &json!({}))), "{path}");
    }
    for path in [".env.example", "src/env.rs", "id_ed25519.pub", "README.md"] {
        assert!(
            run(&p, &read(&p, &p.path(path)), &json!({})).is_silent(),
            "{path}"
        );
    }
    let grep = p.event(
        "PreToolUse-Read",
        &json!({"tool_name": "Grep", "tool_input": {"pattern": "KEY", "path": p.path(".env.local")}}),
    );
    assert!(denied(&run(&p, &grep, &json!({}))));
    let grep_glob = p.event(
        "PreToolUse-Read",
        &json!({"tool_name": "Grep", "tool_input": {"pattern": "KEY", "glob": ".env*"}}),
    );
    assert!(denied(&run(&p, &grep_glob, &json!({}))));
}

#[test]
fn shell_reads_and_environment_dumps_are_denied() {
    let p = TestProject::new();
    for cmd in [
        "cat .env",
        "grep DB_ .env.local | head",
        "cd config && tail -n 5 prod.env",
        "sudo cat ~/.aws/credentials",
        "env",
        "env | grep -i key",
        "printenv",
        "printenv GITHUB_TOKEN",
        "set",
        "export -p",
        "echo $AWS_SECRET_ACCESS_KEY",
        "source .env && echo \"token: ${API_TOKEN}\"",
    ] {
        let v = run(&p, &bash(&p, cmd), &json!({}));
        assert!(denied(&v), "{cmd}: {v:?}");
    }
    for cmd in [
        "cat .env.example",
        "cargo test",
        "env RUST_LOG=debug cargo run",
        "printenv HOME",
        "echo $PWD",
        "source .env && npm test",
        "cp .env .env.bak",
        "docker compose --env-file .env up -d",
        "grep -r TODO src",
        "set -euo pipefail; make",
    ] {
        let v = run(&p, &bash(&p, cmd), &json!({}));
        assert!(v.is_silent(), "{cmd}: {v:?}");
    }
}

#[test]
fn config_adds_secret_files_allows_others_and_switches_off() {
    let p = TestProject::new();
    let extra = json!({"secret_guard": {"secret_files": ["deploy/*.vault"]}});
    assert!(denied(&run(
        &p,
        &read(&p, &p.path("deploy/prod.vault")),
        &extra
    )));
    assert!(run(&p, &read(&p, &p.path("deploy/prod.vault")), &json!({})).is_silent());
    let allow = json!({"secret_guard": {"allow_files": ["test/fixtures/**"]}});
    assert!(run(&p, &read(&p, &p.path("test/fixtures/.env")), &allow).is_silent());
    assert!(denied(&run(&p, &read(&p, &p.path(".env")), &allow)));
    let warn = json!({"secret_guard": {"mode": "warn"}});
    let v = run(&p, &read(&p, &p.path(".env")), &warn);
    assert_eq!(v.decision, Decision::Allow);
    assert!(v.context[0].contains("(warn mode)"));
    assert!(
        run(
            &p,
            &read(&p, &p.path(".env")),
            &json!({"secret_guard": {"mode": "off"}})
        )
        .is_silent()
    );
}

fn bash_output(p: &TestProject, stdout: &str) -> Event {
    p.event(
        "PostToolUse-Bash",
        &json!({"tool_response": {"stdout": stdout, "stderr": "", "interrupted": false, "isImage": false, "noOutputExpected": false}}),
    )
}

#[test]
fn secrets_in_output_are_replaced_and_the_shape_kept() {
    let p = TestProject::new();
    let out = "[default]\naws_access_key_id = AKIAZ2ZJ3Q4XK5MB6NCD\naws_secret_access_key = 9v8LxQ2mT4rZp7Ws1Kd3Hf6Jy0Bn5Cg8Xa2Ue4Ri\ngh: ghp_aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5\n";
    let v = run(&p, &bash_output(&p, out), &json!({}));
    let updated = v.updated_tool_output.clone().expect("rewritten");
    let stdout = updated["stdout"].as_str().unwrap();
    assert_eq!(
        stdout,
        "[default]\naws_access_key_id = [REDACTED aws-access-key-id]\naws_secret_access_key = [REDACTED aws-secret-key]\ngh: [REDACTED github-token]\n"
    );
    assert_eq!(updated["interrupted"], json!(false), "the shape is kept");
    assert_eq!(updated.as_object().unwrap().len(), 5);
    let mark = v.log_mark.unwrap();
    assert_eq!(mark.verdict, "redact");
    let logged = mark.detail.to_string();
    assert!(
        logged.contains("\"kind\":\"aws-secret-key\"") && logged.contains("\"field\":\"stdout\"")
    );
    assert!(
        !logged.contains("9v8LxQ2m") && !logged.contains("ghp_"),
        "never the value: {logged}"
    );
    assert!(v.context[0].contains("3 secret(s)"));
}

#[test]
fn values_of_the_projects_secret_files_are_replaced_wherever_they_show() {
    let p = TestProject::new();
    p.put(".env", "DB_PASSWORD=plain-Looking-pw-42\nPORT=3000\n");
    let read_out = p.event(
        "PostToolUse-Read",
        &json!({"tool_response": {"type": "text", "file": {"filePath": p.path("notes.txt"), "content": "db pw is plain-Looking-pw-42 ok\nport 3000\n", "numLines": 2, "startLine": 1, "totalLines": 2}}}),
    );
    let v = run(&p, &read_out, &json!({}));
    let updated = v.updated_tool_output.expect("rewritten");
    assert_eq!(
        updated["file"]["content"],
        "db pw is [REDACTED secret-file-value] ok\nport 3000\n"
    );
    assert_eq!(updated["file"]["numLines"], 2);
}

#[test]
fn ordinary_output_is_left_alone_and_modes_hold() {
    let p = TestProject::new();
    let code = "fn next_token(&mut self) -> Option<Token> {\n    let token = self.lexer.next()?;\n    Some(token)\n}\n";
    assert!(run(&p, &bash_output(&p, code), &json!({})).is_silent());
    let secret = "key AKIAZ2ZJ3Q4XK5MB6NCD";
    let warn = run(
        &p,
        &bash_output(&p, secret),
        &json!({"secret_guard": {"redact": "warn"}}),
    );
    assert!(warn.updated_tool_output.is_none() && warn.context[0].contains("(warn mode)"));
    assert!(
        run(
            &p,
            &bash_output(&p, secret),
            &json!({"secret_guard": {"redact": "off"}})
        )
        .is_silent()
    );
}

#[test]
fn a_failed_calls_secrets_are_named_not_repeated() {
    let p = TestProject::new();
    let e = p.event(
        "PostToolUseFailure-Bash",
        &json!({"error": "Exit code 1\nusing token ghp_aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5\nfailed"}),
    );
    let v = run(&p, &e, &json!({}));
    assert!(v.context[0].contains("github-token") && !v.context[0].contains("ghp_"));
    assert_eq!(v.log_mark.unwrap().verdict, "secret-seen");
}

/// Issue 35, item 14: a secret file read through standard input, or through a copy or a device.
#[test]
fn secret_files_through_stdin_copies_and_devices_are_denied() {
    let p = TestProject::new();
    for c in [
        "cat < ~/.netrc",
        "base64 < .env",
        "xxd -p < .env",
        "while read l; do echo \"$l\"; done < .env",
        "cp .env /dev/stdout",
        "cp .env copy.txt && cat copy.txt",
        "dd if=.env",
        "dd if=.env of=/tmp/x status=none; cat /tmp/x",
        "git diff --no-index /dev/null .env",
        "git show HEAD:.env",
        "cat /proc/self/environ",
    ] {
        let v = run(&p, &bash(&p, c), &json!({}));
        assert!(denied(&v), "{c}: {v:?}");
    }
    for c in [
        "cp .env.example .env",
        "wc -l < src/main.rs",
        "git diff src/main.rs",
    ] {
        assert!(run(&p, &bash(&p, c), &json!({})).is_silent(), "{c}");
    }
}

/// Issue 35, item 15: the file a path leads to is judged, and a Grep over the home folder is refused.
#[test]
fn a_link_to_a_secret_file_and_a_grep_of_home_are_denied() {
    let p = TestProject::new();
    let secret = p.root.join(".netrc");
    std::fs::write(&secret, "machine h login u password p4ss-w0rd\n").unwrap();
    std::os::unix::fs::symlink(&secret, p.root.join("notes.txt")).unwrap();
    assert!(denied(&run(
        &p,
        &read(&p, &p.path("notes.txt")),
        &json!({})
    )));
    assert!(denied(&run(&p, &bash(&p, "cat notes.txt"), &json!({}))));
    let home = p.root.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let grep = |path: &str| {
        p.event(
            "PreToolUse-Read",
            &json!({"tool_name": "Grep", "tool_input": {"pattern": "password", "path": path}}),
        )
    };
    let ctx = p
        .ctx::<SecretGuard>()
        .env("HOME", &home.display().to_string())
        .build();
    for path in [home.display().to_string(), "~".to_owned(), "/".to_owned()] {
        let v = SecretGuard::decide(&grep(&path), &ctx).unwrap();
        assert!(denied(&v), "Grep over {path}: {v:?}");
    }
    let v = SecretGuard::decide(&grep(&p.path("src")), &ctx).unwrap();
    assert!(v.is_silent(), "a project folder is searched: {v:?}");
}

/// Issue 35, items 16 and 18: a secret variable printed indirectly is refused; one that
/// `portcullis run-with-secrets` injects, and so scrubs, is not.
#[test]
fn indirect_prints_are_denied_and_the_wrappers_own_are_allowed() {
    let p = TestProject::new();
    for c in [
        "t=$GITHUB_TOKEN; echo $t",
        "n=GITHUB_TOKEN; echo ${!n}",
        "echo \"$(printenv GITHUB_TOKEN)\"",
        "python3 -c 'import os; print(os.environ[\"GITHUB_TOKEN\"])'",
        "node -e 'console.log(process.env.GITHUB_TOKEN)'",
        "awk 'BEGIN { print ENVIRON[\"AWS_SECRET_ACCESS_KEY\"] }'",
        "declare -p GITHUB_TOKEN",
        "echo $PGPASSWORD",
    ] {
        let v = run(&p, &bash(&p, c), &json!({}));
        assert!(denied(&v), "{c}: {v:?}");
    }
    for c in [
        "portcullis run-with-secrets --env T=file:.env#K -- sh -c 'echo $T; curl -H \"Authorization: $T\" x'",
        "portcullis run-with-secrets --env=GITHUB_TOKEN=env:GH -- sh -c 'echo $GITHUB_TOKEN'",
    ] {
        let v = run(&p, &bash(&p, c), &json!({}));
        assert!(v.is_silent(), "{c}: {v:?}");
    }
    // Printing a variable the wrapper does not give is still refused.
    let c = "portcullis run-with-secrets --env T=file:.env#K -- sh -c 'echo $GITHUB_TOKEN'";
    assert!(denied(&run(&p, &bash(&p, c), &json!({}))), "{c}");
}
