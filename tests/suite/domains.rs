//! The domain decision corpus (`fixtures/domains/corpus.toml`): every case through the real agent-first
//! (a main-thread Write: denied and sent to the expected developer agent, or allowed) and the real
//! feedback-loop (a subagent's Write: the expected domain on record, or nothing), in a project with
//! `frontend`, `backend`, `infra` and `tests` developer agents. Prints how many cases each domain has.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use portcullis_testkit::decide::{TestProject, captured};
use portcullis_testkit::workspace_bin;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
struct Corpus {
    case: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    path: String,
    #[serde(default)]
    files: BTreeMap<String, String>,
    domain: Option<String>,
    agent: Option<String>,
}

fn run(hook: &str, root: &Path, event: &Value) -> std::process::Output {
    crate::support::run_hook(hook, root, event.to_string().as_bytes())
}

/// What agent-first did with a main-thread Write of the case's path: the agent it named, or `None`.
fn routed_to(p: &TestProject, case: &Case) -> Option<(String, String)> {
    let event = captured(
        "PreToolUse-Write",
        &p.root,
        "corpus",
        &json!({"tool_input": {"file_path": p.path(&case.path), "content": "x\n"}}),
    );
    let out = run("agent-first", &p.root, &event);
    if out.stdout.is_empty() {
        return None;
    }
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let reason = v["hookSpecificOutput"]["permissionDecisionReason"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let agent = reason
        .split("\"subagent_type\": \"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_default()
        .to_owned();
    Some((agent, reason))
}

/// The domains feedback-loop has on record after a subagent's Write of the case's path.
fn tracked(p: &TestProject, case: &Case) -> Vec<String> {
    let event = captured(
        "PostToolUse-Write-subagent",
        &p.root,
        "corpus",
        &json!({"tool_input": {"file_path": p.path(&case.path), "content": "x\n"}}),
    );
    run("feedback-loop", &p.root, &event);
    let ledger = p
        .root
        .join(".claude/portcullis/sessions/corpus/feedback-loop.json");
    let Ok(text) = std::fs::read_to_string(ledger) else {
        return Vec::new();
    };
    let v: Value = serde_json::from_str(&text).unwrap();
    v["state"]["domains"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn every_case_of_the_corpus() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/domains/corpus.toml");
    let corpus: Corpus = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(corpus.case.len() >= 80);
    let mut failures = Vec::new();
    let mut per_domain: BTreeMap<String, usize> = BTreeMap::new();
    for case in &corpus.case {
        let p = TestProject::new();
        for agent in ["frontend", "backend", "infra", "tests"] {
            p.agent(&format!("{agent}-developer"));
        }
        for (file, text) in &case.files {
            p.put(file, text);
        }
        *per_domain
            .entry(case.domain.clone().unwrap_or_else(|| "(none)".into()))
            .or_default() += 1;
        match (routed_to(&p, case), &case.agent) {
            (None, None) => {}
            (Some((agent, reason)), Some(want)) => {
                let domain = case.domain.as_deref().unwrap_or("?");
                if &agent != want || !reason.contains(&format!("the `{domain}` domain")) {
                    failures.push(format!("{}: agent-first said: {reason}", case.path));
                }
            }
            (got, want) => failures.push(format!(
                "{}: agent-first routed to {:?}, expected {want:?}",
                case.path,
                got.map(|g| g.0)
            )),
        }
        // docs is skipped by feedback-loop's default `skip_domains`: prose needs no test run.
        let expected: Vec<String> = case
            .domain
            .iter()
            .filter(|d| *d != "docs")
            .cloned()
            .collect();
        let got = tracked(&p, case);
        if got != expected {
            failures.push(format!(
                "{}: feedback-loop tracked {got:?}, expected {expected:?}",
                case.path
            ));
        }
    }
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!(
            "domain corpus: {} cases {per_domain:?}\n",
            corpus.case.len()
        )
        .as_bytes(),
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn manager(project: &Path, args: &[&str]) -> std::process::Output {
    Command::new(workspace_bin("portcullis"))
        .args(args)
        .arg("--project")
        .arg(project)
        .current_dir(project)
        .env("HOME", project.join("no-home"))
        .env_remove("CLAUDE_CONFIG_DIR")
        .env_remove("PORTCULLIS_CONFIG")
        .env_remove("CLAUDE_PROJECT_DIR")
        .output()
        .unwrap()
}

#[test]
fn portcullis_domains_explains_paths_and_the_table() {
    let p = TestProject::new();
    for agent in [
        "backend-developer",
        "backend-reviewer",
        "frontend-developer",
    ] {
        p.agent(agent);
    }
    p.put(
        "packages/site/package.json",
        r#"{"dependencies": {"react": "18"}}"#,
    );
    p.put(
        ".claude/portcullis.json",
        r#"{"feedback_loop": {"ignore": [".claude/**", "gen/**"]}}"#,
    );
    let out = manager(
        &p.root,
        &[
            "domains",
            "packages/site/src/a.ts",
            "gen/x.go",
            "NOTES.txt",
            "src/x.elm",
            "--json",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let paths = v["paths"].as_array().unwrap();
    assert_eq!(paths[0]["domain"], "frontend");
    assert_eq!(paths[0]["kind"], "manifest");
    assert_eq!(
        paths[0]["rule"],
        "`packages/site/package.json` depends on `react`"
    );
    assert_eq!(paths[0]["agent"], "frontend-developer");
    assert!(
        paths[0]["agent_first"]
            .as_str()
            .unwrap()
            .contains("`frontend-developer`")
    );
    assert!(
        paths[0]["feedback_loop"]
            .as_str()
            .unwrap()
            .starts_with("tracks")
    );
    assert_eq!(paths[1]["domain"], "backend");
    assert_eq!(
        paths[1]["rule"],
        "**/*.{go,rs,py,pyi,java,kt,kts,scala,sc,groovy,rb,php,cs,fs,vb}"
    );
    assert!(
        paths[1]["feedback_loop"]
            .as_str()
            .unwrap()
            .contains("`feedback_loop.ignore`")
    );
    assert_eq!(paths[2]["domain"], Value::Null);
    assert!(
        paths[2]["agent_first"]
            .as_str()
            .unwrap()
            .contains("no domain")
    );
    assert_eq!(paths[3]["domain"], "code");
    assert_eq!(
        paths[3]["agent"], "backend-developer",
        "two developer agents, no `code-developer`: backend-developer takes unclaimed code"
    );
    // The whole table, in text.
    let out = manager(&p.root, &["domains"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("backend: developer backend-developer, reviewer backend-reviewer, tester -"),
        "{text}"
    );
    assert!(text.contains("code: developer -"), "{text}");
    assert!(
        text.contains("frontend or backend by the nearest package.json"),
        "{text}"
    );
}

#[test]
fn doctor_notes_domain_rules_that_can_never_win() {
    let p = TestProject::new();
    p.put(
        ".claude/portcullis.json",
        r#"{"domains": {"backend": ["api/**"], "docs": ["api/docs/**", "docs/**"]}}"#,
    );
    let out = manager(&p.root, &["doctor"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(
            "note  domains: `docs` glob `api/docs/**` is shadowed: `api/docs/x` goes to `backend`"
        ),
        "{text}"
    );
    // Two agents declaring the same files: the second never gets them.
    let q = TestProject::new();
    q.put(
        ".claude/agents/a-developer.md",
        "---\nname: a-developer\nowns: [\"lib/**\"]\n---\n",
    );
    q.put(
        ".claude/agents/b-developer.md",
        "---\nname: b-developer\nowns: [\"lib/b/**\"]\n---\n",
    );
    let text = String::from_utf8_lossy(&manager(&q.root, &["doctor"]).stdout).into_owned();
    assert!(text.contains("`b` glob `lib/b/**` is shadowed"), "{text}");
}

/// Issue 36, item 1: agents named as people name them are the reviewer and tester of every domain in
/// `portcullis domains`, as feedback-loop finds them; a pattern without `{domain}` is a valid config for
/// doctor and the hook alike, and one that is no agent name is refused by both.
#[test]
fn common_reviewer_and_tester_names_serve_every_domain() {
    let p = TestProject::new();
    for agent in ["backend-developer", "code-reviewer", "test-runner"] {
        p.agent(agent);
    }
    let out = manager(&p.root, &["domains", "--json"]);
    assert!(out.status.success(), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let backend = v["domains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["domain"] == "backend")
        .unwrap();
    assert_eq!(backend["reviewer"], "code-reviewer", "{backend}");
    assert_eq!(backend["tester"], "test-runner", "{backend}");

    p.put(
        ".claude/portcullis.json",
        r#"{"feedback_loop": {"reviewer_pattern": "code-reviewer"}}"#,
    );
    let doctor = manager(&p.root, &["doctor"]);
    let text = String::from_utf8_lossy(&doctor.stdout);
    assert!(
        !text.contains("reviewer_pattern"),
        "doctor accepts it: {text}"
    );
    p.put(
        ".claude/portcullis.json",
        r#"{"feedback_loop": {"reviewer_pattern": "code reviewer"}}"#,
    );
    let doctor = manager(&p.root, &["doctor"]);
    let text = String::from_utf8_lossy(&doctor.stdout);
    assert!(
        text.contains("reviewer_pattern"),
        "doctor names the bad key: {text}"
    );
}
