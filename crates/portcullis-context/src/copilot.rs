//! How much of the context window a Copilot CLI session uses, from its `events.jsonl`
//! (PROTOCOL-COPILOT.md §8).

use std::io;
use std::path::{Path, PathBuf};

use portcullis_core::transcript::{ReverseLines, contains_quoted};
use portcullis_core::{Env, budget};
use serde_json::Value;

use crate::env_vars;
use crate::{Evidence, Measure};

/// The window assumed when neither the environment nor config names one: the Claude models Copilot
/// offers take 200,000 tokens, and its log names no window.
pub const COPILOT_DEFAULT_WINDOW: u64 = 200_000;

/// Copilot's config folder: `$COPILOT_HOME`, else `~/.copilot`.
#[must_use]
pub fn copilot_home(env: &Env) -> Option<PathBuf> {
    env.var(env_vars::COPILOT_HOME)
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            env.var("HOME")
                .filter(|h| !h.is_empty())
                .map(|h| Path::new(&h).join(".copilot"))
        })
}

/// A Copilot session's event log: `session-state/<session>/events.jsonl` in [`copilot_home`]. Copilot
/// names it only on Stop events; the others are measured by it too.
#[must_use]
pub fn session_events(env: &Env, session: &str) -> Option<PathBuf> {
    if session.is_empty() || session.contains(['/', '\\']) || session.starts_with('.') {
        return None;
    }
    Some(
        copilot_home(env)?
            .join("session-state")
            .join(session)
            .join("events.jsonl"),
    )
}

/// What a Copilot event log says: the newest `session.usage_record`'s tokens (`inputTokens`,
/// `cacheReadTokens`, `cacheWriteTokens` and `outputTokens`: the whole request and its answer) and model.
pub fn scan_copilot(path: &Path, cap: u64) -> io::Result<Evidence> {
    let file = portcullis_core::files::open_regular(path)?;
    let mut lines = ReverseLines::new(file, budget::REVERSE_BLOCK_BYTES, cap)?;
    let mut ev = Evidence::default();
    for line in lines.by_ref() {
        let line = line?;
        if !contains_quoted(&line, "session.usage_record") {
            continue;
        }
        let Ok(v) = serde_json::from_slice::<Value>(&line) else {
            ev.skipped += 1;
            continue;
        };
        let usage = &v["data"]["usage"];
        let part = |k: &str| usage[k].as_u64().unwrap_or(0);
        let used = part("inputTokens")
            + part("cacheReadTokens")
            + part("cacheWriteTokens")
            + part("outputTokens");
        ev.used = Some(used);
        ev.max_observed = used;
        ev.model = usage["model"].as_str().map(str::to_owned);
        break;
    }
    ev.scanned = lines.scanned();
    Ok(ev)
}

/// Measures a Copilot event log: the window from `PORTCULLIS_CONTEXT_WINDOW`, config, else
/// [`COPILOT_DEFAULT_WINDOW`]; Copilot's own compaction point is not in its log, so 90% of the window is
/// assumed, as for Codex.
pub fn measure_copilot(
    path: &Path,
    configured_window: Option<u64>,
    env: &Env,
) -> io::Result<Measure> {
    let ev = scan_copilot(path, budget::TRANSCRIPT_SCAN_BYTES)?;
    let window = crate::chosen_window(env, configured_window, None, COPILOT_DEFAULT_WINDOW);
    let autocompact = window.0 / 10 * 9;
    Ok(ev.into_measure(path, window, autocompact, portcullis_core::Client::Copilot))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::file;
    use serde_json::json;

    #[test]
    fn a_copilot_log_is_measured_from_its_newest_usage_record() {
        let usage = |input: u64| {
            json!({"type": "session.usage_record", "data": {"usage": {"model": "claude-sonnet-4.5",
            "inputTokens": input, "outputTokens": 100, "cacheReadTokens": 1_000, "cacheWriteTokens": 0}}})
        };
        let f = file(&[
            json!({"type": "session.start", "data": {"sessionId": "s"}}),
            usage(10_000),
            json!({"type": "assistant.message", "data": {"content": "session.usage_record"}}),
            usage(168_900),
            json!({"type": "assistant.turn_end", "data": {}}),
        ]);
        let m = measure_copilot(f.path(), None, &Env::default()).unwrap();
        assert_eq!(m.used_tokens, 170_000);
        assert!((m.percent - 85.0).abs() < 0.1, "{}", m.percent);
        assert_eq!(m.model.as_deref(), Some("claude-sonnet-4.5"));
        let env = Env::from_pairs([("HOME", "/h")]);
        assert_eq!(
            session_events(&env, "abc"),
            Some(PathBuf::from("/h/.copilot/session-state/abc/events.jsonl"))
        );
        assert_eq!(session_events(&env, "../x"), None);
    }
}
