//! handoff-router as the client runs it (issue 38): subagents stopping in parallel each get their route
//! kept and given once, and `portcullis handoffs` lists a session's handoffs from the decision log.

use std::path::Path;

use portcullis_testkit::decide::captured;
use serde_json::{Value, json};

use crate::support::{context_of, portcullis, run_hook};

const SESSION: &str = "0e0e0e0e-0000-4000-8000-000000000038";

fn project() -> (tempfile::TempDir, std::path::PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().canonicalize().unwrap();
    std::fs::create_dir_all(root.join(".git")).unwrap();
    std::fs::create_dir_all(root.join(".claude/agents")).unwrap();
    for name in ["backend-developer", "Frontend Dev"] {
        std::fs::write(
            root.join(format!(".claude/agents/{}.md", name.replace(' ', "-"))),
            format!("---\nname: {name}\ndescription: Use for {name} work.\n---\nbody\n"),
        )
        .unwrap();
    }
    (t, root)
}

fn stop(root: &Path, agent_type: &str, agent_id: &str, report: &str) -> Value {
    captured(
        "SubagentStop-subagent",
        root,
        SESSION,
        &json!({"agent_type": agent_type, "agent_id": agent_id, "last_assistant_message": report}),
    )
}

#[test]
fn parallel_stops_keep_every_route_and_each_is_given_once() {
    let (_t, root) = project();
    let ids: Vec<String> = (0..6).map(|i| format!("agent{i}")).collect();
    std::thread::scope(|s| {
        for id in &ids {
            let root = root.clone();
            s.spawn(move || {
                let report = format!("STATUS: BLOCKED — needs the {id} API token");
                let event = stop(&root, "backend-developer", id, &report);
                run_hook(
                    "handoff-router",
                    &root,
                    &serde_json::to_vec(&event).unwrap(),
                );
            });
        }
    });
    for id in &ids {
        let result = captured(
            "PostToolUse-Agent-completed",
            &root,
            SESSION,
            &json!({"tool_response": {"status": "completed", "agentId": id, "content": []}}),
        );
        let bytes = serde_json::to_vec(&result).unwrap();
        let first = context_of(&run_hook("handoff-router", &root, &bytes));
        assert!(
            first.contains(&format!("needs the {id} API token"))
                && first.contains("Route: the user"),
            "{id}: {first}"
        );
        assert_eq!(context_of(&run_hook("handoff-router", &root, &bytes)), "");
    }
}

#[test]
fn handoffs_lists_a_sessions_statuses_and_routes() {
    let (_t, root) = project();
    for (agent, id, report) in [
        ("backend-developer", "b1", "All wired.\nSTATUS: DONE"),
        (
            "Frontend Dev",
            "f1",
            "**Status:** NEEDS_CONTEXT — which locale is the default",
        ),
        ("backend-developer", "b2", "Changed the handler."),
    ] {
        let event = stop(&root, agent, id, report);
        run_hook(
            "handoff-router",
            &root,
            &serde_json::to_vec(&event).unwrap(),
        );
    }
    let out = portcullis(&root, &["handoffs", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["session"], SESSION);
    let rows: Vec<(String, String, String)> = v["handoffs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["agent_type"].as_str().unwrap().to_owned(),
                r["status"].as_str().unwrap().to_owned(),
                r["route"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("backend-developer".into(), "done".into(), String::new()),
            (
                "Frontend Dev".into(),
                "needs_context".into(),
                "retry".into()
            ),
            ("backend-developer".into(), "missing".into(), "note".into()),
        ]
    );
    let table = portcullis(&root, &["handoffs", "--session", &SESSION[..8]]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("NEEDS_CONTEXT") && text.contains("which locale is the default"),
        "{text}"
    );
    assert!(text.contains("sent back for a status"), "{text}");
    // The send-back is logged under handoff-router's own marker, and still as what held the agent, with
    // its transcript (what `portcullis anneal` counts and reads); the plain DONE held nothing.
    let log = std::fs::read_to_string(root.join(".claude/portcullis/log.jsonl")).unwrap();
    let entries: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let by = |verdict: &str| entries.iter().find(|e| e["verdict"] == verdict).unwrap();
    assert_eq!(by("handoff-missing")["held"], true, "{log}");
    assert!(by("handoff-missing")["transcript"].is_string(), "{log}");
    assert!(by("handoff").get("held").is_none(), "{log}");
    let none = portcullis(&root, &["handoffs", "--session", "ffff"]);
    assert!(none.status.success());
    assert!(String::from_utf8_lossy(&none.stdout).contains("no handoff recorded"));
}
