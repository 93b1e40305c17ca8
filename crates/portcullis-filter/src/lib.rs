//! portcullis-filter: large tool outputs made fit for the model (seed 002 §7.1, issue 37), for the two hooks
//! that answer with a tool's output, context-filter and secret-guard.
//!
//! [`large_output`] is the one answer both give for an output of at least
//! `context_filter.threshold_bytes`: read whole (Claude Code's saved copy when it cut the output at 30,000
//! bytes, PROTOCOL.md §5), filtered by what it is ([`filter`]), the result redacted
//! ([`portcullis_secrets::Scanner`]), put back in the tool's own shape, and the original saved byte for
//! byte in the session's state folder for the agent to read. Two hooks that answer `updatedToolOutput`
//! race in the client; answering the same bytes makes the race not matter.

mod config;
pub mod filter;

use std::fs;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use portcullis_core::config::Mode;
use portcullis_core::{Ctx, Event, Result};
use portcullis_secrets::{Scanner, files};
use serde_json::{Value, json};

pub use config::{ContextFilterConfig, KindSwitches, MIN_THRESHOLD_BYTES};
use filter::{Keep, Kind};

/// The most bytes read from a saved output (a runaway log is filtered from its first 64 MiB).
const MAX_SAVED_BYTES: u64 = 64 * 1024 * 1024;

/// A tool output as the model will see it, and what the decision log records of it (sizes, never text).
#[derive(Debug, Clone)]
pub struct Replacement {
    /// The output in the tool's own shape.
    pub output: Value,
    /// What the output was read as.
    pub kind: Kind,
    /// Bytes of the whole output.
    pub before: usize,
    /// Bytes of the text the model gets.
    pub after: usize,
    /// Where the whole output is kept, project-relative.
    pub saved: String,
    /// Secrets replaced in what the model gets.
    pub redacted: usize,
}

impl Replacement {
    /// The decision log's record of it.
    #[must_use]
    pub fn log_detail(&self) -> Value {
        json!({"kind": self.kind.as_str(), "bytes_before": self.before, "bytes_after": self.after, "saved": self.saved})
    }
}

/// Whether this tool's output is filtered: shell commands, web fetches and MCP tools (a file the
/// agent reads is what it asked for).
fn filters_tool(tool: Option<&str>) -> bool {
    tool.is_some_and(|t| matches!(t, "Bash" | "WebFetch") || t.starts_with("mcp__"))
}

/// The output the model should see instead of this PostToolUse's, when it is large: filtered, then
/// redacted, in the tool's shape, with the whole output saved. `None` when it is under the threshold, the
/// command asks for raw output, filtering saves nothing, or `context_filter.mode` is `off`. Both
/// context-filter and secret-guard answer with it, so the client's choice between them does not matter.
///
/// # Errors
/// A config that cannot be read, or a state folder that cannot be written.
pub fn large_output(event: &Event, ctx: &Ctx) -> Result<Option<Replacement>> {
    let Some(raw) = event.tool_response.as_ref() else {
        return Ok(None);
    };
    // The common case ends here, before config: JSON-escaped, the response is at least as long as its text.
    if raw.get().len() < MIN_THRESHOLD_BYTES || !filters_tool(event.tool()) {
        return Ok(None);
    }
    if ctx.section::<ContextFilterConfig>()?.mode != Mode::Enforce {
        return Ok(None);
    }
    replacement(event, ctx, true)
}

/// The replacement of a large output, `context_filter.mode` aside (warn mode's "what it would save"); the
/// whole output is saved only with `save_whole`.
///
/// # Errors
/// As [`large_output`].
pub fn replacement(event: &Event, ctx: &Ctx, save_whole: bool) -> Result<Option<Replacement>> {
    let Some(raw) = event.tool_response.as_ref() else {
        return Ok(None);
    };
    if !filters_tool(event.tool()) {
        return Ok(None);
    }
    let rules = ctx.section::<ContextFilterConfig>()?;
    let command = bash_command(event);
    if command
        .as_deref()
        .is_some_and(|c| c.contains(&rules.raw_marker))
    {
        return Ok(None);
    }
    let response: Value = serde_json::from_str(raw.get())
        .map_err(|e| portcullis_core::Error::BadEvent(format!("tool_response: {e}")))?;
    let Some(original) = original_output(&response) else {
        return Ok(None);
    };
    if original.bytes.len() < rules.threshold_bytes {
        return Ok(None);
    }
    let keep = Keep::new(&rules.keep).map_err(portcullis_core::Error::Other)?;
    let text = String::from_utf8_lossy(&original.bytes);
    let filtered = filter::filter(&text, command.as_deref(), &keep, &|k| {
        rules.kinds.enabled(k)
    });
    // Not worth a replacement unless it saves a tenth, or the client would show only a preview.
    if filtered.text.len() * 10 > original.bytes.len() * 9 && !original.persisted {
        return Ok(None);
    }
    let saved = if save_whole {
        save(event, ctx, &original.bytes)?
    } else {
        String::new()
    };
    let footer = format!(
        "[context-filter] {} output: {} bytes shown as {}; the whole output is in `{saved}` ({} bytes): Read \
         or grep it for anything not shown.",
        filtered.kind.as_str(),
        original.bytes.len(),
        filtered.text.len(),
        original.bytes.len()
    );
    let mut shown = filtered.text;
    if !shown.ends_with('\n') {
        shown.push('\n');
    }
    shown.push_str(&footer);
    let scanner = Scanner::new(files::project_values(&ctx.project));
    let mut redacted = 0;
    if scanner.might_hold(shown.as_bytes())
        && let Some((clean, findings)) = scanner.redact(&shown)
    {
        redacted = findings.len();
        shown = clean;
    }
    let after = shown.len();
    Ok(Some(Replacement {
        output: shaped(response, &original, shown),
        kind: filtered.kind,
        before: original.bytes.len(),
        after,
        saved,
        redacted,
    }))
}

/// The Bash command of the event, if it is a Bash call.
fn bash_command(event: &Event) -> Option<String> {
    match event.tool_input().ok()? {
        portcullis_core::ToolInput::Bash(b) => b.command,
        _ => None,
    }
}

/// Where the original output is in the tool's response.
#[derive(Debug)]
enum Place {
    /// Claude Code's Bash `{stdout, stderr, …}`.
    Shell,
    /// A response that is one string (Codex's shell output, some MCP tools).
    Whole,
    /// The longest string field, at this JSON pointer.
    Field(String),
}

/// The whole output of a call, as bytes.
#[derive(Debug)]
struct Original {
    bytes: Vec<u8>,
    place: Place,
    /// The client saved it to a file and would show the model only a preview.
    persisted: bool,
}

fn original_output(response: &Value) -> Option<Original> {
    match response {
        Value::String(s) => Some(Original {
            bytes: s.clone().into_bytes(),
            place: Place::Whole,
            persisted: false,
        }),
        Value::Object(o) if o.contains_key("stdout") => {
            if let Some(bytes) = o
                .get("persistedOutputPath")
                .and_then(Value::as_str)
                .and_then(|p| read_saved(Path::new(p)))
            {
                return Some(Original {
                    bytes,
                    place: Place::Shell,
                    persisted: true,
                });
            }
            let part = |k: &str| o.get(k).and_then(Value::as_str).unwrap_or_default();
            let mut text = part("stdout").to_owned();
            if !part("stderr").is_empty() {
                if !text.is_empty() && !text.ends_with('\n') {
                    text.push('\n');
                }
                text.push_str(part("stderr"));
            }
            Some(Original {
                bytes: text.into_bytes(),
                place: Place::Shell,
                persisted: false,
            })
        }
        other => {
            let (pointer, text) = longest_string(other, String::new())?;
            Some(Original {
                bytes: text.as_bytes().to_vec(),
                place: Place::Field(pointer),
                persisted: false,
            })
        }
    }
}

/// The client's saved copy of a large output: a regular file (never a FIFO or a device), read up to the
/// cap.
fn read_saved(path: &Path) -> Option<Vec<u8>> {
    let meta = fs::metadata(path).ok()?;
    if !meta.is_file() {
        return None;
    }
    let mut bytes = Vec::new();
    fs::File::open(path)
        .ok()?
        .take(MAX_SAVED_BYTES)
        .read_to_end(&mut bytes)
        .ok()?;
    Some(bytes)
}

/// The longest string in `v`, with its JSON pointer.
fn longest_string(v: &Value, at: String) -> Option<(String, &str)> {
    match v {
        Value::String(s) => Some((at, s)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| longest_string(item, format!("{at}/{i}")))
            .max_by_key(|(_, s)| s.len()),
        Value::Object(map) => map
            .iter()
            .filter_map(|(k, item)| {
                longest_string(
                    item,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                )
            })
            .max_by_key(|(_, s)| s.len()),
        _ => None,
    }
}

/// The response with its output replaced by `text`, in the same shape.
fn shaped(mut out: Value, original: &Original, text: String) -> Value {
    match &original.place {
        Place::Whole => Value::String(text),
        Place::Shell => {
            if let Some(o) = out.as_object_mut() {
                o.insert("stdout".into(), Value::String(text));
                o.insert("stderr".into(), Value::String(String::new()));
                // A replaced output is whole: the client has no preview of it to show.
                o.remove("persistedOutputPath");
                o.remove("persistedOutputSize");
            }
            out
        }
        Place::Field(pointer) => {
            if let Some(slot) = out.pointer_mut(pointer) {
                *slot = Value::String(text);
            }
            out
        }
    }
}

/// How long a session's saved outputs are kept when its end was never seen (a killed client).
const KEEP_OUTPUTS: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

/// The folder of a session's saved outputs, under the state folder's `sessions/`.
#[must_use]
pub fn outputs_folder(sessions: &Path, session: &str) -> PathBuf {
    sessions.join(session).join("outputs")
}

/// Removes the saved outputs of one session (at its end). A symlink in its place is left alone: only a
/// real folder of the state is removed.
pub fn remove_outputs(sessions: &Path, session: &str) {
    let folder = outputs_folder(sessions, session);
    if fs::symlink_metadata(&folder).is_ok_and(|m| m.is_dir()) {
        let _ = fs::remove_dir_all(&folder);
    }
}

/// Removes other sessions' saved outputs untouched for [`KEEP_OUTPUTS`]: their end was never seen.
fn prune_old_outputs(sessions: &Path, current: &str) {
    let Ok(entries) = fs::read_dir(sessions) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(session) = name.to_str().filter(|n| *n != current) else {
            continue;
        };
        let folder = outputs_folder(sessions, session);
        let old = fs::symlink_metadata(&folder)
            .ok()
            .filter(std::fs::Metadata::is_dir)
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > KEEP_OUTPUTS);
        if old {
            let _ = fs::remove_dir_all(&folder);
        }
    }
}

/// Keeps the whole output in the session's state folder; returns its project-relative path. The name is
/// the call's id, so both hooks that call this write the same file with the same bytes.
fn save(event: &Event, ctx: &Ctx, bytes: &[u8]) -> Result<String> {
    let session = ctx.state().session(event.session()?)?;
    let outputs = session.path().join("outputs");
    session.ensure()?;
    fs::create_dir_all(&outputs).map_err(|e| portcullis_core::Error::Io {
        action: "making the outputs folder",
        path: outputs.clone(),
        source: e,
    })?;
    let id = event
        .tool_use_id
        .as_deref()
        .filter(|id| portcullis_core::state::check_id(id).is_ok())
        .map_or_else(
            || {
                format!(
                    "{:016x}",
                    portcullis_core::state::stable_hash(bytes.iter().copied())
                )
            },
            str::to_owned,
        );
    let path: PathBuf = outputs.join(format!("{id}.txt"));
    portcullis_core::state::write_atomic(&path, bytes)?;
    prune_old_outputs(&ctx.state().path().join("sessions"), event.session()?);
    Ok(path
        .strip_prefix(&ctx.project)
        .unwrap_or(&path)
        .display()
        .to_string())
}
