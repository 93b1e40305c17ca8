//! `decide` on captured events re-pointed at temp projects.

use super::*;
use portcullis_core::Decision;
use portcullis_testkit::decide::TestProject;
use serde_json::{Value, json};

fn run(p: &TestProject, event: &Event, config: &Value) -> Verdict {
    FeedbackLoop::decide(event, &p.ctx::<FeedbackLoop>().config(config).build()).unwrap()
}

fn project() -> TestProject {
    let p = TestProject::new();
    for a in ["backend-developer", "backend-reviewer", "backend-tester"] {
        p.agent(a);
    }
    p
}

/// The main thread's Write of `api/x.go` and the turn's Stop.
fn write_then_stop(p: &TestProject) -> (Event, Event) {
    let write = p.event(
        "PostToolUse-Write",
        &json!({"tool_input": {"file_path": p.path("api/x.go"), "content": "x"}}),
    );
    (write, p.event("Stop", &json!({"prompt_id": "p"})))
}

#[test]
fn an_edit_holds_the_turn_until_its_domain_is_verified() {
    let p = project();
    let (write, stop) = write_then_stop(&p);
    assert!(
        run(&p, &stop, &json!({})).is_silent(),
        "nothing modified yet"
    );
    assert!(run(&p, &write, &json!({})).is_silent());
    let v = run(&p, &stop, &json!({}));
    assert_eq!(v.decision, Decision::Block);
    assert!(v.reason_text().contains("backend"), "{}", v.reason_text());
}

/// Edits through Bash mark their domain like a Write, even when the command then fails.
#[test]
fn shell_edits_hold_the_turn_too() {
    for (event, command) in [
        ("PostToolUse-Bash", "sed -i 's/a/b/' api/x.go"),
        ("PostToolUse-Bash", "cd api && printf x > x.go"),
        ("PostToolUse-Bash", "cp /tmp/x.go api/"),
        (
            "PostToolUseFailure-Bash",
            "sed -Ei 's/a/b/' api/x.go && false",
        ),
    ] {
        let p = project();
        let (_, stop) = write_then_stop(&p);
        let bash = p.event(event, &json!({"tool_input": {"command": command}}));
        assert!(run(&p, &bash, &json!({})).is_silent(), "{command}");
        let v = run(&p, &stop, &json!({}));
        assert_eq!(v.decision, Decision::Block, "{command}");
    }
    let p = project();
    let (_, stop) = write_then_stop(&p);
    let read = p.event(
        "PostToolUse-Bash",
        &json!({"tool_input": {"command": "grep -r x api/ > /dev/null"}}),
    );
    assert!(run(&p, &read, &json!({})).is_silent());
    assert!(run(&p, &stop, &json!({})).is_silent(), "reading is no edit");
}

/// A test run whose exit status is not the tests' is judged by the runner's summary line, and with no
/// summary it is not recorded, and the agent is told; a test named only inside a string is no run.
#[test]
fn a_hidden_exit_status_is_read_from_the_runner_s_summary() {
    let bash = |p: &TestProject, command: &str, stdout: &str| {
        p.event(
            "PostToolUse-Bash",
            &json!({"tool_input": {"command": command}, "tool_response": {"stdout": stdout, "stderr": ""}}),
        )
    };
    let p = project();
    p.put("go.mod", "module x\n");
    let (write, _) = write_then_stop(&p);
    assert!(run(&p, &write, &json!({})).is_silent());
    let failed = bash(
        &p,
        "go test ./... 2>&1 | tail -20",
        "--- FAIL: TestX (0.00s)\nFAIL\texample.com/api\t0.01s",
    );
    let v = run(&p, &failed, &json!({}));
    assert!(v.context.join(" ").contains("The test run failed"), "{v:?}");
    let hidden = bash(&p, "go test ./... || true", "compiling...");
    let v = run(&p, &hidden, &json!({}));
    assert!(
        v.context
            .join(" ")
            .contains("was not recorded as a test run"),
        "{v:?}"
    );
    let quoted = bash(&p, "echo 'x; cargo test'", "x; cargo test");
    assert!(run(&p, &quoted, &json!({})).is_silent());
}

#[test]
fn ignored_paths_and_mode_off_track_nothing() {
    let p = project();
    let (write, stop) = write_then_stop(&p);
    let ignore = json!({"feedback_loop": {"ignore": ["api/**"]}});
    assert!(run(&p, &write, &ignore).is_silent());
    assert!(run(&p, &stop, &ignore).is_silent());
    let off = json!({"feedback_loop": {"mode": "off"}});
    assert!(run(&p, &write, &off).is_silent());
    assert!(run(&p, &stop, &off).is_silent());
}
