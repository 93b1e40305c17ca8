//! Redaction (PostToolUse): every string of the tool's output is scanned; when a secret is found, the
//! model gets the same output with each secret replaced by `[REDACTED <kind>]` (`updatedToolOutput`, in
//! the tool's own shape), and the decision log gets the kinds and where they were, never the values.
//!
//! The raw output is first tested for the rules' keywords and the project's secret values in one pass;
//! only output that might hold a secret is decoded and scanned string by string.

use portcullis_core::config::Mode;
use portcullis_core::{Ctx, Event, Result, Verdict};
use portcullis_secrets::{Finding, Scanner, files};
use serde_json::{Value, json};

use crate::config::SecretGuardConfig;

/// One finding and the field of the output it was in (`stdout`, `file.content`, `[0].text`).
#[derive(Debug)]
struct Located {
    field: String,
    finding: Finding,
}

/// PostToolUse: the output with its secrets replaced, or a silent allow.
pub(crate) fn post_tool_use(event: &Event, ctx: &Ctx) -> Result<Verdict> {
    let Some(raw) = event.tool_response.as_ref() else {
        return Ok(Verdict::allow());
    };
    // A large output: context-filter answers it too, and two replacements race in the client. Both give
    // the same bytes (filtered, then redacted), so the model sees both done whichever the client takes.
    if ctx.section::<SecretGuardConfig>()?.redact == Mode::Enforce
        && let Some(r) = portcullis_filter::large_output(event, ctx)?
    {
        let mut verdict = Verdict::allow().with_updated_tool_output(r.output.clone());
        if r.redacted > 0 {
            verdict = verdict
                .with_context(format!(
                    "[secret-guard] {} secret(s) in this output were replaced by `[REDACTED <kind>]` before you \
                     saw it. Do not try to reveal them.",
                    r.redacted
                ))
                .with_log_mark("redact", json!({"secrets": r.redacted, "filtered": r.log_detail()}));
        }
        return Ok(verdict);
    }
    let scanner = Scanner::new(files::project_values(&ctx.project));
    if !scanner.might_hold(raw.get().as_bytes()) {
        return Ok(Verdict::allow());
    }
    let mut output: Value = serde_json::from_str(raw.get())
        .map_err(|e| portcullis_core::Error::BadEvent(format!("tool_response: {e}")))?;
    let mut found = Vec::new();
    redact_value(&scanner, &mut output, "", &mut found);
    if found.is_empty() {
        return Ok(Verdict::allow());
    }
    let rules = ctx.section::<SecretGuardConfig>()?;
    if rules.redact == Mode::Off {
        return Ok(Verdict::allow());
    }
    let detail = json!({
        "findings": found.iter().map(|l| json!({"kind": l.finding.kind, "field": l.field, "line": l.finding.line})).collect::<Vec<_>>(),
    });
    let kinds = kinds(&found);
    Ok(match rules.redact {
        Mode::Enforce => Verdict::allow()
            .with_updated_tool_output(output)
            .with_context(format!(
                "[secret-guard] {} secret(s) in this output ({kinds}) were replaced by `[REDACTED <kind>]` \
                 before you saw it. Do not try to reveal them. A command that needs a secret gets it with \
                 `portcullis run-with-secrets --env VAR=SOURCE -- COMMAND`.",
                found.len()
            ))
            .with_log_mark("redact", detail),
        _ => Verdict::allow()
            .with_context(format!(
                "[secret-guard] (warn mode) this output holds {} secret(s) ({kinds}). Do not repeat, \
                 store or send them.",
                found.len()
            ))
            .with_log_mark("warn", detail),
    })
}

/// PostToolUseFailure: the output of a failed call cannot be replaced (the event takes context only), so
/// Claude is told not to repeat what it saw, and the log records it.
pub(crate) fn failure(event: &Event, ctx: &Ctx) -> Result<Verdict> {
    let Some(error) = event.error.as_deref() else {
        return Ok(Verdict::allow());
    };
    let scanner = Scanner::new(files::project_values(&ctx.project));
    if !scanner.might_hold(error.as_bytes()) {
        return Ok(Verdict::allow());
    }
    let Some((_, findings)) = scanner.redact(error) else {
        return Ok(Verdict::allow());
    };
    let rules = ctx.section::<SecretGuardConfig>()?;
    if rules.redact == Mode::Off {
        return Ok(Verdict::allow());
    }
    let found: Vec<Located> = findings
        .into_iter()
        .map(|finding| Located {
            field: "error".into(),
            finding,
        })
        .collect();
    let detail = json!({
        "findings": found.iter().map(|l| json!({"kind": l.finding.kind, "field": l.field, "line": l.finding.line})).collect::<Vec<_>>(),
    });
    Ok(Verdict::allow()
        .with_context(format!(
            "[secret-guard] the output of this failed call holds {} secret(s) ({}), which the client does \
             not let a hook replace. Do not repeat, store or send them; use `portcullis run-with-secrets` \
             for commands that need secrets.",
            found.len(),
            kinds(&found)
        ))
        .with_log_mark("secret-seen", detail))
}

/// The kinds found, each once, in order.
fn kinds(found: &[Located]) -> String {
    let mut kinds: Vec<&str> = Vec::new();
    for l in found {
        if !kinds.contains(&l.finding.kind.as_str()) {
            kinds.push(&l.finding.kind);
        }
    }
    kinds.join(", ")
}

/// Redacts every string inside `value`, noting each finding with its field.
fn redact_value(scanner: &Scanner, value: &mut Value, field: &str, found: &mut Vec<Located>) {
    match value {
        Value::String(s) => {
            if let Some((out, findings)) = scanner.redact(s) {
                *s = out;
                found.extend(findings.into_iter().map(|finding| Located {
                    field: field.to_owned(),
                    finding,
                }));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                redact_value(scanner, item, &format!("{field}[{i}]"), found);
            }
        }
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                let name = if field.is_empty() {
                    k.clone()
                } else {
                    format!("{field}.{k}")
                };
                redact_value(scanner, v, &name, found);
            }
        }
        _ => {}
    }
}
