//! Gemini's (and Copilot's) continuation of a held turn is not a prompt.
//!
//! When an `AfterAgent` hook holds the turn, Gemini CLI sends the hold's reason to the model as a new user
//! message, and fires `BeforeAgent` for it with `prompt` set to that reason (PROTOCOL-GEMINI.md §3, and
//! the 0.61 bundle's `sendMessageStream`). Copilot CLI does the same with `UserPromptSubmit`
//! (PROTOCOL-COPILOT.md §1.6), and refuses the prompt on a block there, ending the run. Read as a prompt,
//! it would reset what a prompt resets (iteration-limit's attempt counts) and be offered skills; and a deny
//! there would discard it, ending the turn the gate held. So every portcullis hook lets a continuation
//! pass silently.
//!
//! A user's prompt, on the other hand, starts the main thread's stop chain afresh: neither client sends a
//! prompt id, so without this a chain let go in one prompt would let the next prompt's first hold go at once.
//!
//! A continuation is recognised by its text: a Stop verdict that holds the turn records the start of its
//! reason, and a prompt event whose prompt contains the recorded text, within [`CONTINUATION_WINDOW`], is
//! the continuation of that hold. Gemini merges the reasons of hooks that block together, so each hook's
//! own text is in the prompt; Copilot passes one of them on. So each hook records its own hold, and a prompt
//! holding any recent one is the continuation.

use std::io::{Read, Write};

use crate::client::Client;
use crate::ctx::Ctx;
use crate::event::{Event, EventName};
use crate::state::StateDir;
use crate::verdict::Verdict;

/// How long after a hold its continuation is looked for (a hook asking an advisor may take a minute).
const CONTINUATION_WINDOW: chrono::TimeDelta = chrono::TimeDelta::minutes(10);

/// How much of a reason is recorded (enough to be unlike any prompt a person types).
const SNIPPET_BYTES: usize = 160;

/// The clients that fire their prompt event for a held turn's continuation, with the hold's reason as the
/// prompt, and send no prompt id: Gemini (`BeforeAgent`) and Copilot (`UserPromptSubmit`,
/// PROTOCOL-COPILOT.md §1.6).
fn sends_continuations(client: Client) -> bool {
    matches!(client, Client::Gemini | Client::Copilot)
}

/// The file holding `hook`'s newest hold of a session's turn (one a hook: hooks that hold the same stop
/// run in parallel, and each writes only its own).
fn held_file(state: &StateDir, hook: &str) -> std::path::PathBuf {
    state.path().join(format!("held-turn.{hook}.txt"))
}

/// Records that `verdict` holds a Gemini or Copilot turn, for [`is_continuation`]. Nothing for another
/// client.
pub(crate) fn record_hold(state: &StateDir, event: &Event, verdict: &Verdict, ctx: &Ctx) {
    if !sends_continuations(event.client) {
        return;
    }
    let reason = verdict.reason_text();
    let snippet = snippet(&reason);
    if snippet.is_empty() {
        return;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    if let Ok(mut f) = crate::files::open_own_or_replace(
        &held_file(state, ctx.hook),
        &options,
        "continuation marker",
    ) {
        let _ = write!(f, "{}\n{snippet}", ctx.now.timestamp_millis());
    }
}

/// The recorded start of a reason: its first line, at most [`SNIPPET_BYTES`] on a character boundary.
fn snippet(reason: &str) -> &str {
    let line = reason.trim().lines().next().unwrap_or_default().trim();
    let mut end = line.len().min(SNIPPET_BYTES);
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    &line[..end]
}

/// At a Gemini `BeforeAgent` or a Copilot `UserPromptSubmit`: true for the continuation of a held turn,
/// which every hook lets pass (see the module docs). A user's prompt ends the main thread's stop chain here,
/// as a new prompt id does in the other clients.
#[must_use]
pub fn before_agent(event: &Event, ctx: &Ctx) -> bool {
    if !sends_continuations(event.client) || event.name() != EventName::UserPromptSubmit {
        return false;
    }
    if is_continuation(event, ctx) {
        return true;
    }
    prompt_started(event, ctx);
    false
}

/// A user's prompt of a client that sends no prompt id (Gemini, Copilot): the main thread's chain ends, as a new
/// `prompt_id` ends it elsewhere. Writes only when the main thread has a chain open.
fn prompt_started(event: &Event, ctx: &Ctx) {
    let Ok(state) = event.session().and_then(|s| ctx.state().session(s)) else {
        return;
    };
    let open = state
        .load::<crate::stop_chain::StopChains>()
        .is_ok_and(|(c, _)| c.agents.contains_key("main"));
    if open {
        let _ = state.update::<crate::stop_chain::StopChains, _>(&ctx.deadline, |chains| {
            chains.agents.remove("main");
        });
    }
}

/// True for a prompt event that continues a turn a portcullis hook held.
fn is_continuation(event: &Event, ctx: &Ctx) -> bool {
    let Some(prompt) = event.prompt.as_deref() else {
        return false;
    };
    let Ok(state) = event.session().and_then(|s| ctx.state().session(s)) else {
        return false;
    };
    let since = (ctx.now - CONTINUATION_WINDOW).timestamp_millis();
    let Ok(entries) = std::fs::read_dir(state.path()) else {
        return false;
    };
    entries.flatten().any(|entry| {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with("held-turn.") && name.ends_with(".txt")) {
            return false;
        }
        let Ok(f) = crate::files::open_regular(&entry.path()) else {
            return false;
        };
        let mut text = String::new();
        if f.take(4096).read_to_string(&mut text).is_err() {
            return false;
        }
        text.split_once('\n').is_some_and(|(time, snippet)| {
            time.parse::<i64>().is_ok_and(|t| t >= since)
                && !snippet.is_empty()
                && prompt.contains(snippet)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snippet_is_the_first_line_cut_on_a_char_boundary() {
        assert_eq!(snippet("  [gate] finish\nmore"), "[gate] finish");
        let long = "é".repeat(200);
        let s = snippet(&long);
        assert!(s.len() <= SNIPPET_BYTES && s.chars().all(|c| c == 'é'));
    }
}
