//! The hook's decisions on captured events, in process.

use portcullis_core::Decision;
use portcullis_testkit::decide::TestProject;
use serde_json::{Value, json};

use super::*;

fn stop(p: &TestProject, agent_type: &str, agent_id: &str, report: &str) -> Event {
    p.event(
        "SubagentStop-subagent",
        &json!({"agent_type": agent_type, "agent_id": agent_id, "last_assistant_message": report, "prompt_id": "prompt-1"}),
    )
}

fn result(p: &TestProject, agent_id: &str, text: &str) -> Event {
    p.event(
        "PostToolUse-Agent-completed",
        &json!({"tool_response": {"status": "completed", "agentId": agent_id, "agentType": "x", "content": [{"type": "text", "text": text}]}}),
    )
}

fn decide(p: &TestProject, event: &Event, config: &Value) -> Verdict {
    let ctx = p.ctx::<HandoffRouter>().config(config).build();
    HandoffRouter::decide(event, &ctx).unwrap()
}

fn project() -> TestProject {
    let p = TestProject::new();
    std::fs::create_dir_all(p.root.join(".git")).unwrap();
    for a in ["backend-developer", "frontend-developer", "code-reviewer"] {
        p.agent(a);
    }
    p
}

#[test]
fn a_blocked_agent_needing_a_password_is_routed_to_the_user_once() {
    let p = project();
    let report = "I wrote the migration in api/db/0042.sql.\n\nSTATUS: BLOCKED — needs the staging database password";
    let v = decide(&p, &stop(&p, "backend-developer", "a1", report), &json!({}));
    assert_eq!(v.decision, Decision::Allow);
    assert!(v.context.is_empty(), "nothing goes to the subagent");
    let r = decide(&p, &result(&p, "a1", report), &json!({}));
    let text = r.context.join("\n");
    assert!(text.contains("Route: the user"), "{text}");
    assert!(
        text.contains("needs the staging database password"),
        "{text}"
    );
    // Exactly once: the next prompt and stop carry nothing.
    let again = decide(&p, &result(&p, "a1", report), &json!({}));
    assert!(again.context.is_empty());
    let stop_main = p.event("Stop", &json!({}));
    assert_eq!(decide(&p, &stop_main, &json!({})).decision, Decision::Allow);
    let detail = v.log_mark.expect("a handoff is logged").detail;
    assert_eq!(
        (detail["status"].as_str(), detail["route"].as_str()),
        (Some("blocked"), Some("user"))
    );
    assert_eq!(detail["reason"], "needs the staging database password");
}

#[test]
fn a_report_without_a_status_is_sent_back_once_then_let_go_with_a_note() {
    let p = project();
    let first = decide(
        &p,
        &stop(&p, "backend-developer", "a2", "Changed the handler."),
        &json!({}),
    );
    assert_eq!(first.decision, Decision::Block);
    assert!(
        first.reason_text().contains("STATUS:"),
        "{}",
        first.reason_text()
    );
    let second = decide(
        &p,
        &stop(
            &p,
            "backend-developer",
            "a2",
            "Changed the handler, as I said.",
        ),
        &json!({}),
    );
    assert_eq!(second.decision, Decision::Allow);
    let r = decide(&p, &result(&p, "a2", "x"), &json!({}));
    assert!(
        r.context.join("").contains("ended without a status"),
        "{:?}",
        r.context
    );
}

#[test]
fn only_required_agent_types_are_asked_for_a_status() {
    let p = project();
    // Built-in types are not in .claude/agents/: not required by default.
    let v = decide(&p, &stop(&p, "general-purpose", "a3", "done"), &json!({}));
    assert_eq!(v.decision, Decision::Allow);
    assert!(v.log_mark.is_none());
    // Configured globs decide.
    let cfg = json!({"handoff": {"required": ["general-*"]}});
    let v = decide(&p, &stop(&p, "general-purpose", "a4", "done"), &cfg);
    assert_eq!(v.decision, Decision::Block);
    // warn: never sent back, the main thread is told.
    let cfg = json!({"handoff": {"mode": "warn"}});
    let v = decide(&p, &stop(&p, "backend-developer", "a5", "done"), &cfg);
    assert_eq!(v.decision, Decision::Allow);
    // off: nothing at all.
    let cfg = json!({"handoff": {"mode": "off"}});
    let v = decide(&p, &stop(&p, "backend-developer", "a6", "done"), &cfg);
    assert!(v.is_silent());
}

#[test]
fn a_failing_test_in_another_domain_goes_to_that_domains_developer() {
    let p = project();
    p.put("api/handlers_test.go", "package api\n");
    p.put("web/src/app.ts", "export {}\n");
    let cfg = json!({"domains": {"backend": ["api/**"], "frontend": ["web/**"]}});
    let report = "Updated the form.\nSTATUS: BLOCKED — tests fail in api/handlers_test.go after the API change";
    decide(&p, &stop(&p, "frontend-developer", "a7", report), &cfg);
    let text = decide(&p, &result(&p, "a7", report), &cfg).context.join("");
    assert!(text.contains("Route: `backend-developer`"), "{text}");
    assert!(
        text.contains("\"subagent_type\":\"backend-developer\""),
        "{text}"
    );
    assert!(
        text.contains("Updated the form."),
        "what it did goes along: {text}"
    );
    // The blocked agent's own domain is not a route: the next row (the user) is.
    let report = "STATUS: BLOCKED — tests fail in web/src/app.ts";
    decide(&p, &stop(&p, "frontend-developer", "a8", report), &cfg);
    let text = decide(&p, &result(&p, "a8", report), &cfg).context.join("");
    assert!(text.contains("Route: the user"), "{text}");
}

#[test]
fn the_same_route_twice_in_one_request_goes_to_the_user() {
    let p = project();
    let report = "STATUS: NEEDS_CONTEXT — which tenant table holds invoices";
    decide(&p, &stop(&p, "backend-developer", "b1", report), &json!({}));
    let first = decide(&p, &result(&p, "b1", report), &json!({}))
        .context
        .join("");
    assert!(
        first.contains("Route: back to `backend-developer`"),
        "{first}"
    );
    for id in ["b2", "b3"] {
        decide(&p, &stop(&p, "backend-developer", id, report), &json!({}));
        let again = decide(&p, &result(&p, id, report), &json!({}))
            .context
            .join("");
        assert!(again.contains("Route: the user"), "{again}");
        assert!(again.contains("blocked again"), "{again}");
    }
}

#[test]
fn a_background_agents_route_comes_at_the_next_stop_and_holds_it() {
    let p = project();
    let report = "STATUS: BLOCKED: the design conflicts with the events schema";
    p.agent("solution-architect");
    decide(&p, &stop(&p, "backend-developer", "c1", report), &json!({}));
    let stop_main = p.event("Stop", &json!({}));
    let v = decide(&p, &stop_main, &json!({}));
    assert_eq!(v.decision, Decision::Block);
    assert!(
        v.reason_text().contains("Route: `solution-architect`"),
        "{}",
        v.reason_text()
    );
    // Given once.
    assert_eq!(decide(&p, &stop_main, &json!({})).decision, Decision::Allow);
    // A note (concerns) is context at a prompt, never a held stop.
    decide(
        &p,
        &stop(
            &p,
            "backend-developer",
            "c2",
            "STATUS: DONE_WITH_CONCERNS — slow query on orders",
        ),
        &json!({}),
    );
    let v = decide(&p, &stop_main, &json!({}));
    assert_eq!(v.decision, Decision::Allow);
    assert!(v.context.join("").contains("slow query on orders"));
}

#[test]
fn a_custom_table_routes_by_agent_type_and_reason() {
    let p = project();
    let cfg = json!({"handoff": {"routes": [
        {"status": ["blocked"], "agents": ["backend-*"], "reason": "migration", "to": "agent:db-admin"},
        {"to": "note"}
    ]}});
    let report = "STATUS: BLOCKED — the migration locks the orders table";
    decide(&p, &stop(&p, "backend-developer", "d1", report), &cfg);
    let text = decide(&p, &result(&p, "d1", report), &cfg).context.join("");
    assert!(text.contains("Route: `db-admin`"), "{text}");
    decide(&p, &stop(&p, "frontend-developer", "d2", report), &cfg);
    let text = decide(&p, &result(&p, "d2", report), &cfg).context.join("");
    assert!(text.contains("Weigh this"), "{text}");
}

#[test]
fn done_is_recorded_and_says_nothing() {
    let p = project();
    let v = decide(
        &p,
        &stop(&p, "backend-developer", "e1", "All good.\nSTATUS: DONE"),
        &json!({}),
    );
    assert!(v.context.is_empty() && v.decision == Decision::Allow);
    assert!(
        decide(&p, &result(&p, "e1", "x"), &json!({}))
            .context
            .is_empty()
    );
    let detail = v.log_mark.expect("a handoff is logged").detail;
    assert_eq!(
        (detail["status"].as_str(), detail["route"].as_str()),
        (Some("done"), Some(""))
    );
    // No state was written for it.
    assert!(
        !p.root
            .join(".claude/portcullis/sessions/test-session/handoffs.json")
            .exists()
    );
}

#[test]
fn a_required_agent_is_told_at_its_start_how_to_end() {
    let p = project();
    let start = |agent_type: &str| {
        p.event(
            "SubagentStart-subagent",
            &json!({"agent_type": agent_type, "agent_id": "s1"}),
        )
    };
    let v = decide(&p, &start("backend-developer"), &json!({}));
    assert_eq!(v.context, [HOW_TO_END]);
    assert!(
        decide(&p, &start("general-purpose"), &json!({}))
            .context
            .is_empty()
    );
}

#[test]
fn a_reviewers_verdict_is_a_finished_report_not_a_missing_status() {
    let p = project();
    for (id, report) in [
        ("r1", "Looks right.\nVERDICT: PASS"),
        ("r2", "Two bugs.\nVERDICT: FAIL"),
        (
            "r3",
            "```json\n{\"status\": \"FAIL\", \"failed\": [\"TestX\"]}\n```",
        ),
    ] {
        let v = decide(&p, &stop(&p, "code-reviewer", id, report), &json!({}));
        assert_eq!(v.decision, Decision::Allow, "{report}");
        let detail = v.log_mark.expect("logged").detail;
        assert_eq!(detail["status"], "done", "{report}");
    }
}

#[test]
fn an_advisor_route_gives_the_advisors_hint_and_falls_back_to_the_user() {
    let p = project();
    let asked = p.root.join("asked.txt");
    let cfg = |command: Value| {
        json!({
            "handoff": {"routes": [{"status": ["blocked"], "to": "advisor"}]},
            "escalation_advisor": {"command": command, "timeout_secs": 5},
        })
    };
    let advisor = cfg(json!([
        "sh",
        "-c",
        format!(
            "cat > '{}'; echo 'Ask the DBA for a read replica.'",
            asked.display()
        )
    ]));
    let report = "Tried the migration with token ghp_R8v2kLq9ZxWm4Tn7Yp3Hs6Jd1Fg5Ac0Eb2Ku.\nSTATUS: BLOCKED — the orders table is locked";
    decide(&p, &stop(&p, "backend-developer", "v1", report), &advisor);
    let text = decide(&p, &result(&p, "v1", report), &advisor)
        .context
        .join("");
    assert!(text.contains("Route: the advisor"), "{text}");
    assert!(text.contains("Ask the DBA for a read replica."), "{text}");
    let sent = std::fs::read_to_string(&asked).unwrap();
    assert!(sent.contains("the orders table is locked"), "{sent}");
    assert!(
        !sent.contains("ghp_R8v2kLq9ZxWm4Tn7Yp3Hs6Jd1Fg5Ac0Eb2Ku"),
        "the advisor is sent no secret: {sent}"
    );
    // An advisor that fails: the user, not silence.
    let failing = cfg(json!(["false"]));
    decide(&p, &stop(&p, "frontend-developer", "v2", report), &failing);
    let text = decide(&p, &result(&p, "v2", report), &failing)
        .context
        .join("");
    assert!(text.contains("Route: the user"), "{text}");
}
