//! Advice at a stop: a Stop verdict that only adds context makes the client answer again, as a block
//! does, so it is given to the agent only when the stop is held anyway (see [`crate::stop_chain`]). The
//! hooks of one stop run in parallel; a hook that blocks leaves a marker naming the stop, which a hook
//! that only advises looks for.

use crate::ctx::Ctx;
use crate::event::Event;
use crate::verdict::Verdict;

/// How long a Stop verdict that only adds context waits for a gate of the same stop to block it.
const GATE_WAIT: std::time::Duration = std::time::Duration::from_millis(250);

/// The client starts the hooks of one stop together: a block recorded this long before a hook started is
/// still the same stop's (the previous stop's came before the model answered again).
const SAME_STOP: chrono::TimeDelta = chrono::TimeDelta::milliseconds(150);

/// The file whose time says a portcullis hook blocked the agent's latest stop.
fn block_marker(state: &crate::state::StateDir, agent: &str) -> std::path::PathBuf {
    state.path().join(format!(
        "stop-blocked.{:016x}",
        crate::state::stable_hash(agent.bytes())
    ))
}

/// What identifies one stop of an agent to the hooks deciding it: its answer (the event names no stop).
fn stop_identity(event: &Event) -> u64 {
    crate::state::stable_hash(
        event
            .last_assistant_message
            .as_deref()
            .unwrap_or_default()
            .bytes(),
    )
}

/// Records that this hook blocks the agent's stop: the stop's identity and this hook's start time, in one
/// small file (one `open` and `write`).
pub(crate) fn mark_blocked(state: &crate::state::StateDir, agent: &str, event: &Event, ctx: &Ctx) {
    // The chain was just written in this folder: it exists (when it does not, no marker is left, and an
    // advising hook gives its advice to the user).
    let path = block_marker(state, agent);
    let stamp = format!(
        "{} {:016x}",
        ctx.now.timestamp_millis(),
        stop_identity(event)
    );
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    if let Ok(mut f) = crate::files::open_own_or_replace(&path, &options, "stop marker") {
        let _ = std::io::Write::write_all(&mut f, stamp.as_bytes());
    }
}

/// Whether another portcullis hook blocks this same stop: its marker names this stop's answer and a start
/// time no earlier than [`SAME_STOP`] before this hook's. The hooks run in parallel, so it is looked for
/// until [`GATE_WAIT`] has passed (or the deadline comes).
pub(crate) fn gate_blocked(
    state: &crate::state::StateDir,
    agent: &str,
    event: &Event,
    ctx: &Ctx,
) -> bool {
    let path = block_marker(state, agent);
    let since = (ctx.now - SAME_STOP).timestamp_millis();
    let identity = format!("{:016x}", stop_identity(event));
    let started = std::time::Instant::now();
    loop {
        let marked = crate::files::open_regular(&path).ok().and_then(|mut f| {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut f, &mut text).ok()?;
            let (time, id) = text.trim().split_once(' ')?;
            Some((time.parse::<i64>().ok()?, id == identity))
        });
        if marked.is_some_and(|(time, same)| same && time >= since) {
            return true;
        }
        if started.elapsed() >= GATE_WAIT || ctx.deadline.expired() {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// A Stop verdict's context for a stop no gate holds: to the user, not the agent. Context on a stop makes
/// the client answer again (PROTOCOL.md §6.3), and no advice may continue a turn every gate lets end (the
/// agent said it is done, and no rule says otherwise).
pub(crate) fn advice_to_user(mut verdict: Verdict) -> Verdict {
    let context = std::mem::take(&mut verdict.context);
    verdict.user_messages.extend(context);
    verdict
}
