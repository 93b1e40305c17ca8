//! The stop cap: no portcullis hook keeps an agent from stopping forever.
//!
//! Claude Code ends a turn by force after 8 consecutive Stop blocks (PROTOCOL.md §6.4), with a notice that
//! says nothing of why. Every Stop/SubagentStop verdict of every hook therefore passes through [`apply`]
//! in the run loop, which counts how far into a chain of blocked stops this one is and, from
//! `stop.max_consecutive_blocks` (default 6, always below 8) on, turns a block into an allow that tells the
//! user what was left undone. A hook never needs its own counter for this.
//!
//! A chain is one agent's stops within one prompt (`prompt_id`). A stop continues the chain when Claude
//! Code says a hook blocked the previous one (`stop_hook_active`) or this hook did; the own flag covers a
//! known client bug where `stop_hook_active` stays false. Counting every stop of the chain, not only this
//! hook's blocks, means all portcullis hooks let go at the same point even when they take turns blocking.
//!
//! State: `sessions/<id>/stop-chains.json`, keyed by hook and agent. Nothing is written while a hook allows
//! outside a chain, so an ordinary allowed stop costs one failed file open.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::budget;
use crate::ctx::Ctx;
use crate::event::{Event, EventName};
use crate::state::StateFile;
use crate::verdict::{Decision, Verdict};

/// Where one hook is in one agent's chain of stops.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chain {
    /// The prompt the chain belongs to.
    pub prompt: Option<String>,
    /// How many blocked stops came before the latest one in this chain.
    pub position: u32,
    /// Whether this hook blocked the latest stop.
    pub last_blocked: bool,
}

/// Every chain of one session: `"<hook>/<agent>"` → [`Chain`].
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct StopChains {
    /// The chains.
    pub chains: BTreeMap<String, Chain>,
}

impl StateFile for StopChains {
    const NAME: &'static str = "stop-chains";
    const SCHEMA_VERSION: u32 = 1;
}

/// The next state of a chain, and whether this stop's block must be let go.
///
/// `position` counts the blocked stops before this one: with `max` = 6, positions 0 to 5 may block
/// (six blocks) and position 6 lets go, one stop before Claude Code's own cap would.
#[must_use]
pub fn step(
    prev: Option<&Chain>,
    prompt: Option<&str>,
    stop_hook_active: bool,
    wants_block: bool,
    max: u32,
) -> (Chain, bool) {
    let refire =
        prev.is_some_and(|p| p.prompt.as_deref() == prompt && (stop_hook_active || p.last_blocked));
    let position = match prev {
        Some(p) if refire => p.position.saturating_add(1),
        _ => 0,
    };
    let let_go = wants_block && position >= max;
    let chain = Chain {
        prompt: prompt.map(str::to_owned),
        position,
        last_blocked: wants_block && !let_go,
    };
    (chain, let_go)
}

/// Passes a Stop/SubagentStop verdict through the cap; every other event's verdict is returned as is.
///
/// When the state cannot be read or written the verdict stands (with a warning): Claude Code's own cap
/// still ends the chain, so failing here cannot trap an agent.
#[must_use]
pub fn apply(event: &Event, ctx: &Ctx, verdict: Verdict) -> Verdict {
    let name = event.name();
    if !matches!(name, EventName::Stop | EventName::SubagentStop) {
        return verdict;
    }
    let Ok(session) = event.session() else {
        return verdict;
    };
    let state = match ctx.state().session(session) {
        Ok(s) => s,
        Err(e) => {
            ctx.warn(&format!("stop cap: {e}"));
            return verdict;
        }
    };
    let max = ctx.config().map_or_else(
        |_| crate::config::StopConfig::default().max_consecutive_blocks,
        |c| c.stop.max_consecutive_blocks,
    );
    let key = format!("{}/{}", ctx.hook, event.agent_key());
    let wants_block = verdict.decision == Decision::Block;
    let active = event.stop_hook_active.unwrap_or(false);
    let prompt = event.prompt_id.as_deref();

    // The common case (an allow with no chain on record) needs no lock and no write.
    let prev = match state.load::<StopChains>() {
        Ok((chains, _)) => chains.chains.get(&key).cloned(),
        Err(e) => {
            ctx.warn(&format!("stop cap: {e}"));
            return verdict;
        }
    };
    if !wants_block && !active && prev.is_none() {
        return verdict;
    }
    let updated = state.update::<StopChains, _>(&ctx.deadline, |chains| {
        let prev = chains.chains.get(&key);
        let (chain, let_go) = step(prev, prompt, active, wants_block, max);
        // Inside a chain (this hook or another blocked the previous stop) the position is kept even while
        // this hook allows, so every hook counts the same chain.
        if chain.last_blocked || active {
            chains.chains.insert(key.clone(), chain.clone());
        } else {
            chains.chains.remove(&key);
        }
        (chain, let_go)
    });
    match updated {
        Ok((chain, true)) => let_go(event, ctx.hook, chain.position, &verdict),
        Ok(_) => verdict,
        Err(e) => {
            ctx.warn(&format!("stop cap: {e}"));
            verdict
        }
    }
}

/// The allow that replaces a block at the cap: the user is told what the hook still wanted.
fn let_go(event: &Event, hook: &str, blocks: u32, verdict: &Verdict) -> Verdict {
    let who = if event.is_subagent() {
        format!(
            "the subagent `{}`",
            event.agent_type.as_deref().unwrap_or("?")
        )
    } else {
        "the turn".to_owned()
    };
    Verdict::allow().with_user_message(format!(
        "[{hook}] let {who} end after {blocks} blocked stops in a row (Claude Code stops honouring blocks at {cap}). \
         Still open: {reason}",
        cap = budget::CLIENT_STOP_BLOCK_CAP,
        reason = verdict.reason_text()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One stop, keeping the record the way `apply` does.
    fn run(chain: &mut Option<Chain>, prompt: &str, active: bool, block: bool) -> bool {
        let (next, let_go) = step(chain.as_ref(), Some(prompt), active, block, 6);
        *chain = (next.last_blocked || active).then_some(next);
        let_go
    }

    #[test]
    fn six_blocks_then_let_go() {
        let mut c = None;
        for i in 0..6 {
            assert!(!run(&mut c, "p", i > 0, true), "block {i} is kept");
        }
        assert!(run(&mut c, "p", true, true), "the seventh stop is let go");
        assert!(
            !run(&mut c, "p", false, true),
            "the next stop of the prompt without the client flag starts a new chain"
        );
    }

    #[test]
    fn own_flag_continues_a_chain_when_the_client_flag_is_missing() {
        let mut c = None;
        for _ in 0..6 {
            assert!(!run(&mut c, "p", false, true));
        }
        assert!(run(&mut c, "p", false, true));
    }

    #[test]
    fn a_new_prompt_or_an_allow_starts_over() {
        let mut c = None;
        for _ in 0..5 {
            run(&mut c, "p", true, true);
        }
        assert!(!run(&mut c, "q", true, true), "new prompt: position 0");
        assert_eq!(c.as_ref().unwrap().position, 0);
        assert!(!run(&mut c, "q", false, false));
        assert_eq!(c, None, "an allow outside a chain keeps no record");
    }

    #[test]
    fn other_hooks_blocks_count_through_stop_hook_active() {
        // Another hook blocked the first stops while this one allowed; the client flag carries the chain, so
        // when this hook starts blocking it is already deep in the chain and lets go early.
        let mut c = None;
        assert!(!run(&mut c, "p", false, false));
        for _ in 0..6 {
            assert!(!run(&mut c, "p", true, false));
        }
        assert_eq!(c.as_ref().unwrap().position, 5);
        assert!(run(&mut c, "p", true, true), "position 6: let go at once");
    }
}
