//! End-to-end: the real Claude Code CLI (pinned, cached outside the repo) against the stand-in model, with
//! portcullis installed by `portcullis install --project`. These prove what the client does with our
//! verdicts. See `portcullis_testkit::e2e` for fetching and skipping.

use std::time::Duration;

use portcullis_testkit::e2e::{Project, claude_or_skip};
use portcullis_testkit::standin::{Scenario, Step};
use serde_json::json;

const TIMEOUT: Duration = Duration::from_secs(90);
const AGENT: &str =
    "---\nname: backend-developer\ndescription: Writes Go backend code.\n---\nYou write Go.\n";

fn write_step(project: &Project, rel: &str) -> Step {
    Step::Tool {
        name: "Write".into(),
        input: json!({"file_path": project.dir.join(rel).display().to_string(), "content": "package api\n"}),
    }
}

fn transcript_text(project: &Project) -> String {
    project
        .transcript()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .unwrap_or_default()
}

#[test]
fn main_thread_write_to_a_domain_file_is_denied_in_the_real_client() {
    let Some(claude) = claude_or_skip() else {
        return;
    };
    let p = Project::new();
    p.write(".claude/agents/backend-developer.md", AGENT);
    p.install();
    let scenario = Scenario::new().on(
        "E2E-AF-DENY",
        vec![write_step(&p, "api/x.go"), Step::Text("gave up".into())],
    );
    let run = p.run(&claude, "E2E-AF-DENY: write api/x.go", scenario, TIMEOUT);
    assert_eq!(run.code, Some(0), "client failed: {}", run.stderr);
    assert!(
        !p.dir.join("api/x.go").exists(),
        "the denied Write created the file"
    );
    let transcript = transcript_text(&p);
    assert!(
        transcript.contains("\"is_error\":true"),
        "no error tool_result in the transcript"
    );
    assert!(
        transcript.contains("spawn it with the Agent tool")
            || transcript.contains("Spawn it with the Agent tool")
    );
    assert!(transcript.contains("backend-developer"));
    let log = p.decision_log();
    assert!(
        log.iter()
            .any(|e| e["hook"] == "agent-first" && e["verdict"] == "deny" && e["tool"] == "Write"),
        "{log:?}"
    );
    // The model saw the reason: its second request carries the tool_result.
    assert!(
        run.requests
            .iter()
            .any(|r| r.to_string().contains("belongs to the `backend` domain"))
    );
}

#[test]
fn the_same_write_from_the_developer_subagent_succeeds() {
    let Some(claude) = claude_or_skip() else {
        return;
    };
    let p = Project::new();
    p.write(".claude/agents/backend-developer.md", AGENT);
    p.install();
    let spawn = Step::Tool {
        name: "Agent".into(),
        input: json!({"description": "write the handler", "prompt": "E2E-AF-SUB: write api/x.go",
                      "subagent_type": "backend-developer", "run_in_background": false}),
    };
    let scenario = Scenario::new()
        .on("E2E-AF-MAIN", vec![spawn, Step::Text("delegated".into())])
        .on(
            "E2E-AF-SUB",
            vec![write_step(&p, "api/x.go"), Step::Text("written".into())],
        );
    let run = p.run(
        &claude,
        "E2E-AF-MAIN: get api/x.go written",
        scenario,
        TIMEOUT,
    );
    assert_eq!(run.code, Some(0), "client failed: {}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(p.dir.join("api/x.go")).unwrap(),
        "package api\n"
    );
    assert!(
        !p.decision_log().iter().any(|e| e["verdict"] == "deny"),
        "{:?}",
        p.decision_log()
    );
    // The subagent really ran: the stand-in saw its task prompt.
    assert!(
        run.requests
            .iter()
            .any(|r| r["messages"][0].to_string().contains("E2E-AF-SUB"))
    );
}

#[test]
fn without_a_developer_agent_the_main_thread_writes() {
    let Some(claude) = claude_or_skip() else {
        return;
    };
    let p = Project::new();
    p.install();
    let scenario = Scenario::new().on(
        "E2E-AF-NOAGENT",
        vec![write_step(&p, "api/x.go"), Step::Text("done".into())],
    );
    let run = p.run(&claude, "E2E-AF-NOAGENT: write api/x.go", scenario, TIMEOUT);
    assert_eq!(run.code, Some(0), "client failed: {}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(p.dir.join("api/x.go")).unwrap(),
        "package api\n"
    );
    assert!(p.decision_log().is_empty(), "{:?}", p.decision_log());
}
