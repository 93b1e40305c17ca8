//! The manifest, the store and `decide` on captured events re-pointed at temp projects.

use super::*;
use manifest::{Manifest, PhaseStatus, WorkType};
use portcullis_core::Deadline;
use portcullis_testkit::decide::TestProject;
use std::time::Duration;

const NOW: &str = "2026-12-01T10:00:00Z";

fn deadline() -> Deadline {
    Deadline::after(Duration::from_secs(5))
}

#[test]
fn a_bugfix_skips_its_phases_and_moves_through_the_rest() {
    let mut m = Manifest::new("fix-login-20261201", "Fix login", WorkType::Bugfix, NOW);
    let skipped: Vec<u8> = m
        .phases
        .iter()
        .filter(|p| p.status == PhaseStatus::Skipped)
        .map(|p| p.number)
        .collect();
    assert_eq!(skipped, [5, 6, 7, 9, 12]);
    assert_eq!(m.current().unwrap().name, "Setup");
    assert_eq!(m.find_phase("implementation"), Ok(8));
    assert_eq!(m.find_phase("8"), Ok(8));
    assert_eq!(m.find_phase("Code Q"), Ok(11));
    assert!(
        m.find_phase("test")
            .unwrap_err()
            .contains("Test Planning or Testing")
    );
    assert!(m.find_phase("17").is_err());
    m.move_to(8, NOW);
    let status = |n: u8| m.phases[usize::from(n) - 1].status;
    assert_eq!(status(4), PhaseStatus::Done);
    assert_eq!(status(5), PhaseStatus::Skipped);
    assert_eq!(status(8), PhaseStatus::Active);
    assert_eq!(status(10), PhaseStatus::Pending);
    assert_eq!(m.next().unwrap().number, 10, "9 is skipped");
    m.finish(NOW);
    assert!(
        m.phases
            .iter()
            .all(|p| matches!(p.status, PhaseStatus::Done | PhaseStatus::Skipped))
    );
    assert_eq!(WorkType::Small.skipped(), [5, 6, 7, 9]);
    assert!(WorkType::Large.skipped().is_empty());
}

#[test]
fn the_manifest_round_trips_with_hand_added_keys() {
    let p = TestProject::new();
    let store = Store::new(&p.root);
    let m = store.start("Login form!", WorkType::Medium, NOW).unwrap();
    assert_eq!(m.id, "login-form-20261201");
    let again = store.start("Login form", WorkType::Medium, NOW).unwrap();
    assert_eq!(again.id, "login-form-20261201-2");
    let path = store.manifest_path(&m.id);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{text}owner: dana\n")).unwrap();
    store
        .update(&m.id, &deadline(), |m| {
            m.note("schema agreed", NOW);
            Ok(())
        })
        .unwrap();
    let back = store.read(&m.id).unwrap();
    assert_eq!(back.extra.get("owner"), Some(&serde_json::json!("dana")));
    assert_eq!(back.log.len(), 1);
}

#[test]
fn a_manifest_that_does_not_parse_is_reported_and_never_overwritten() {
    let p = TestProject::new();
    let store = Store::new(&p.root);
    let m = store.start("Broken", WorkType::Small, NOW).unwrap();
    let path = store.manifest_path(&m.id);
    std::fs::write(&path, "id: x\ntitle: [unclosed\n").unwrap();
    let err = store
        .update(&m.id, &deadline(), |m| {
            m.note("lost?", NOW);
            Ok(())
        })
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Unreadable(_, l, _) if l >= 2),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "id: x\ntitle: [unclosed\n"
    );
}

#[test]
fn session_start_tells_the_active_features_and_not_the_finished() {
    let p = TestProject::new();
    let event = p.event("SessionStart-startup", &serde_json::json!({}));
    let ctx = || p.ctx::<FeatureProgress>().build();
    assert!(FeatureProgress::decide(&event, &ctx()).unwrap().is_silent());
    let store = Store::new(&p.root);
    let a = store.start("Login form", WorkType::Medium, NOW).unwrap();
    let b = store.start("Fix crash", WorkType::Bugfix, NOW).unwrap();
    store
        .update(&a.id, &deadline(), |m| {
            m.move_to(8, NOW);
            m.note("API done, UI next", NOW);
            Ok(())
        })
        .unwrap();
    store
        .update(&b.id, &deadline(), |m| {
            m.finish(NOW);
            Ok(())
        })
        .unwrap();
    let v = FeatureProgress::decide(&event, &ctx()).unwrap();
    let text = v.context.join("\n");
    assert!(
        text.contains("Login form (`login-form-20261201`, medium): phase 8 Implementation"),
        "{text}"
    );
    assert!(text.contains("next: 9 Design Verification"), "{text}");
    assert!(text.contains("last note: API done, UI next"), "{text}");
    assert!(!text.contains("Fix crash"), "{text}");
    std::fs::write(store.manifest_path(&a.id), "phases: {").unwrap();
    let v = FeatureProgress::decide(&event, &ctx()).unwrap();
    assert!(
        v.context
            .join("")
            .contains("MANIFEST.yaml:1` does not parse"),
        "{v:?}"
    );
}

#[test]
fn stops_record_the_agents_the_last_feedback_verdict_and_the_context() {
    let p = TestProject::new();
    let store = Store::new(&p.root);
    let f = store.start("Login form", WorkType::Medium, NOW).unwrap();
    let sub = p.event(
        "SubagentStop-subagent",
        &serde_json::json!({"agent_type": "backend-developer", "agent_id": "a1", "last_assistant_message": "\nImplemented the handler.\nDetails..."}),
    );
    let v = FeatureProgress::decide(&sub, &p.ctx::<FeatureProgress>().build()).unwrap();
    assert!(v.is_silent(), "never a block: {v:?}");
    // feedback-loop's last verdict in the decision log, and a transcript at 45% of 200K.
    let log = p.root.join(".claude/portcullis/log.jsonl");
    std::fs::create_dir_all(log.parent().unwrap()).unwrap();
    let entry = serde_json::json!({"time": "2026-12-01T10:05:00Z", "session": "test-session", "agent": "main", "hook": "feedback-loop", "event": "Stop", "verdict": "block", "reason": "[feedback-loop] backend: not reviewed\nmore", "micros": 1});
    std::fs::write(&log, format!("{entry}\n")).unwrap();
    let transcript = p.root.join("t.jsonl");
    std::fs::write(&transcript, r#"{"type":"assistant","isSidechain":false,"message":{"id":"m1","model":"claude-sonnet-4-5","content":[{"type":"text","text":"ok"}],"usage":{"input_tokens":90000,"cache_read_input_tokens":0,"cache_creation_input_tokens":0,"output_tokens":0}}}"#.to_owned() + "\n").unwrap();
    let stop = p.event(
        "Stop",
        &serde_json::json!({"transcript_path": transcript.display().to_string()}),
    );
    assert!(
        FeatureProgress::decide(&stop, &p.ctx::<FeatureProgress>().build())
            .unwrap()
            .is_silent()
    );
    let m = store.read(&f.id).unwrap();
    assert_eq!(m.agents.len(), 1);
    assert_eq!(m.agents[0].agent_type, "backend-developer");
    assert_eq!(m.agents[0].outcome, "Implemented the handler.");
    let fl = m.feedback_loop.as_ref().unwrap();
    assert_eq!(
        (fl.verdict.as_str(), fl.reason.as_str()),
        ("block", "[feedback-loop] backend: not reviewed")
    );
    assert_eq!(m.context.as_ref().unwrap().used_tokens, 90_000);
    let summary = m.summary();
    assert!(
        summary.contains("last agent: backend-developer (Implemented the handler.)"),
        "{summary}"
    );
    assert!(
        summary.contains("feedback-loop: block") && summary.contains("context at last stop: 45%"),
        "{summary}"
    );
    // With two active features nothing says which the work belongs to: nothing is recorded.
    store.start("Other", WorkType::Small, NOW).unwrap();
    FeatureProgress::decide(&sub, &p.ctx::<FeatureProgress>().build()).unwrap();
    assert_eq!(store.read(&f.id).unwrap().agents.len(), 1);
}

#[test]
fn a_codex_stop_records_the_context_its_rollout_gives() {
    let p = TestProject::new();
    let store = Store::new(&p.root);
    let f = store.start("Login form", WorkType::Medium, NOW).unwrap();
    // A Codex rollout: the window from `task_started`, the use from the last usage record (PROTOCOL-CODEX.md §7).
    let rollout = p.root.join("rollout-2026-12-01T10-00-00-x.jsonl");
    let lines = [
        serde_json::json!({"timestamp": "t", "type": "event_msg", "payload": {"type": "task_started", "model_context_window": 258_400}}),
        serde_json::json!({"timestamp": "t", "type": "token_usage_record", "payload": {"turn_id": "t1", "usage": {"input_tokens": 129_000, "cached_input_tokens": 0, "output_tokens": 200, "total_tokens": 129_200}}}),
    ];
    let text = lines.map(|l| l.to_string()).join("\n");
    std::fs::write(&rollout, text + "\n").unwrap();
    let stop = p.event(
        "Stop",
        &serde_json::json!({"turn_id": "t1", "transcript_path": rollout.display().to_string()}),
    );
    assert_eq!(stop.client, portcullis_core::Client::Codex);
    FeatureProgress::decide(&stop, &p.ctx::<FeatureProgress>().build()).unwrap();
    let figure = store.read(&f.id).unwrap().context.unwrap();
    assert_eq!(
        (figure.used_tokens, figure.window_tokens),
        (129_200, 258_400)
    );
}

#[test]
fn agent_runs_are_capped_at_the_newest() {
    let mut m = Manifest::new("x", "X", WorkType::Small, NOW);
    for i in 0..(manifest::MAX_AGENT_RUNS + 5) {
        m.record_agent(manifest::AgentRun {
            at: NOW.into(),
            agent_type: "t".into(),
            id: format!("a{i}"),
            outcome: String::new(),
        });
    }
    assert_eq!(m.agents.len(), manifest::MAX_AGENT_RUNS);
    assert_eq!(m.agents[0].id, "a5");
}
