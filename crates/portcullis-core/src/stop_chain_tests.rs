//! The stop chain's tests.

use super::*;

/// Runs one stop through the chain for `hooks` (each with its wish), keeping the record as `apply`
/// does; returns which hooks were let go.
fn stop(chain: &mut Option<AgentChain>, active: bool, hooks: &[(&str, bool)]) -> Vec<bool> {
    hooks
        .iter()
        .map(|(hook, block)| {
            let (next, _, let_go) = step(chain.as_ref(), Some("p"), hook, active, *block, 6);
            *chain = Some(next);
            let_go
        })
        .collect()
}

fn tool_call(chain: &mut Option<AgentChain>) {
    if let Some(c) = chain.as_mut() {
        c.base = 0;
        c.seen.clear();
        c.opened_unflagged = false;
    }
}

#[test]
fn six_blocks_without_a_tool_call_then_let_go() {
    let mut c = None;
    for i in 0..6 {
        assert_eq!(
            stop(&mut c, i > 0, &[("a", true)]),
            [false],
            "block {i} is kept"
        );
    }
    assert_eq!(
        stop(&mut c, true, &[("a", true)]),
        [true],
        "the seventh stop is let go"
    );
}

#[test]
fn a_tool_call_between_stops_starts_the_count_again() {
    let mut c = None;
    for round in 0..100 {
        assert_eq!(
            stop(&mut c, round > 0, &[("a", true)]),
            [false],
            "round {round}"
        );
        tool_call(&mut c);
    }
}

#[test]
fn the_client_flag_is_not_needed() {
    let mut c = None;
    for _ in 0..6 {
        assert_eq!(stop(&mut c, false, &[("a", true)]), [false]);
    }
    assert_eq!(stop(&mut c, false, &[("a", true)]), [true]);
}

#[test]
fn hooks_taking_turns_count_one_chain() {
    // a blocks even stops, b odd ones; each alone would be at 3 when the chain is at 6.
    let mut c = None;
    for i in 0..6 {
        let wishes = [("a", i % 2 == 0), ("b", i % 2 == 1)];
        assert_eq!(stop(&mut c, i > 0, &wishes), [false, false], "stop {i}");
    }
    assert_eq!(
        stop(&mut c, true, &[("a", true), ("b", false)]),
        [true, false]
    );
}

#[test]
fn the_order_hooks_decide_a_stop_in_does_not_matter() {
    let mut c = None;
    for i in 0..6 {
        let order: &[(&str, bool)] = if i % 2 == 0 {
            &[("a", true), ("b", true)]
        } else {
            &[("b", true), ("a", true)]
        };
        assert_eq!(stop(&mut c, i > 0, order), [false, false], "stop {i}");
    }
    assert_eq!(
        stop(&mut c, true, &[("b", true), ("a", true)]),
        [true, true]
    );
}

#[test]
fn a_hook_that_missed_the_opening_stop_is_credited_with_it() {
    // `late` allowed the first stop before any chain existed, so it recorded nothing there; at every
    // later stop it decides first, before `a`.
    let mut c = None;
    stop(&mut c, false, &[("a", true)]);
    for i in 1..6 {
        let (next, earlier, _) = step(c.as_ref(), Some("p"), "late", true, false, 6);
        assert_eq!(earlier, i, "stop {i}: the same count as `a` will see");
        c = Some(next);
        stop(&mut c, true, &[("a", true)]);
    }
    let (next, earlier, let_go) = step(c.as_ref(), Some("p"), "late", true, true, 6);
    assert_eq!((earlier, let_go), (6, true));
    c = Some(next);
    let (_, earlier, let_go) = step(c.as_ref(), Some("p"), "a", true, true, 6);
    assert_eq!((earlier, let_go), (6, true), "both let go at the same stop");
}

#[test]
fn a_sibling_after_the_opener_at_the_opening_stop_is_not_credited() {
    let mut c = None;
    stop(&mut c, false, &[("a", true)]);
    let (_, earlier, _) = step(c.as_ref(), Some("p"), "b", false, true, 6);
    assert_eq!(earlier, 0);
}

#[test]
fn a_foreign_block_before_the_record_counts_once() {
    let mut c = None;
    // Another hook blocked the first stop; portcullis first records the second (flag set).
    let (next, earlier, _) = step(c.as_ref(), Some("p"), "a", true, false, 6);
    c = Some(next);
    assert_eq!(earlier, 1);
    let (_, earlier, _) = step(c.as_ref(), Some("p"), "a", true, true, 6);
    assert_eq!(earlier, 2);
}

#[test]
fn context_on_a_stop_no_gate_holds_goes_to_the_user() {
    let t = tempfile::tempdir().unwrap();
    let ctx = Ctx::for_test("noter", t.path(), crate::Config::default());
    let e =
        r#"{"session_id":"s","prompt_id":"p","hook_event_name":"Stop","stop_hook_active":false}"#;
    let note = Verdict::allow().with_context("you look stuck");
    let v = apply(&Event::parse(e.as_bytes()).unwrap(), &ctx, note);
    assert!(v.context.is_empty(), "{v:?}");
    assert_eq!(v.user_messages, ["you look stuck"]);
}

#[test]
fn context_while_a_foreign_hook_holds_counts_as_a_block_and_goes_to_the_user_at_the_cap() {
    let t = tempfile::tempdir().unwrap();
    let ctx = Ctx::for_test("noter", t.path(), crate::Config::default());
    let stop = || {
        let e = r#"{"session_id":"s","prompt_id":"p","hook_event_name":"Stop","stop_hook_active":true}"#;
        let note = Verdict::allow().with_context("you look stuck");
        apply(&Event::parse(e.as_bytes()).unwrap(), &ctx, note)
    };
    // The first flagged stop opens the chain for the hook outside portcullis that blocked before (that
    // stop and this one count); four more are held, and the sixth earlier stop lets the agent go.
    let _ = stop();
    for i in 0..4 {
        assert_eq!(stop().context, ["you look stuck"], "stop {i}");
    }
    let v = stop();
    assert!(v.context.is_empty(), "{v:?}");
    assert!(
        v.user_messages[0].contains("Still open: you look stuck"),
        "{v:?}"
    );
}

#[test]
fn each_agent_has_its_own_chain_and_only_its_own_tool_calls_reset_it() {
    let t = tempfile::tempdir().unwrap();
    let ctx = Ctx::for_test("blocker", t.path(), crate::Config::default());
    let agent = |id: &str| {
        if id == "main" {
            String::new()
        } else {
            format!(r#""agent_id":"{id}","agent_type":"backend-developer","#)
        }
    };
    let stop = |id: &str, active: bool| {
        let name = if id == "main" { "Stop" } else { "SubagentStop" };
        let e = format!(
            r#"{{"session_id":"s","prompt_id":"p",{}"hook_event_name":"{name}","stop_hook_active":{active}}}"#,
            agent(id)
        );
        let v = apply(
            &Event::parse(e.as_bytes()).unwrap(),
            &ctx,
            Verdict::block("not yet"),
        );
        v.decision == Decision::Block
    };
    let tool = |id: &str| {
        let e = format!(
            r#"{{"session_id":"s","prompt_id":"p",{}"hook_event_name":"PostToolUse","tool_name":"Bash"}}"#,
            agent(id)
        );
        progress(&Event::parse(e.as_bytes()).unwrap(), &ctx);
    };
    for i in 0..6 {
        assert!(stop("main", i > 0) && stop("sub-1", i > 0), "stop {i}");
        tool("sub-2");
    }
    // A background subagent's tool calls reset neither chain.
    assert!(!stop("main", true) && !stop("sub-1", true));
    // The subagent's own tool call resets its chain only.
    tool("sub-1");
    assert!(stop("sub-1", true));
    assert!(!stop("main", true));
}

#[test]
fn a_new_prompt_starts_over() {
    let mut c = None;
    for _ in 0..5 {
        stop(&mut c, true, &[("a", true)]);
    }
    let (_, earlier, _) = step(c.as_ref(), Some("q"), "a", false, true, 6);
    assert_eq!(earlier, 0);
}

#[test]
fn copilot_s_count_of_held_turn_ends_survives_tool_calls() {
    let mut chain: Option<AgentChain> = None;
    for stop in 0..9_u32 {
        let (mut next, _, let_go) =
            step(chain.as_ref(), None, "iteration-limit", stop > 0, true, 6);
        assert!(
            !let_go,
            "a tool call came before every stop: the no-progress bound never bites"
        );
        next.count_in_prompt("iteration-limit");
        assert_eq!(next.earlier_in_prompt(), stop);
        // A tool call between the stops clears the no-progress count only.
        next.base = 0;
        next.seen.clear();
        chain = Some(next);
    }
    assert_eq!(prompt_cap(crate::Client::Copilot), Some(7));
    assert_eq!(prompt_cap(crate::Client::Gemini), None);
}
