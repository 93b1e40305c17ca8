//! How much of the context window a Codex thread uses, from its rollout (PROTOCOL-CODEX.md §7).

use std::io;
use std::path::Path;

use portcullis_core::transcript::{ReverseLines, contains_quoted};
use portcullis_core::{Env, budget};
use serde_json::Value;

use crate::{Evidence, Measure};

/// Codex's window when its rollout names none.
pub const CODEX_DEFAULT_WINDOW: u64 = 258_400;

/// What a Codex rollout says (PROTOCOL-CODEX.md §7): the last `token_usage_record`'s
/// `usage.total_tokens` (what Codex calls the tokens in the context window; one record per model response,
/// written before that response's tool calls reach the hooks) and the newest `model_context_window`
/// (`task_started`, `token_count`). A `compacted` line newer than any record means the thread was just
/// compacted: its size is estimated from the replacement history at four bytes per token.
pub fn scan_codex(path: &Path, cap: u64) -> io::Result<Evidence> {
    let file = portcullis_core::files::open_regular(path)?;
    let mut lines = ReverseLines::new(file, budget::REVERSE_BLOCK_BYTES, cap)?;
    let mut ev = Evidence::default();
    let mut window: Option<u64> = None;
    for line in lines.by_ref() {
        let line = line?;
        let record = contains_quoted(&line, "token_usage_record");
        let compacted = contains_quoted(&line, "compacted");
        let names_window = memchr::memmem::find(&line, b"\"model_context_window\"").is_some();
        if !(record || compacted || names_window) {
            continue;
        }
        let Ok(v) = serde_json::from_slice::<Value>(&line) else {
            ev.skipped += 1;
            continue;
        };
        let payload = &v["payload"];
        match v["type"].as_str() {
            Some("token_usage_record") if ev.used.is_none() => {
                if let Some(total) = payload
                    .pointer("/usage/total_tokens")
                    .and_then(Value::as_u64)
                {
                    ev.used = Some(total);
                    ev.max_observed = ev.max_observed.max(total);
                }
            }
            Some("compacted") if ev.used.is_none() => {
                let history = payload
                    .get("replacement_history")
                    .map_or(0, |h| h.to_string().len());
                ev.used = Some(history as u64 / 4);
                ev.after_compaction = true;
            }
            _ => {}
        }
        if window.is_none() {
            window = payload
                .get("model_context_window")
                .or_else(|| payload.pointer("/info/model_context_window"))
                .and_then(Value::as_u64)
                .filter(|w| *w > 0);
        }
        if ev.used.is_some() && window.is_some() {
            break;
        }
    }
    ev.window = window;
    ev.scanned = lines.scanned();
    Ok(ev)
}

/// Measures a Codex rollout: the window from `PORTCULLIS_CONTEXT_WINDOW`, config, the rollout, else
/// [`CODEX_DEFAULT_WINDOW`]; Codex compacts at about 90% of it unless `model_auto_compact_token_limit` is
/// set (which the rollout does not record).
pub fn measure_codex(
    path: &Path,
    configured_window: Option<u64>,
    env: &Env,
) -> io::Result<Measure> {
    let ev = scan_codex(path, budget::TRANSCRIPT_SCAN_BYTES)?;
    let window = crate::chosen_window(env, configured_window, ev.window, CODEX_DEFAULT_WINDOW);
    let autocompact = window.0 / 10 * 9;
    Ok(ev.into_measure(path, window, autocompact, portcullis_core::Client::Codex))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::file;
    use serde_json::json;

    #[test]
    fn a_codex_rollout_is_measured_from_its_last_usage_record_and_window() {
        let record = |total: u64| json!({"timestamp": "t", "type": "token_usage_record", "payload": {"turn_id": "x", "usage": {"input_tokens": total - 20, "cached_input_tokens": 0, "output_tokens": 20, "total_tokens": total}}});
        let window = json!({"timestamp": "t", "type": "event_msg", "payload": {"type": "task_started", "model_context_window": 258_400}});
        let f = file(&[
            window.clone(),
            record(1_000),
            json!({"timestamp": "t", "type": "event_msg", "payload": {"type": "token_count", "info": {"model_context_window": 258_400}}}),
            record(219_640),
            json!({"type": "response_item", "payload": {"type": "function_call"}}),
        ]);
        let m = measure_codex(f.path(), None, &Env::default()).unwrap();
        assert_eq!(m.used_tokens, 219_640);
        assert_eq!(m.window_tokens, 258_400);
        assert_eq!(m.window_source, "model_context_window");
        assert!((m.percent - 85.0).abs() < 0.1, "{}", m.percent);
        let empty = file(&[window]);
        assert!(
            measure_codex(empty.path(), None, &Env::default())
                .unwrap()
                .empty
        );
        let compacted = file(&[
            record(250_000),
            json!({"type": "compacted", "payload": {"message": "m", "replacement_history": ["x"]}}),
        ]);
        let m = measure_codex(compacted.path(), Some(100_000), &Env::default()).unwrap();
        assert!(m.after_compaction && m.used_tokens < 10);
        assert_eq!(m.window_source, "config");
    }
}
