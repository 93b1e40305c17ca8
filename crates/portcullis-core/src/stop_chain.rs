//! The stop chain: no portcullis hook keeps an agent from stopping while it makes no progress, and none
//! cuts short a loop that does.
//!
//! Claude Code (2.1.329, PROTOCOL.md §1 item 7) force-ends a turn after 8 blocked stops in a row, but its
//! count restarts whenever the model makes a tool call between two stops, and `stop_hook_active` stays true
//! for the rest of a prompt once any Stop hook blocked. So a chain is counted here the way the client counts
//! it: per agent (the main thread or one subagent) and per prompt, the stops **since the agent's last tool
//! call**. A stop of the same agent in the same prompt with no tool call since the previous one means the
//! previous stop was blocked (by a portcullis hook, or by any other hook, `/goal` included), or the agent
//! would have ended.
//!
//! A Stop verdict that adds context (`additionalContext`, e.g. a note that the agent looks stuck) keeps the agent
//! going just as a block does (measured in the real client), so it counts as one and is let go the same way:
//! at the cap its text goes to the user instead. And it is given to the agent only when the stop is held
//! anyway: another portcullis hook blocks the same stop (each block leaves a marker with its start time,
//! looked for up to 250 ms, as the hooks run in parallel), or a hook outside portcullis holds the prompt
//! (the chain was opened at a re-fired stop with no portcullis record). At a stop every gate lets end, the
//! context goes to the user: advice never continues a turn the rules let end.
//!
//! Every Stop/SubagentStop verdict of every hook passes through [`apply`] in the run loop. From the
//! `max`-th earlier stop on ([`max_blocks`]: `stop.max_consecutive_blocks`, default 6, and below
//! `CLAUDE_CODE_STOP_HOOK_BLOCK_CAP` when that is set; 0 there means the client has no cap), a block is
//! turned into an allow that tells the user what the hook still wanted, so the agent is let go by
//! portcullis, with its reason, before the client's own cap would cut in without one. Codex has no cap at
//! all; there this is the only thing that ends a stuck loop.
//!
//! **One chain for all hooks.** The hooks of one stop run in parallel, and the event names no stop, so the
//! chain counts per hook how many of the agent's stops it decided ([`AgentChain::seen`]): a hook runs once
//! per stop, so its own count is exact from the stop it started recording at, and the earlier stops are the
//! most any hook has seen (less the current stop where that hook already decided it). Hooks that take turns
//! blocking therefore count the same chain and let go at the same stop.
//!
//! **Progress.** [`progress`] runs for every tool event a portcullis hook receives (the suite has a hook
//! registered for every `PostToolUse` and `PostToolUseFailure`, so with the suite installed every tool
//! call is seen); it resets the agent's counts. It never reads the transcript, which the client writes
//! lazily.
//!
//! **Cost.** Nothing is written while no chain is open: a stop that no hook blocks, with no chain on record
//! and `stop_hook_active` false, costs one failed file open; so does a tool call.
//!
//! State: `sessions/<id>/stop-chains.json`, agent key → [`AgentChain`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::budget;
use crate::ctx::Ctx;
use crate::env_vars;
use crate::event::{Event, EventName};
use crate::state::StateFile;
use crate::verdict::{Decision, Verdict};

/// One agent's chain of stops in one prompt.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AgentChain {
    /// The prompt the chain belongs to.
    pub prompt: Option<String>,
    /// 1 when the chain was first recorded at a stop the client flagged as a re-fire (`stop_hook_active`)
    /// with no portcullis record: a hook outside portcullis blocked before, which the client counts too.
    pub base: u32,
    /// Hook name → how many of the agent's stops since its last tool call that hook decided.
    pub seen: BTreeMap<String, u32>,
    /// The chain was opened at a stop without the client's flag (the prompt's first blocked stop): the
    /// hooks that decided that stop before the chain existed recorded nothing, and are credited with it
    /// when they first record at a later stop (which the client flags). Cleared by a tool call: from then
    /// on every hook records every stop of the prompt.
    pub opened_unflagged: bool,
    /// Hook → how many of the agent's stops in this prompt that hook decided, tool calls or not: Copilot
    /// CLI counts held turn ends so ([`crate::client::COPILOT_STOP_CAP`]). Not cleared by a tool call;
    /// kept only for a client with such a cap ([`prompt_cap`]).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub prompt_seen: BTreeMap<String, u32>,
}

impl AgentChain {
    /// How many of the agent's stops came before the current one since its last tool call, as `hook`
    /// (about to decide the current stop) sees it.
    #[must_use]
    pub fn earlier(&self, hook: &str) -> u32 {
        let own = self.seen.get(hook).copied().unwrap_or(0);
        // Another hook may have decided the current stop already: its count is one ahead at most.
        let others = self
            .seen
            .iter()
            .filter(|(h, _)| h.as_str() != hook)
            .map(|(_, n)| n.saturating_sub(1))
            .max()
            .unwrap_or(0);
        self.base.saturating_add(own.max(others))
    }

    /// `hook` decided one more of the agent's stops in this prompt (for [`prompt_cap`]).
    pub fn count_in_prompt(&mut self, hook: &str) {
        let n = self.prompt_seen.entry(hook.to_owned()).or_default();
        *n = n.saturating_add(1);
    }

    /// How many of the agent's stops in this prompt came before the one being decided, tool calls or not
    /// (after the deciding hook counted it with [`AgentChain::count_in_prompt`]).
    #[must_use]
    pub fn earlier_in_prompt(&self) -> u32 {
        self.prompt_seen
            .values()
            .max()
            .copied()
            .unwrap_or(0)
            .saturating_sub(1)
    }

    /// Whether anything is counted (a tool call has something to reset).
    fn counts(&self) -> bool {
        self.base > 0 || !self.seen.is_empty()
    }

    /// `hook` is about to decide a stop flagged `stop_hook_active`: if it missed the stop that opened the
    /// chain (it decided it before the chain existed), it is credited with it.
    fn join(&mut self, hook: &str, stop_hook_active: bool) {
        if self.opened_unflagged
            && stop_hook_active
            && !self.seen.is_empty()
            && !self.seen.contains_key(hook)
        {
            self.seen.insert(hook.to_owned(), 1);
        }
    }
}

/// Every chain of one session.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct StopChains {
    /// Agent key (`main` or the `agent_id`) → its chain.
    pub agents: BTreeMap<String, AgentChain>,
}

impl StateFile for StopChains {
    const NAME: &'static str = "stop-chains";
    const SCHEMA_VERSION: u32 = 2;
}

/// The most agents remembered per session; chains of agents long gone are dropped first.
const MAX_AGENTS: usize = 256;

/// One stop: the chain after `hook` decided it, how many stops came before it, and whether its block
/// must be let go (`wants_block` and at least `max` earlier stops).
#[must_use]
pub fn step(
    prev: Option<&AgentChain>,
    prompt: Option<&str>,
    hook: &str,
    stop_hook_active: bool,
    wants_block: bool,
    max: u32,
) -> (AgentChain, u32, bool) {
    let mut chain = match prev {
        Some(p) if p.prompt.as_deref() == prompt => p.clone(),
        _ => AgentChain {
            prompt: prompt.map(str::to_owned),
            base: u32::from(stop_hook_active),
            seen: BTreeMap::new(),
            opened_unflagged: !stop_hook_active,
            prompt_seen: BTreeMap::new(),
        },
    };
    chain.join(hook, stop_hook_active);
    let earlier = chain.earlier(hook);
    let let_go = wants_block && earlier >= max;
    let n = chain.seen.entry(hook.to_owned()).or_default();
    *n = n.saturating_add(1);
    (chain, earlier, let_go)
}

/// The most earlier stops in a prompt, tool calls or not, a block is honoured after in `client`: in
/// Copilot, one less than its own cap ([`crate::client::COPILOT_STOP_CAP`]), so a loop that works gets
/// every iteration Copilot allows and is let go with its reason before Copilot ends it without one;
/// `None` for the clients whose cap a tool call restarts.
#[must_use]
pub fn prompt_cap(client: crate::Client) -> Option<u32> {
    (client == crate::Client::Copilot).then_some(crate::client::COPILOT_STOP_CAP - 1)
}

/// The most earlier stops a block is honoured after: `stop.max_consecutive_blocks`, kept below the
/// client's cap when `CLAUDE_CODE_STOP_HOOK_BLOCK_CAP` sets one (0: the client has no cap).
#[must_use]
pub fn max_blocks(ctx: &Ctx) -> u32 {
    let configured = ctx.config().map_or_else(
        |_| crate::config::StopConfig::default().max_consecutive_blocks,
        |c| c.stop.max_consecutive_blocks,
    );
    match client_cap(ctx) {
        Some(cap) if cap > 0 => configured.min(cap - 1),
        _ => configured,
    }
}

/// The client's own cap: `CLAUDE_CODE_STOP_HOOK_BLOCK_CAP`, or its default; `Some(0)` means none.
fn client_cap(ctx: &Ctx) -> Option<u32> {
    match ctx.env.var(env_vars::CLAUDE_CODE_STOP_HOOK_BLOCK_CAP) {
        Some(v) => v.trim().parse().ok(),
        None => Some(budget::CLIENT_STOP_BLOCK_CAP),
    }
}

/// How many of the agent's stops came before this one since its last tool call, as `ctx.hook` sees it
/// (0 when nothing is on record). For hooks whose own rules depend on the chain.
#[must_use]
pub fn earlier(event: &Event, ctx: &Ctx) -> u32 {
    let Ok(state) = event.session().and_then(|s| ctx.state().session(s)) else {
        return 0;
    };
    let Ok((chains, _)) = state.load::<StopChains>() else {
        return 0;
    };
    let prompt = event.prompt_id.as_deref();
    let active = event.stop_hook_active.unwrap_or(false);
    match chains.agents.get(event.agent_key()) {
        Some(c) if c.prompt.as_deref() == prompt => {
            let mut c = c.clone();
            c.join(ctx.hook, active);
            c.earlier(ctx.hook)
        }
        _ => u32::from(active),
    }
}

/// Passes a Stop/SubagentStop verdict through the chain; every other event's verdict is returned as is.
///
/// When the state cannot be read or written nothing can be counted. Where the client has a cap of its
/// own (Claude Code) the verdict stands, with a warning: the client's cap still ends the chain. Where it has
/// none (Codex), a block at a stop the client flags as a re-fire (`stop_hook_active`) is let go: without
/// state a turn is held once at most, never without end.
#[must_use]
pub fn apply(event: &Event, ctx: &Ctx, verdict: Verdict) -> Verdict {
    if !matches!(event.name(), EventName::Stop | EventName::SubagentStop) {
        return verdict;
    }
    let Ok(session) = event.session() else {
        return verdict;
    };
    let state = match ctx.state().session(session) {
        Ok(s) => s,
        Err(e) => return without_state(event, ctx, verdict, &e),
    };
    let agent = event.agent_key();
    let active = event.stop_hook_active.unwrap_or(false);
    let prompt = event.prompt_id.as_deref();

    // The common case (an allow, no chain in this prompt, no block earlier in it) writes nothing. Once a
    // chain exists in the prompt every hook records every stop, so their counts agree.
    let (on_record, foreign) = match state.load::<StopChains>() {
        Ok((chains, _)) => {
            let chain = chains
                .agents
                .get(agent)
                .filter(|c| c.prompt.as_deref() == prompt);
            (chain.is_some(), chain.is_some_and(|c| c.base > 0))
        }
        Err(e) => return without_state(event, ctx, verdict, &e),
    };
    let verdict = if verdict.decision == Decision::Block {
        verdict
    } else if !verdict.context.is_empty()
        && !foreign
        && !crate::stop_advice::gate_blocked(&state, agent, event, ctx)
    {
        crate::stop_advice::advice_to_user(verdict)
    } else {
        verdict
    };
    // Context on a Stop makes the client continue the agent, like a block (PROTOCOL.md §6.3).
    let wants_block = verdict.decision == Decision::Block || !verdict.context.is_empty();
    if !wants_block && !active && !on_record {
        return verdict;
    }
    let max = max_blocks(ctx);
    let cap = prompt_cap(event.client);
    let updated = state.update::<StopChains, _>(&ctx.deadline, |chains| {
        let (mut chain, earlier, let_go) = step(
            chains.agents.get(agent),
            prompt,
            ctx.hook,
            active,
            wants_block,
            max,
        );
        if cap.is_some() {
            chain.count_in_prompt(ctx.hook);
        }
        let in_prompt = chain.earlier_in_prompt();
        let capped = wants_block && cap.is_some_and(|c| in_prompt >= c);
        chains.agents.insert(agent.to_owned(), chain);
        forget_oldest(chains, agent);
        (earlier, let_go, capped.then_some(in_prompt))
    });
    let answer = match updated {
        Ok((_, _, Some(in_prompt))) => let_go_at_cap(event, ctx, in_prompt, &verdict),
        Ok((earlier, true, None)) => let_go(event, ctx, earlier, &verdict),
        Ok(_) => verdict,
        Err(e) => without_state(event, ctx, verdict, &e),
    };
    // What a hook that only advises looks for: this stop is held.
    if answer.decision == Decision::Block {
        crate::stop_advice::mark_blocked(&state, agent, event, ctx);
        crate::continuation::record_hold(&state, event, &answer, ctx);
    }
    answer
}

/// The verdict of a stop whose chain cannot be read or written. A client with a cap of its own ends the
/// chain anyway, so the verdict stands. A client without one would re-fire a blocked stop for ever: there
/// a block (or context) at a stop the client flags as a re-fire is let go, so the turn is held once at most.
fn without_state(event: &Event, ctx: &Ctx, verdict: Verdict, error: &crate::Error) -> Verdict {
    ctx.warn(&format!("stop chain: {error}"));
    let wants_block = verdict.decision == Decision::Block || !verdict.context.is_empty();
    let client_caps = event.client == crate::Client::Copilot
        || (event.client == crate::Client::ClaudeCode && client_cap(ctx) != Some(0));
    if wants_block && !client_caps && event.stop_hook_active.unwrap_or(false) {
        return let_go(event, ctx, 1, &verdict);
    }
    verdict
}

/// A tool call of the event's agent: its chain starts over (its count in the prompt stays). Called by the
/// run loop for every tool event; writes only when the agent has a chain open.
pub fn progress(event: &Event, ctx: &Ctx) {
    if !matches!(
        event.name(),
        EventName::PreToolUse | EventName::PostToolUse | EventName::PostToolUseFailure
    ) {
        return;
    }
    let Ok(state) = event.session().and_then(|s| ctx.state().session(s)) else {
        return;
    };
    let agent = event.agent_key();
    let counting = state
        .load::<StopChains>()
        .is_ok_and(|(c, _)| c.agents.get(agent).is_some_and(AgentChain::counts));
    if !counting {
        return;
    }
    let reset = state.update::<StopChains, _>(&ctx.deadline, |chains| {
        if let Some(c) = chains.agents.get_mut(agent) {
            c.base = 0;
            c.seen.clear();
            c.opened_unflagged = false;
        }
    });
    if let Err(e) = reset {
        ctx.warn(&format!("stop chain: {e}"));
    }
}

/// Keeps at most [`MAX_AGENTS`] chains: subagents that ended leave theirs behind.
fn forget_oldest(chains: &mut StopChains, keep: &str) {
    while chains.agents.len() > MAX_AGENTS {
        let Some(victim) = chains
            .agents
            .iter()
            .filter(|(k, _)| k.as_str() != keep)
            .min_by_key(|(_, c)| c.seen.values().max().copied().unwrap_or(0))
            .map(|(k, _)| k.clone())
        else {
            return;
        };
        chains.agents.remove(&victim);
    }
}

/// The allow that replaces a block at Copilot's count of held turn ends in a prompt (tool calls or not),
/// one before Copilot would end the turn without a word: the user is told what the hook still wanted.
fn let_go_at_cap(event: &Event, ctx: &Ctx, earlier: u32, verdict: &Verdict) -> Verdict {
    let mut out = let_go(event, ctx, earlier, verdict);
    if let Some(first) = out.user_messages.first_mut() {
        *first = first.replacen(
            &format!("after {earlier} blocked stops in a row with no tool call between them"),
            &format!("after {earlier} held turn ends in this prompt"),
            1,
        );
    }
    out
}

/// The allow that replaces a block at the cap: the user is told what the hook still wanted.
fn let_go(event: &Event, ctx: &Ctx, earlier: u32, verdict: &Verdict) -> Verdict {
    let who = if event.is_subagent() {
        format!(
            "the subagent `{}`",
            event.agent_type.as_deref().unwrap_or("?")
        )
    } else {
        "the turn".to_owned()
    };
    let client = match client_cap(ctx) {
        _ if event.client == crate::Client::Copilot => format!(
            "Copilot CLI ends a turn itself after {} held turn ends in a prompt",
            crate::client::COPILOT_STOP_CAP
        ),
        _ if event.client != crate::Client::ClaudeCode => {
            "the client has no cap of its own".to_owned()
        }
        Some(0) => "the client has no cap of its own".to_owned(),
        Some(cap) => format!("Claude Code stops honouring blocks at {cap}"),
        None => "the client's cap is unknown".to_owned(),
    };
    let wanted = if verdict.reasons.is_empty() {
        verdict.context.join("\n\n")
    } else {
        verdict.reason_text()
    };
    let mut out = Verdict::allow().with_user_message(format!(
        "[{hook}] let {who} end after {earlier} blocked stops in a row with no tool call between them ({client}). \
         Still open: {wanted}",
        hook = ctx.hook,
    ));
    // What the hook already had for the user stays; nothing goes to the agent, which would continue it.
    out.user_messages
        .extend(verdict.user_messages.iter().cloned());
    // A hook's own log marker (such as `stuck`) is still evidence for the others.
    out.log_mark.clone_from(&verdict.log_mark);
    out
}

#[cfg(test)]
#[path = "stop_chain_tests.rs"]
mod tests;
