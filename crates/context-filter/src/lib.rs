//! context-filter: large tool outputs reach the model filtered, losing no fact, and recoverable (seed 002
//! §7.1, issue 37).
//!
//! - **Events**: `PostToolUse` (matcher `^(Bash|WebFetch|mcp__.*)$`) replaces an output of at least
//!   `context_filter.threshold_bytes` (default 8 KiB) with a filtered one, in the tool's own output shape
//!   (`updatedToolOutput`; in Codex a `decision: "block"` whose reason is the new output). Under the
//!   threshold it returns nothing at all. `PostToolUseFailure` (`Bash`), which cannot replace output, gives
//!   the lines of a large failed output that look like failures as context.
//! - **From the whole output**: Claude Code hands a hook only the first 30,000 bytes of a large Bash output
//!   and saves the rest at `tool_response.persistedOutputPath` (PROTOCOL.md §5); the filter reads that
//!   file, so the summary at the tail reaches the model.
//! - **Filters by kind** ([`filter`]): test runs, compiler diagnostics, version control, listings, JSON,
//!   and anything else; each keeps every line that looks like an error.
//! - **Recoverable**: the original, byte for byte, is kept in the session's state folder
//!   (`.claude/portcullis/sessions/<id>/outputs/`, git-ignored), and the
//!   filtered text ends with one line naming it and its size. A command holding
//!   `context_filter.raw_marker` (default `# portcullis:raw`) is never filtered. `SessionEnd` removes the
//!   session's saved outputs; those of a session whose end was never seen go after seven days.
//! - **One replacement per call**: secret-guard also replaces outputs (to redact secrets), and two hooks
//!   that answer `updatedToolOutput` race. Both call [`large_output`], which filters first and redacts what
//!   it kept (through [`portcullis_secrets::Scanner`]): for an output over the threshold they answer the
//!   same bytes, so whichever the client takes, the model sees an output both filtered and redacted.
//! - **`ON_ERROR`**: [`Failure::Open`]: a filter that cannot run leaves the output as it was.

use portcullis_core::config::{Mode, SectionSpec};
use portcullis_core::{Ctx, Event, EventName, Failure, Hook, Registration, Result, Verdict};
use portcullis_secrets::{Scanner, files};
use serde_json::json;

pub use portcullis_filter::ContextFilterConfig;
use portcullis_filter::filter::{self, Keep};
use portcullis_filter::{MIN_THRESHOLD_BYTES, large_output, replacement};

/// The hook.
pub struct ContextFilter;

impl Hook for ContextFilter {
    const NAME: &'static str = "context-filter";
    const SUMMARY: &'static str = "Large tool outputs reach the model filtered by what they are (test runs, diagnostics, logs, listings, JSON), every error line kept, the whole output saved for the agent to read.";
    const EVENTS: &'static [Registration] = &[
        Registration::matching("PostToolUse", "^(Bash|WebFetch|mcp__.*)$"),
        Registration::matching("PostToolUseFailure", "Bash"),
        Registration::every("SessionEnd"),
    ];
    const ON_ERROR: Failure = Failure::Open;
    const SECTIONS: &'static [SectionSpec] = &[SectionSpec::of::<ContextFilterConfig>()];

    fn decide(event: &Event, ctx: &Ctx) -> Result<Verdict> {
        match event.name() {
            EventName::PostToolUse => post_tool_use(event, ctx),
            // A failure that comes with its output (Gemini's) can have it replaced like a success's.
            EventName::PostToolUseFailure if event.tool_response.is_some() => {
                post_tool_use(event, ctx)
            }
            EventName::PostToolUseFailure => failure(event, ctx),
            EventName::SessionEnd => {
                // The saved outputs were for this session's agents; they go with it.
                portcullis_filter::remove_outputs(
                    &ctx.state().path().join("sessions"),
                    event.session()?,
                );
                Ok(Verdict::allow())
            }
            _ => Ok(Verdict::allow()),
        }
    }
}

fn post_tool_use(event: &Event, ctx: &Ctx) -> Result<Verdict> {
    let warn = event
        .tool_response
        .as_ref()
        .is_some_and(|r| r.get().len() >= MIN_THRESHOLD_BYTES)
        && ctx.section::<ContextFilterConfig>()?.mode == Mode::Warn;
    if warn {
        // What filtering would have saved, for `portcullis filter stats`; the output stays as it is.
        return Ok(match replacement(event, ctx, false)? {
            Some(r) => Verdict::allow().with_log_mark("would-filter", r.log_detail()),
            None => Verdict::allow(),
        });
    }
    let Some(r) = large_output(event, ctx)? else {
        return Ok(Verdict::allow());
    };
    Ok(Verdict::allow()
        .with_updated_tool_output(r.output.clone())
        .with_log_mark("filter", r.log_detail()))
}

/// PostToolUseFailure: the output cannot be replaced; when it is large, the lines of it that look like
/// failures are given as context, so they are not lost in the middle.
fn failure(event: &Event, ctx: &Ctx) -> Result<Verdict> {
    const MAX_LINES: usize = 30;
    let Some(error) = event.error.as_deref() else {
        return Ok(Verdict::allow());
    };
    if error.len() < MIN_THRESHOLD_BYTES {
        return Ok(Verdict::allow());
    }
    let rules = ctx.section::<ContextFilterConfig>()?;
    if rules.mode != Mode::Enforce || error.len() < rules.threshold_bytes.min(8 * 1024) {
        return Ok(Verdict::allow());
    }
    let keep = Keep::new(&rules.keep).map_err(portcullis_core::Error::Other)?;
    let lines = filter::failure_lines(error, &keep, MAX_LINES);
    if lines.is_empty() {
        return Ok(Verdict::allow());
    }
    let mut text = format!(
        "[context-filter] The failed command's output ({} bytes) names these failures:\n{}",
        error.len(),
        lines.join("\n")
    );
    let scanner = Scanner::new(files::project_values(&ctx.project));
    if let Some((clean, _)) = scanner.redact(&text) {
        text = clean;
    }
    Ok(Verdict::allow().with_context(text).with_log_mark(
        "failure-lines",
        json!({"bytes": error.len(), "lines": lines.len()}),
    ))
}

#[cfg(test)]
mod tests;
