//! secret-guard: secrets never reach the model (seed 002 §8).
//!
//! - **Events**: `PreToolUse` (matcher `Read|Grep|Bash`) guards; `PostToolUse` (every tool) redacts;
//!   `PostToolUseFailure` warns.
//! - **Guard** (`secret_guard.mode`, default `enforce`): Read or Grep of a secret file
//!   ([`portcullis_secrets::files::is_secret_file`], plus `secret_guard.secret_files`, minus
//!   `secret_guard.allow_files` and examples such as `.env.example`), and Bash commands that plainly
//!   print one (`cat .env`, `grep KEY .env`, `tail ~/.aws/credentials`) or dump the environment (`env`,
//!   `printenv`, `set`, `export -p`, `echo $GITHUB_TOKEN`), are denied with a pointer to
//!   `portcullis run-with-secrets`.
//! - **Redaction** (`secret_guard.redact`, default `enforce`): every string of a tool's output is scanned
//!   ([`portcullis_secrets::Scanner`]: the common scanners' credential forms and the values of the
//!   project's dotenv files); each secret is replaced by `[REDACTED <kind>]` in `updatedToolOutput`, the
//!   output keeps its shape, Claude is told why, and the decision log records kinds and places, never
//!   values. A failed call's output cannot be replaced (PostToolUseFailure takes context only): Claude is
//!   told not to repeat what it saw.
//! - **`ON_ERROR`**: [`Failure::Open`]: a broken config must not stop every Read and every command.
//! - **Budget**: a Read, Grep or Bash call costs the config and one look at its path or parsed command;
//!   an output without a secret-looking keyword or a known value ends after one pass over it, before
//!   config is read.
//!
//! [`run`] is `portcullis run-with-secrets`: the other half of the rule, how a command gets a secret.

mod config;
mod guard;
mod redact;
pub mod run;

use portcullis_core::config::{Mode, SectionSpec};
use portcullis_core::{Ctx, Event, EventName, Failure, Hook, Registration, Result, Verdict};
use serde_json::json;

pub use config::{NamedSecret, SecretGuardConfig, SecretsConfig};

use guard::Exposure;

/// The hook.
pub struct SecretGuard;

impl Hook for SecretGuard {
    const NAME: &'static str = "secret-guard";
    const SUMMARY: &'static str = "Secrets never reach the model: reads of secret files and environment dumps are refused, and secrets in tool output are replaced by markers.";
    const EVENTS: &'static [Registration] = &[
        Registration::matching("PreToolUse", "Read|Grep|Bash"),
        Registration::every("PostToolUse"),
        Registration::every("PostToolUseFailure"),
    ];
    const ON_ERROR: Failure = Failure::Open;
    const SECTIONS: &'static [SectionSpec] = &[
        SectionSpec::of::<SecretGuardConfig>(),
        SectionSpec::of::<SecretsConfig>(),
        // A large output is answered as context-filter answers it (redact.rs).
        SectionSpec::of::<portcullis_filter::ContextFilterConfig>(),
    ];

    fn decide(event: &Event, ctx: &Ctx) -> Result<Verdict> {
        match event.name() {
            EventName::PreToolUse => pre_tool_use(event, ctx),
            EventName::PostToolUse => redact::post_tool_use(event, ctx),
            // A failure that comes with its output (Gemini's) can have it replaced like a success's.
            EventName::PostToolUseFailure if event.tool_response.is_some() => {
                redact::post_tool_use(event, ctx)
            }
            EventName::PostToolUseFailure => redact::failure(event, ctx),
            _ => Ok(Verdict::allow()),
        }
    }
}

fn pre_tool_use(event: &Event, ctx: &Ctx) -> Result<Verdict> {
    if !matches!(event.tool(), Some("Read" | "Grep" | "Bash")) {
        return Ok(Verdict::allow());
    }
    let rules = ctx.section::<SecretGuardConfig>()?;
    if rules.mode == Mode::Off {
        return Ok(Verdict::allow());
    }
    Ok(match guard::exposure(event, ctx, &rules)? {
        Some(found) => verdict(&rules, &found, event.tool().unwrap_or_default()),
        None => Verdict::allow(),
    })
}

fn verdict(rules: &SecretGuardConfig, found: &Exposure, tool: &str) -> Verdict {
    let run = "To use a secret, run the command that needs it through `portcullis run-with-secrets --env \
               VAR=file:PATH#KEY -- COMMAND` (or a named secret from the `secrets` config): the value goes \
               into that command's environment only, and is scrubbed from its output.";
    let (what, detail) = match found {
        Exposure::File(f) => (
            format!(
                "{tool} would show the contents of `{f}`, a secret file, to the model, and secrets never \
                 reach the model. {run} To learn which keys it holds, ask the user."
            ),
            json!({"rule": "secret-file", "target": f}),
        ),
        Exposure::Environment(cmd) => (
            format!(
                "`{cmd}` would print the whole environment, secrets included, to the model. Print one \
                 variable that is not secret (`printenv HOME`) instead. {run}"
            ),
            json!({"rule": "environment", "target": cmd}),
        ),
        Exposure::Variable(v) => (
            format!(
                "this command would print `{v}`, a secret-named variable, to the model. Pass it to the \
                 program that needs it without printing it. {run}"
            ),
            json!({"rule": "secret-variable", "target": v}),
        ),
    };
    match rules.mode {
        Mode::Enforce => {
            Verdict::deny(format!("[secret-guard] {what}")).with_log_mark("deny", detail)
        }
        Mode::Warn => Verdict::allow()
            .with_context(format!("[secret-guard] (warn mode) {what}"))
            .with_log_mark("warn", detail),
        Mode::Off => Verdict::allow(),
    }
}

#[cfg(test)]
mod tests;
