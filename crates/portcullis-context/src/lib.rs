//! How much of the context window a session uses, from its transcript (PROTOCOL.md §9), from a Codex
//! rollout ([`codex`]), or from a Gemini session file ([`gemini`]). One measure for compaction-gate (the hook, `status` and `statusline`), feature-progress's
//! manifest and `portcullis progress`, so no hook crate depends on another.
//!
//! Used tokens are `input + cache_read + cache_creation + output` of the **last** assistant response of
//! the thread, read from the end of the file: `<synthetic>` and API-error entries are skipped, a response
//! split over several lines repeats its usage (the newest line wins), bookkeeping lines are ignored, and in a
//! main transcript `isSidechain` entries are skipped. When a `compact_boundary` comes before any response
//! (reading backwards), the figure is the post-compaction size (`compactMetadata.postTokens`, else an
//! estimate of what follows the boundary at four bytes per token).
//!
//! The scan stops as soon as it has the response and the `api-request` line before it (the request's betas
//! and `max_tokens`), and never reads more than [`budget::TRANSCRIPT_SCAN_BYTES`], so the cost does not
//! grow with the file.

use std::io;
use std::path::{Path, PathBuf};

use portcullis_core::Env;
use portcullis_core::budget;

use portcullis_core::transcript::{Entry, ReverseLines, contains_quoted};
use serde_json::Value;

pub mod codex;
pub mod copilot;
pub mod env_vars;
pub mod gemini;

/// Every environment variable the measure reads ([`env_vars`]).
pub const ENV_VARS: &[&str] = env_vars::ALL;

/// The default context window.
pub const DEFAULT_WINDOW: u64 = 200_000;
/// The window of 1M sessions.
pub const ONE_M_WINDOW: u64 = 1_000_000;
/// Claude Code's default output cap, used for the auto-compact point when no request says otherwise.
const DEFAULT_MAX_OUTPUT: u64 = 32_000;
/// After the response is found, how much further back the scan looks for its request line.
const REQUEST_LOOKBACK_BYTES: u64 = 4 * 1024 * 1024;

/// What the transcript says, before any window is chosen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Evidence {
    /// Tokens in use, `None` when no response and no compaction was found.
    pub used: Option<u64>,
    /// The figure comes from a compaction (no response since).
    pub after_compaction: bool,
    /// `message.model` of the last response.
    pub model: Option<String>,
    /// The session asked for a 1M window (`[1m]` model, the 1M beta, or a "1M context" model attachment).
    pub one_m: bool,
    /// The largest usage seen on the way.
    pub max_observed: u64,
    /// `max_tokens` of the request before the last response.
    pub max_output: Option<u64>,
    /// Codex: the newest `model_context_window` of the rollout.
    pub window: Option<u64>,
    /// Lines that looked relevant but did not parse (e.g. a half-written last line).
    pub skipped: usize,
    /// Bytes read.
    pub scanned: u64,
}

/// The figures for one thread.
#[derive(Debug, Clone, PartialEq)]
pub struct Measure {
    /// Tokens in use.
    pub used_tokens: u64,
    /// The window they are measured against.
    pub window_tokens: u64,
    /// Why that window.
    pub window_source: &'static str,
    /// `used / window` in percent.
    pub percent: f64,
    /// Where Claude Code will auto-compact.
    pub autocompact_tokens: u64,
    /// The model of the last response.
    pub model: Option<String>,
    /// The figure is the size right after a compaction.
    pub after_compaction: bool,
    /// No response (and no compaction) yet: `used_tokens` is 0 and means "nothing measured".
    pub empty: bool,
    /// The transcript read.
    pub transcript: PathBuf,
    /// Unparseable relevant lines skipped.
    pub skipped: usize,
    /// The client whose transcript it is (and who auto-compacts).
    pub client: portcullis_core::Client,
}

/// Which entries count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// A main transcript: skip `isSidechain` entries.
    Main,
    /// A subagent's own file: every entry is its own.
    Subagent,
}

/// Reads the evidence from the end of `path`.
pub fn scan(path: &Path, scope: Scope, cap: u64) -> io::Result<Evidence> {
    let file = portcullis_core::files::open_regular(path)?;
    let mut lines = ReverseLines::new(file, budget::REVERSE_BLOCK_BYTES, cap)?;
    let mut ev = Evidence::default();
    let mut found_at: Option<u64> = None;
    let mut have_request = false;
    let mut bytes_after_boundary: u64 = 0;
    while let Some(line) = lines.next() {
        let line = line?;
        if let Some(at) = found_at
            && (have_request || lines.scanned() - at > REQUEST_LOOKBACK_BYTES)
        {
            break;
        }
        let relevant = ["assistant", "compact_boundary", "api-request", "attachment"]
            .iter()
            .any(|k| contains_quoted(&line, k));
        if !relevant {
            if found_at.is_none() && contains_quoted(&line, "user") {
                bytes_after_boundary += line.len() as u64;
            }
            continue;
        }
        let Ok(entry) = serde_json::from_slice::<Entry>(&line) else {
            ev.skipped += 1;
            continue;
        };
        if scope == Scope::Main && entry.is_sidechain() {
            continue;
        }
        match entry.kind() {
            "assistant" => {
                let Some(message) = &entry.message else {
                    continue;
                };
                if message.model.as_deref() == Some("<synthetic>")
                    || entry.is_api_error_message == Some(true)
                {
                    continue;
                }
                let Some(u) = message.usage else { continue };
                let used = u.input_tokens
                    + u.cache_read_input_tokens
                    + u.cache_creation_input_tokens
                    + u.output_tokens;
                ev.max_observed = ev.max_observed.max(used);
                if entry
                    .requested_model
                    .as_deref()
                    .is_some_and(|m| m.ends_with("[1m]"))
                {
                    ev.one_m = true;
                }
                if found_at.is_none() {
                    ev.used = Some(used);
                    ev.model.clone_from(&message.model);
                    found_at = Some(lines.scanned());
                }
            }
            "system"
                if entry.subtype.as_deref() == Some("compact_boundary") && found_at.is_none() =>
            {
                let post = entry
                    .compact_metadata
                    .as_ref()
                    .and_then(|m| m.get("postTokens"))
                    .and_then(Value::as_u64);
                ev.used = Some(post.unwrap_or(bytes_after_boundary / 4));
                ev.after_compaction = true;
                found_at = Some(lines.scanned());
            }
            "api-request" => {
                let (one_m, max_output) = request_facts(entry.params.as_ref());
                ev.one_m |= one_m;
                if found_at.is_some() && !have_request {
                    have_request = true;
                    ev.max_output = max_output;
                }
            }
            "attachment" => ev.one_m |= is_1m_model_attachment(entry.attachment.as_ref()),
            _ => {}
        }
    }
    ev.scanned = lines.scanned();
    Ok(ev)
}

/// From an `api-request` line's params: whether the 1M beta is on, and `max_tokens`.
fn request_facts(params: Option<&Value>) -> (bool, Option<u64>) {
    let one_m = params
        .and_then(|p| p.get("betas"))
        .and_then(Value::as_array)
        .is_some_and(|b| {
            b.iter()
                .filter_map(Value::as_str)
                .any(|s| s.starts_with("context-1m"))
        });
    let max_output = params
        .and_then(|p| p.get("max_tokens"))
        .and_then(Value::as_u64);
    (one_m, max_output)
}

/// True for a `model` attachment whose marketing name says "1M context".
fn is_1m_model_attachment(attachment: Option<&Value>) -> bool {
    attachment
        .and_then(|a| a.get("type"))
        .and_then(Value::as_str)
        == Some("model")
        && attachment
            .and_then(|a| a.pointer("/identity/marketingName"))
            .and_then(Value::as_str)
            .is_some_and(|n| n.contains("1M context"))
}

/// The window for this evidence: `PORTCULLIS_CONTEXT_WINDOW`, then config, then detection.
#[must_use]
pub fn window(ev: &Evidence, configured: Option<u64>, env: &Env) -> (u64, &'static str) {
    if let Some(w) = env
        .var(env_vars::PORTCULLIS_CONTEXT_WINDOW)
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|w| *w > 0)
    {
        return (w, "PORTCULLIS_CONTEXT_WINDOW");
    }
    if let Some(w) = configured {
        return (w, "config");
    }
    if ev.max_observed > DEFAULT_WINDOW {
        return (ONE_M_WINDOW, "usage above 200K seen");
    }
    if env.var(env_vars::CLAUDE_CODE_DISABLE_1M_CONTEXT).as_deref() == Some("1") {
        return (DEFAULT_WINDOW, "CLAUDE_CODE_DISABLE_1M_CONTEXT");
    }
    if ev.one_m {
        return (ONE_M_WINDOW, "1M session");
    }
    if ev.model.as_deref().is_some_and(is_native_1m) {
        return (ONE_M_WINDOW, "1M model");
    }
    (DEFAULT_WINDOW, "default")
}

/// Models with a native 1M window on the Anthropic API (PROTOCOL.md §9): Sonnet 5, Fable 5, Opus 4.7+.
fn is_native_1m(model: &str) -> bool {
    let m = model.trim_start_matches("anthropic.");
    ["claude-sonnet-5", "claude-fable-5", "claude-opus-5"]
        .iter()
        .any(|p| m.starts_with(p))
        || m.strip_prefix("claude-opus-4-")
            .and_then(|rest| rest.split(['-', '@', '[']).next())
            .and_then(|minor| minor.parse::<u32>().ok())
            .is_some_and(|minor| (7..100).contains(&minor))
}

/// Where Claude Code auto-compacts (PROTOCOL.md §9): `effective = window − min(max_output, 20000)`,
/// threshold `effective − 13000`, or `min(floor(effective·p/100), effective − 13000)` with
/// `CLAUDE_AUTOCOMPACT_PCT_OVERRIDE=p`; `CLAUDE_CODE_AUTO_COMPACT_WINDOW` lowers the window first.
#[must_use]
pub fn autocompact_point(window: u64, max_output: Option<u64>, env: &Env) -> u64 {
    let window = env
        .var(env_vars::CLAUDE_CODE_AUTO_COMPACT_WINDOW)
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|w| *w > 0)
        .map_or(window, |w| w.min(window));
    let effective = window.saturating_sub(max_output.unwrap_or(DEFAULT_MAX_OUTPUT).min(20_000));
    let threshold = effective.saturating_sub(13_000);
    match env
        .var(env_vars::CLAUDE_AUTOCOMPACT_PCT_OVERRIDE)
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        Some(p) if p > 0 => (effective * p / 100).min(threshold),
        _ => threshold,
    }
}

/// Measures `path`.
pub fn measure(
    path: &Path,
    scope: Scope,
    configured_window: Option<u64>,
    env: &Env,
) -> io::Result<Measure> {
    let ev = scan(path, scope, budget::TRANSCRIPT_SCAN_BYTES)?;
    let window = window(&ev, configured_window, env);
    let autocompact = autocompact_point(window.0, ev.max_output, env);
    Ok(ev.into_measure(
        path,
        window,
        autocompact,
        portcullis_core::Client::ClaudeCode,
    ))
}

impl Evidence {
    /// The figures of `path` from what its scan found, against `(window, where it came from)`, with
    /// the client's auto-compaction point.
    fn into_measure(
        self,
        path: &Path,
        (window_tokens, window_source): (u64, &'static str),
        autocompact_tokens: u64,
        client: portcullis_core::Client,
    ) -> Measure {
        let used = self.used.unwrap_or(0);
        Measure {
            used_tokens: used,
            window_tokens,
            window_source,
            percent: percent(used, window_tokens),
            autocompact_tokens,
            model: self.model,
            after_compaction: self.after_compaction,
            empty: self.used.is_none(),
            transcript: path.to_path_buf(),
            skipped: self.skipped,
            client,
        }
    }
}

/// Measures a main thread's own transcript as `client` writes it: a Claude Code session transcript, a
/// Codex rollout, or a Gemini session file.
pub fn measure_main(
    path: &Path,
    client: portcullis_core::Client,
    configured_window: Option<u64>,
    env: &Env,
) -> io::Result<Measure> {
    match client {
        portcullis_core::Client::Codex => codex::measure_codex(path, configured_window, env),
        portcullis_core::Client::Gemini => gemini::measure_gemini(path, configured_window, env),
        portcullis_core::Client::Copilot => copilot::measure_copilot(path, configured_window, env),
        portcullis_core::Client::ClaudeCode => measure(path, Scope::Main, configured_window, env),
    }
}

/// The window a measure uses, and where it came from: `PORTCULLIS_CONTEXT_WINDOW`, then config, then what
/// the client's own file names (`detected`), then the client's `default`.
#[must_use]
pub fn chosen_window(
    env: &Env,
    configured: Option<u64>,
    detected: Option<u64>,
    default: u64,
) -> (u64, &'static str) {
    let from_env = env
        .var(env_vars::PORTCULLIS_CONTEXT_WINDOW)
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|w| *w > 0);
    match (from_env, configured, detected) {
        (Some(w), _, _) => (w, "PORTCULLIS_CONTEXT_WINDOW"),
        (None, Some(w), _) => (w, "config"),
        (None, None, Some(w)) => (w, "model_context_window"),
        (None, None, None) => (default, "default"),
    }
}

/// `used / window` in percent, one decimal's worth of precision.
#[must_use]
pub fn percent(used: u64, window: u64) -> f64 {
    if window == 0 {
        return 0.0;
    }
    (used as f64 * 1000.0 / window as f64).round() / 10.0
}

/// `176000` → `176K`, `1000000` → `1M`, `1500` → `1.5K`.
#[must_use]
pub fn short_tokens(n: u64) -> String {
    if n >= 1_000_000 && n.is_multiple_of(1_000_000) {
        format!("{}M", n / 1_000_000)
    } else if n >= 1_000_000 {
        format!("{:.2}M", n as f64 / 1e6)
    } else if n >= 10_000 {
        format!("{}K", (n + 500) / 1000)
    } else if n >= 1000 {
        format!("{:.1}K", n as f64 / 1e3)
    } else {
        n.to_string()
    }
}

/// The transcript of a subagent: `<session transcript without .jsonl>/subagents/agent-<id>.jsonl`.
#[must_use]
pub fn subagent_transcript(main: &Path, agent_id: &str) -> PathBuf {
    main.with_extension("")
        .join("subagents")
        .join(format!("agent-{agent_id}.jsonl"))
}

/// `~/.claude/projects/<encoded>/` for a project: every non-alphanumeric character becomes `-`.
#[must_use]
pub fn project_sessions_dir(claude_home: &Path, project: &Path) -> PathBuf {
    let encoded: String = project
        .display()
        .to_string()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    claude_home.join("projects").join(encoded)
}

/// The newest `*.jsonl` directly in `dir`.
#[must_use]
pub fn newest_transcript(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl") && p.is_file())
        .max_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::io::Write;

    /// A temp file of `lines`, one JSON value each (a transcript or a rollout).
    pub(crate) fn file(lines: &[Value]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        for l in lines {
            writeln!(f, "{l}").unwrap();
        }
        f
    }

    fn reply(input: u64, cache_read: u64, output: u64) -> Value {
        json!({"type": "assistant", "isSidechain": false, "requestRef": "r",
               "message": {"id": "m", "model": "claude-sonnet-4-5", "content": [],
                           "usage": {"input_tokens": input, "cache_read_input_tokens": cache_read,
                                     "cache_creation_input_tokens": 1, "output_tokens": output}}})
    }

    fn scan_of(lines: &[Value]) -> Evidence {
        let f = file(lines);
        scan(f.path(), Scope::Main, budget::TRANSCRIPT_SCAN_BYTES).unwrap()
    }

    #[test]
    fn the_last_main_response_counts_with_all_four_parts() {
        let ev = scan_of(&[reply(10, 20, 3), reply(100, 50_000, 7)]);
        assert_eq!(ev.used, Some(100 + 50_000 + 1 + 7));
        assert_eq!(ev.model.as_deref(), Some("claude-sonnet-4-5"));
    }

    #[test]
    fn sidechain_synthetic_api_errors_and_bookkeeping_are_skipped() {
        let mut side = reply(150_000, 0, 0);
        side["isSidechain"] = json!(true);
        let mut synthetic = reply(0, 0, 0);
        synthetic["message"]["model"] = json!("<synthetic>");
        let mut error = reply(1, 0, 0);
        error["isApiErrorMessage"] = json!(true);
        let blob = json!({"type": "api-request-blob", "message": {"role": "assistant", "usage": {"input_tokens": 9}}});
        let ev = scan_of(&[reply(1000, 0, 0), side, synthetic, error, blob]);
        assert_eq!(ev.used, Some(1001));
    }

    #[test]
    fn after_a_compaction_with_no_reply_the_post_compaction_size_counts() {
        let boundary = json!({"type": "system", "subtype": "compact_boundary",
                              "compactMetadata": {"trigger": "manual", "preTokens": 170_000, "postTokens": 2709}});
        let summary = json!({"type": "user", "isCompactSummary": true, "message": {"role": "user", "content": "x"}});
        let ev = scan_of(&[reply(170_000, 0, 0), boundary.clone(), summary.clone()]);
        assert_eq!(ev.used, Some(2709));
        assert!(ev.after_compaction);
        // A reply after the boundary is the figure again.
        let ev = scan_of(&[reply(170_000, 0, 0), boundary, summary, reply(3000, 0, 10)]);
        assert_eq!(ev.used, Some(3011));
        assert!(!ev.after_compaction);
    }

    #[test]
    fn a_boundary_without_post_tokens_is_estimated_from_what_follows() {
        let boundary =
            json!({"type": "system", "subtype": "compact_boundary", "compactMetadata": {}});
        let summary =
            json!({"type": "user", "message": {"role": "user", "content": "y".repeat(4000)}});
        let ev = scan_of(&[reply(170_000, 0, 0), boundary, summary]);
        let used = ev.used.unwrap();
        assert!((1000..1100).contains(&used), "{used}");
    }

    #[test]
    fn one_m_is_detected_from_requested_model_betas_attachment_and_usage() {
        let env = Env::from_pairs([]);
        let mut r = reply(1000, 0, 0);
        r["requestedModel"] = json!("sonnet[1m]");
        assert_eq!(window(&scan_of(&[r]), None, &env).0, ONE_M_WINDOW);
        let req = json!({"type": "api-request", "params": {"betas": ["context-1m-2025-08-07"], "max_tokens": 64000}});
        let ev = scan_of(&[req, reply(1000, 0, 0)]);
        assert_eq!(window(&ev, None, &env).0, ONE_M_WINDOW);
        assert_eq!(ev.max_output, Some(64000));
        let att = json!({"type": "attachment", "attachment": {"type": "model", "identity": {"marketingName": "Opus 4.6 (1M context)"}}});
        assert_eq!(
            window(&scan_of(&[att, reply(1000, 0, 0)]), None, &env).0,
            ONE_M_WINDOW
        );
        assert_eq!(
            window(&scan_of(&[reply(250_000, 0, 0)]), None, &env),
            (ONE_M_WINDOW, "usage above 200K seen")
        );
        assert_eq!(
            window(&scan_of(&[reply(1000, 0, 0)]), None, &env),
            (DEFAULT_WINDOW, "default")
        );
    }

    #[test]
    fn env_beats_config_beats_detection() {
        let ev = scan_of(&[reply(250_000, 0, 0)]);
        let env = Env::from_pairs([("PORTCULLIS_CONTEXT_WINDOW", "500000")]);
        assert_eq!(window(&ev, Some(300_000), &env).0, 500_000);
        assert_eq!(window(&ev, Some(300_000), &Env::from_pairs([])).0, 300_000);
        let no_1m = Env::from_pairs([("CLAUDE_CODE_DISABLE_1M_CONTEXT", "1")]);
        let mut r = reply(1000, 0, 0);
        r["requestedModel"] = json!("sonnet[1m]");
        assert_eq!(window(&scan_of(&[r]), None, &no_1m).0, DEFAULT_WINDOW);
    }

    #[test]
    fn native_1m_models() {
        for m in [
            "claude-sonnet-5",
            "claude-opus-4-7",
            "claude-opus-4-8-20261001",
            "claude-fable-5-1",
        ] {
            assert!(is_native_1m(m), "{m}");
        }
        for m in [
            "claude-sonnet-4-5",
            "claude-opus-4-6",
            "claude-opus-4-1",
            "claude-haiku-4-5",
        ] {
            assert!(!is_native_1m(m), "{m}");
        }
    }

    #[test]
    fn autocompact_matches_the_client_formula() {
        let env = Env::from_pairs([]);
        // 200K, 32K max output: 200000 - 20000 - 13000.
        assert_eq!(autocompact_point(200_000, None, &env), 167_000);
        assert_eq!(autocompact_point(1_000_000, Some(32_000), &env), 967_000);
        assert_eq!(autocompact_point(200_000, Some(8_000), &env), 179_000);
        let pct = Env::from_pairs([("CLAUDE_AUTOCOMPACT_PCT_OVERRIDE", "50")]);
        assert_eq!(autocompact_point(200_000, None, &pct), 90_000);
        let small = Env::from_pairs([("CLAUDE_CODE_AUTO_COMPACT_WINDOW", "100000")]);
        assert_eq!(autocompact_point(200_000, None, &small), 67_000);
    }

    #[test]
    fn a_truncated_last_line_is_skipped_and_the_one_before_counts() {
        let f = file(&[reply(5000, 0, 0)]);
        let mut bytes = std::fs::read(f.path()).unwrap();
        let half = reply(9, 9, 9).to_string();
        bytes.extend_from_slice(&half.as_bytes()[..half.len() / 2]);
        std::fs::write(f.path(), bytes).unwrap();
        let ev = scan(f.path(), Scope::Main, budget::TRANSCRIPT_SCAN_BYTES).unwrap();
        assert_eq!(ev.used, Some(5001));
        assert_eq!(ev.skipped, 1);
    }

    #[test]
    fn the_scan_stops_once_it_has_the_reply_and_its_request() {
        let filler =
            json!({"type": "attachment", "attachment": {"type": "x", "pad": "p".repeat(100_000)}});
        let mut lines = vec![filler; 50];
        lines.push(json!({"type": "api-request", "params": {"max_tokens": 8000}}));
        lines.push(reply(1000, 0, 0));
        let ev = scan_of(&lines);
        assert_eq!(ev.max_output, Some(8000));
        assert!(ev.scanned < 300_000, "scanned {}", ev.scanned);
    }

    #[test]
    fn short_token_figures() {
        assert_eq!(short_tokens(176_000), "176K");
        assert_eq!(short_tokens(1_000_000), "1M");
        assert_eq!(short_tokens(1500), "1.5K");
        assert_eq!(short_tokens(999), "999");
        assert!((percent(176_000, 200_000) - 88.0).abs() < 1e-9);
        assert!(percent(1, 0).abs() < 1e-9);
    }
}
