//! Completion-promise loops: the prompt is fed back at every Stop until the answer keeps the promise.
//!
//! A loop belongs to one session: `loop start --session ID`, else `CLAUDE_CODE_SESSION_ID` (Claude Code
//! sets it for Bash tool calls, so an agent can arm its own loop), else it is *pending* and the next
//! session that stops in this project claims it (under the state lock, so exactly one does). Parallel
//! sessions in one project never share a loop.
//!
//! At each Stop of the session: the answer completes an iteration. An answer that is exactly
//! `<promise>TEXT</promise>` (surrounding whitespace aside; a mention inside other text does not count)
//! ends the loop; so does reaching `max_iterations`. Otherwise the Stop is blocked and the prompt comes back
//! as the reason, with the iteration count and the promise to answer.

use portcullis_core::state::{StateDir, StateFile};
use portcullis_core::{Ctx, Deadline, Event, Result, Verdict};
use serde::{Deserialize, Serialize};

/// One armed loop.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct PromiseLoop {
    /// Whether a loop is armed.
    pub active: bool,
    /// The promise text: the loop ends at an answer of exactly `<promise>TEXT</promise>`.
    pub promise: String,
    /// The prompt fed back at every Stop.
    pub prompt: String,
    /// The most iterations (answers), the first included.
    pub max_iterations: u32,
    /// Iterations completed so far.
    pub iteration: u32,
    /// When it was armed (RFC 3339).
    pub armed_at: String,
}

impl StateFile for PromiseLoop {
    const NAME: &'static str = "promise-loop";
    const SCHEMA_VERSION: u32 = 1;
}

impl PromiseLoop {
    /// True when `answer` keeps the promise: exactly the tag, whitespace around it aside.
    #[must_use]
    pub(crate) fn kept_by(&self, answer: &str) -> bool {
        answer.trim() == format!("<promise>{}</promise>", self.promise)
    }

    /// The reason that feeds the prompt back for iteration `next`.
    #[must_use]
    pub(crate) fn feedback(&self, next: u32) -> String {
        format!(
            "{}\n\n[iteration-limit] Loop iteration {next} of {}. When the task is truly complete, answer with \
             exactly <promise>{}</promise> and nothing else; a mention of it inside other text does not count.",
            self.prompt, self.max_iterations, self.promise
        )
    }
}

/// The loop of `session`, claiming the pending one if the session has none.
fn current(top: &StateDir, session: &StateDir, deadline: &Deadline) -> Result<Option<PromiseLoop>> {
    let (own, _) = session.load::<PromiseLoop>()?;
    if own.active {
        return Ok(Some(own));
    }
    if !top.load::<PromiseLoop>()?.0.active {
        return Ok(None);
    }
    let claimed = top.update::<PromiseLoop, _>(deadline, std::mem::take)?;
    if !claimed.active {
        return Ok(None);
    }
    session.update::<PromiseLoop, _>(deadline, |l| *l = claimed.clone())?;
    Ok(Some(claimed))
}

/// The Stop rule.
pub(crate) fn on_stop(event: &Event, ctx: &Ctx) -> Result<Verdict> {
    if event.has_running_background_tasks() {
        return Ok(Verdict::allow());
    }
    let top = ctx.state();
    let session = top.session(event.session()?)?;
    let Some(armed) = current(&top, &session, &ctx.deadline)? else {
        return Ok(Verdict::allow());
    };
    let answer = event.last_assistant_message.as_deref().unwrap_or_default();
    let done = armed.iteration + 1;
    if armed.kept_by(answer) {
        session.reset::<PromiseLoop>(&ctx.deadline)?;
        return Ok(Verdict::allow().with_user_message(format!(
            "[iteration-limit] The loop ended after {done} iteration{}: the promise `{}` was kept.",
            if done == 1 { "" } else { "s" },
            armed.promise
        )));
    }
    if done >= armed.max_iterations {
        session.reset::<PromiseLoop>(&ctx.deadline)?;
        return Ok(Verdict::allow().with_user_message(format!(
            "[iteration-limit] The loop ended at its cap of {} iterations without the promise `{}`: \
             the work may be unfinished.",
            armed.max_iterations, armed.promise
        )));
    }
    session.update::<PromiseLoop, _>(&ctx.deadline, |l| l.iteration = done)?;
    Ok(Verdict::block(armed.feedback(done + 1)))
}
