//! How much of the context window a Gemini CLI session uses, from its session file (PROTOCOL-GEMINI.md §8).

use std::io;
use std::path::Path;

use portcullis_core::transcript::{ReverseLines, contains_quoted};
use portcullis_core::{Env, budget};
use serde_json::Value;

use crate::{Evidence, Measure};

/// The window of Gemini's 2.5 models (1,048,576 tokens), when neither the environment nor config names one.
pub const GEMINI_DEFAULT_WINDOW: u64 = 1_048_576;

/// What a Gemini session file says: the newest `gemini` record's `tokens` (`input` is the whole prompt the
/// model was sent, cached tokens included; `output` what it answered) and its `model`. A record rewritten
/// later is appended again, so the newest line is its last state.
pub fn scan_gemini(path: &Path, cap: u64) -> io::Result<Evidence> {
    let file = portcullis_core::files::open_regular(path)?;
    let mut lines = ReverseLines::new(file, budget::REVERSE_BLOCK_BYTES, cap)?;
    let mut ev = Evidence::default();
    for line in lines.by_ref() {
        let line = line?;
        if !contains_quoted(&line, "tokens") || !contains_quoted(&line, "gemini") {
            continue;
        }
        let Ok(v) = serde_json::from_slice::<Value>(&line) else {
            ev.skipped += 1;
            continue;
        };
        if v["type"] != "gemini" {
            continue;
        }
        let tokens = &v["tokens"];
        let part = |k: &str| tokens[k].as_u64().unwrap_or(0);
        let used = part("input") + part("output") + part("thoughts");
        if used == 0 {
            continue;
        }
        ev.used = Some(used);
        ev.max_observed = used;
        ev.model = v["model"].as_str().map(str::to_owned);
        break;
    }
    ev.scanned = lines.scanned();
    Ok(ev)
}

/// Measures a Gemini session file: the window from `PORTCULLIS_CONTEXT_WINDOW`, config, else
/// [`GEMINI_DEFAULT_WINDOW`]. Gemini compresses its history at half the window by default
/// (`model.compressionThreshold` 0.5), so that is the auto-compaction point.
pub fn measure_gemini(
    path: &Path,
    configured_window: Option<u64>,
    env: &Env,
) -> io::Result<Measure> {
    let ev = scan_gemini(path, budget::TRANSCRIPT_SCAN_BYTES)?;
    let window = crate::chosen_window(env, configured_window, None, GEMINI_DEFAULT_WINDOW);
    let autocompact = window.0 / 2;
    Ok(ev.into_measure(path, window, autocompact, portcullis_core::Client::Gemini))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::file;
    use serde_json::json;

    #[test]
    fn a_gemini_session_is_measured_from_its_newest_answer() {
        let answer = |id: &str, input: u64| {
            json!({"id": id, "type": "gemini", "content": "ok", "model": "gemini-2.5-pro",
            "tokens": {"input": input, "output": 100, "cached": 0, "thoughts": 0, "tool": 0, "total": input + 100}})
        };
        let f = file(&[
            json!({"sessionId": "s", "kind": "main"}),
            answer("1", 10_000),
            json!({"id": "2", "type": "user", "content": [{"text": "tokens"}]}),
            answer("3", 891_000),
            json!({"$set": {"lastUpdated": "t"}}),
        ]);
        let m = measure_gemini(f.path(), None, &Env::default()).unwrap();
        assert_eq!(m.used_tokens, 891_100);
        assert_eq!(m.window_tokens, GEMINI_DEFAULT_WINDOW);
        assert_eq!(m.model.as_deref(), Some("gemini-2.5-pro"));
        assert!((m.percent - 85.0).abs() < 0.1, "{}", m.percent);
        let empty = file(&[json!({"sessionId": "s", "kind": "main"})]);
        assert!(
            measure_gemini(empty.path(), None, &Env::default())
                .unwrap()
                .empty
        );
    }
}
