//! The targets. Each returns `Err` when a property fails; panics are caught by the driver.
//!
//! - [`decide`]: any bytes as stdin: parse, then the `decide` of every hook in the registry (through the stop chain, as the run loop does) and the
//!   rendering in the dialect of the client recognised, in one project. Property: a rendered verdict is a
//!   JSON object that serialises.
//! - [`transcript`]: the backwards line reader on any bytes, block size and byte cap. Properties: it never
//!   reads past its cap, and it yields exactly what a naive forward reader of the same bytes yields.
//! - [`config`]: any bytes as a config file, checked against every section of the suite. Property: an
//!   accepted config serialises and reads back equal.
//! - [`verdict`]: verdicts built from the bytes, rendered for every event, in both dialects. Properties: the
//!   JSON round-trips, a block shows as the event's block form with its reason, `hookEventName` names the
//!   event; in Codex's, a deny or block always carries a non-empty reason and no field Codex refuses
//!   (`ask`, `updatedToolOutput`, an allow without `updatedInput`).
//! - [`shell`]: a command from the bytes. Properties: the analysis ends without a panic (the hooks abort on
//!   one, and a crashed agent-first is an allow), reports only literal paths, and finds nothing in a
//!   command the pre-filter turns away.
//! - [`similarity`]: two texts cut from the bytes. Properties: the bounded distance and the bit-parallel
//!   band agree with the plain dynamic programme, and `is_similar` with the plain similarity.

use std::io::{Cursor, Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::OnceLock;

use portcullis_core::config::{Config, Schema};
use portcullis_core::transcript::ReverseLines;
use portcullis_core::verdict::{takes_block_decision, takes_permission_decision};
use portcullis_core::{Client, Ctx, Decision, Event, EventName, HookSpec, Verdict};
use serde_json::Value;

fn project() -> &'static PathBuf {
    static PROJECT: OnceLock<PathBuf> = OnceLock::new();
    PROJECT.get_or_init(|| {
        let dir =
            tempfile::tempdir().map_or_else(|_| std::env::temp_dir(), tempfile::TempDir::keep);
        let root = dir.join("project");
        let _ = std::fs::create_dir_all(root.join(".claude/agents"));
        let _ = std::fs::create_dir_all(root.join("api"));
        let _ = std::fs::write(
            root.join(".claude/agents/backend-developer.md"),
            "---\nname: backend-developer\n---\n",
        );
        root
    })
}

fn fuzz_config() -> Config {
    // An advisor that answers nothing: escalation takes its fallback without starting a model.
    Config::default().with_section(&escalation_advisor::EscalationAdvisorConfig {
        command: vec!["true".into()],
        ..Default::default()
    })
}

fn run_hook(hook: &HookSpec, event: &Event) -> Result<(), String> {
    let ctx = Ctx::for_test(hook.name, project(), fuzz_config());
    let Ok(verdict) = portcullis_core::run::decide_with(hook.decide, event, &ctx) else {
        return Ok(());
    };
    if let Some(json) = verdict.render_for(&event.name(), event.client) {
        if !json.is_object() {
            return Err(format!("{}: rendered {json}", hook.name));
        }
        serde_json::to_string(&json).map_err(|e| format!("{}: {e}", hook.name))?;
    }
    Ok(())
}

/// Event parsing and the decision of every hook in the registry.
pub fn decide(bytes: &[u8]) -> Result<(), String> {
    let Ok(event) = Event::parse(bytes) else {
        return Ok(());
    };
    let _ = portcullis_core::warnings::take();
    for hook in portcullis_suite::HOOKS {
        run_hook(hook, &event)?;
    }
    Ok(())
}

/// A reader that counts what it reads.
struct Counting<R> {
    inner: R,
    read: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

impl<R: Seek> Seek for Counting<R> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// What the backwards reader must yield for `bytes` with `cap`: the non-empty lines of the last `cap`
/// bytes, newest first; when the cap cuts the file, the first (possibly partial) line of the window is
/// left out.
#[must_use]
pub fn naive_lines(bytes: &[u8], cap: u64) -> Vec<Vec<u8>> {
    let len = bytes.len() as u64;
    let window = cap.min(len);
    let start = usize::try_from(len - window).unwrap_or(0);
    let mut region = &bytes[start..];
    if window < len {
        region = match region.iter().position(|&b| b == b'\n') {
            Some(nl) => &region[nl + 1..],
            None => &[],
        };
    }
    let mut lines: Vec<Vec<u8>> = region
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    lines.reverse();
    lines
}

/// The transcript tail reader against the naive reader, within its bound.
pub fn transcript(bytes: &[u8]) -> Result<(), String> {
    let (params, body) = bytes.split_at(bytes.len().min(2));
    let block = 1 + usize::from(params.first().copied().unwrap_or(0)) % 97;
    let cap = match params.get(1) {
        Some(&c) if c < 200 => u64::from(c) * 7,
        _ => u64::MAX,
    };
    let mut reader = Counting {
        inner: Cursor::new(body.to_vec()),
        read: 0,
    };
    let lines: Vec<Vec<u8>> = ReverseLines::new(&mut reader, block, cap)
        .map_err(|e| e.to_string())?
        .collect::<std::io::Result<_>>()
        .map_err(|e| e.to_string())?;
    if reader.read > cap {
        return Err(format!("read {} bytes past the cap of {cap}", reader.read));
    }
    let expected = naive_lines(body, cap);
    if lines != expected {
        return Err(format!(
            "block {block}, cap {cap}: got {} lines, naive {}",
            lines.len(),
            expected.len()
        ));
    }
    Ok(())
}

/// Config parsing: accepted configs round-trip.
pub fn config(bytes: &[u8]) -> Result<(), String> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Ok(());
    };
    let path = std::path::Path::new("fuzz.json");
    let sections = portcullis_suite::sections();
    let schema = Schema::suite(&sections);
    let Ok(config) = Config::from_text(path, text, schema) else {
        return Ok(());
    };
    let again = config.to_value().to_string();
    let back = Config::from_text(path, &again, schema).map_err(|e| format!("{e}: {again}"))?;
    if back != config {
        return Err(format!("round trip changed the config: {again}"));
    }
    Ok(())
}

const EVENTS: &[&str] = &[
    "PreToolUse",
    "PostToolUse",
    "PostToolUseFailure",
    "Stop",
    "SubagentStop",
    "UserPromptSubmit",
    "SessionStart",
    "PermissionRequest",
    "PreCompact",
    "Notification",
    "SomethingNew",
];

/// Verdict rendering for every event.
pub fn verdict(bytes: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(bytes);
    let mut parts = text.split('|');
    let kind = bytes.first().copied().unwrap_or(0);
    let mut v = match kind % 4 {
        0 => Verdict::allow(),
        1 => Verdict::block(parts.next().unwrap_or_default()),
        2 => Verdict::ask(parts.next().unwrap_or_default()),
        _ => Verdict::block(parts.next().unwrap_or_default())
            .merge(Verdict::block(parts.next().unwrap_or_default())),
    };
    if kind & 16 != 0 {
        v = v.with_context(parts.next().unwrap_or_default());
    }
    if kind & 32 != 0 {
        v = v.with_user_message(parts.next().unwrap_or_default());
    }
    if kind & 64 != 0 {
        v = v.with_updated_tool_output(Value::String(parts.next().unwrap_or_default().into()));
    }
    if kind & 128 != 0 {
        v = v.with_updated_input(serde_json::json!({"command": parts.next().unwrap_or_default()}));
    }
    codex_dialect(&v)?;
    gemini_dialect(&v)?;
    copilot_dialect(&v)?;
    for name in EVENTS {
        let event = EventName::parse(name);
        let Some(json) = v.render(&event) else {
            if v.decision != Decision::Allow && takes_block_decision(&event) {
                return Err(format!("{name}: a block rendered to nothing"));
            }
            continue;
        };
        let s = serde_json::to_string(&json).map_err(|e| e.to_string())?;
        let back: Value = serde_json::from_str(&s).map_err(|e| e.to_string())?;
        if back != json || !json.is_object() {
            return Err(format!("{name}: {s} does not round-trip"));
        }
        if let Some(h) = json.get("hookSpecificOutput")
            && h["hookEventName"] != *name
        {
            return Err(format!("{name}: hookEventName {}", h["hookEventName"]));
        }
        if v.decision == Decision::Block {
            let shown = if takes_permission_decision(&event) {
                json["hookSpecificOutput"]["permissionDecision"] == "deny"
            } else if takes_block_decision(&event) {
                json["decision"] == "block" && json["reason"].is_string()
            } else {
                true
            };
            if !shown {
                return Err(format!("{name}: the block is not shown: {s}"));
            }
        }
    }
    Ok(())
}

/// The Codex dialect of `v` on every Codex event: what Codex's parser refuses never appears, and a deny or
/// block carries a non-empty reason.
fn codex_dialect(v: &Verdict) -> Result<(), String> {
    for name in portcullis_core::client::CODEX_EVENTS {
        let Some(json) = v.render_for(&EventName::parse(name), Client::Codex) else {
            continue;
        };
        let s = json.to_string();
        let hso = &json["hookSpecificOutput"];
        let refused = s.contains("\"updatedToolOutput\"")
            || hso["permissionDecision"] == "ask"
            || (hso["permissionDecision"] == "allow" && hso.get("updatedInput").is_none())
            || (hso.get("updatedInput").is_some() && hso["permissionDecision"] != "allow");
        if refused {
            return Err(format!("Codex {name}: {s} holds a field Codex refuses"));
        }
        let reason = if hso["permissionDecision"] == "deny" {
            &hso["permissionDecisionReason"]
        } else if json["decision"] == "block" {
            &json["reason"]
        } else {
            continue;
        };
        if reason.as_str().is_none_or(|r| r.trim().is_empty()) {
            return Err(format!("Codex {name}: {s} refuses without a reason"));
        }
    }
    Ok(())
}

/// The Gemini dialect of `v` on every Gemini event: no Claude-only field (Gemini ignores them, and a
/// `permissionDecision` deny runs the tool), a held call or turn end is a top-level decision with a
/// non-empty reason, a prompt is never denied, and `hookEventName` is Gemini's name.
fn gemini_dialect(v: &Verdict) -> Result<(), String> {
    for name in portcullis_core::client::GEMINI_EVENTS {
        let Some(json) = v.render_for(&EventName::parse(name), Client::Gemini) else {
            if v.decision != Decision::Allow && matches!(*name, "PreToolUse" | "Stop") {
                return Err(format!("Gemini {name}: a block rendered to nothing"));
            }
            continue;
        };
        let s = json.to_string();
        if s.contains("\"permissionDecision\"") || s.contains("\"updatedToolOutput\"") {
            return Err(format!("Gemini {name}: {s} holds a field Gemini ignores"));
        }
        let native = portcullis_core::gemini::native_event(name).unwrap_or_default();
        if let Some(h) = json.get("hookSpecificOutput")
            && h["hookEventName"] != native
        {
            return Err(format!(
                "Gemini {name}: hookEventName {}",
                h["hookEventName"]
            ));
        }
        if json.get("decision").is_some() && *name == "UserPromptSubmit" {
            return Err(format!("Gemini {name}: {s} would discard the prompt"));
        }
        let held = v.decision != Decision::Allow && matches!(*name, "PreToolUse" | "Stop");
        if held && json["reason"].as_str().is_none_or(|r| r.trim().is_empty()) {
            return Err(format!("Gemini {name}: {s} holds without a reason"));
        }
    }
    Ok(())
}

/// The Copilot dialect of `v` on every Copilot event: a held call is a `permissionDecision` deny with a
/// reason, a held stop a top-level block with one, a prompt is never refused (Copilot would end the run),
/// and `hookSpecificOutput` appears on PreToolUse alone (Copilot reads it nowhere else).
fn copilot_dialect(v: &Verdict) -> Result<(), String> {
    for name in portcullis_core::client::COPILOT_EVENTS {
        let Some(json) = v.render_for(&EventName::parse(name), Client::Copilot) else {
            if v.decision != Decision::Allow && matches!(*name, "PreToolUse" | "Stop") {
                return Err(format!("Copilot {name}: a block rendered to nothing"));
            }
            continue;
        };
        let s = json.to_string();
        if json.get("hookSpecificOutput").is_some() && *name != "PreToolUse" {
            return Err(format!("Copilot {name}: {s} holds a field Copilot ignores"));
        }
        if json.get("decision").is_some() && matches!(*name, "UserPromptSubmit" | "PreToolUse") {
            return Err(format!(
                "Copilot {name}: {s} would end the run or be ignored"
            ));
        }
        let reason = match *name {
            "PreToolUse" if v.decision != Decision::Allow => {
                &json["hookSpecificOutput"]["permissionDecisionReason"]
            }
            "Stop" | "SubagentStop" if v.decision != Decision::Allow => &json["reason"],
            _ => continue,
        };
        if reason.as_str().is_none_or(|r| r.trim().is_empty()) {
            return Err(format!("Copilot {name}: {s} holds without a reason"));
        }
    }
    Ok(())
}

/// The similarity bounds against the plain dynamic programme.
pub fn similarity(bytes: &[u8]) -> Result<(), String> {
    use loop_detect::similarity as sim;
    let cut = bytes
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(bytes.len() / 2);
    let (a, b) = bytes.split_at(cut);
    let b = b.get(1..).unwrap_or_default();
    // The plain programme is quadratic: keep the compared texts short enough to check every case.
    let (a, b) = (&a[..a.len().min(600)], &b[..b.len().min(600)]);
    let plain = sim::levenshtein_plain(a, b);
    for k in [0, 1, 5, plain.saturating_sub(1), plain, plain + 3] {
        let got = sim::bounded_distance(a, b, k);
        let want = (plain <= k).then_some(plain);
        if got != want {
            return Err(format!("bounded_distance k={k}: {got:?}, plain {plain}"));
        }
        let banded = loop_detect::banded::banded_distance(a, b, k);
        if banded != want {
            return Err(format!("banded_distance k={k}: {banded:?}, plain {plain}"));
        }
    }
    for t in [0.5, 0.9, 0.99] {
        let fast = sim::is_similar(a, b, t);
        let slow = sim::similarity_plain(a, b) > t;
        if fast != slow {
            return Err(format!("is_similar({t}) = {fast}, plain says {slow}"));
        }
    }
    let text = String::from_utf8_lossy(bytes);
    let _ = sim::normalise(&text, 32 * 1024);
    Ok(())
}

/// The shell analysis on any command text.
pub fn shell(bytes: &[u8]) -> Result<(), String> {
    let command = String::from_utf8_lossy(bytes);
    let targets = portcullis_shell::write_targets(&command);
    if !portcullis_shell::might_write(&command) && !targets.is_empty() {
        return Err(format!(
            "the pre-filter turned away a command that writes {targets:?}"
        ));
    }
    // A quoted name may hold glob characters (`> 'api/[draft].txt'` is that file), so only an empty
    // target is never a path.
    if let Some(t) = targets.iter().find(|t| t.is_empty()) {
        return Err(format!(
            "reported a target that is not a literal path: {t:?}"
        ));
    }
    let _ = portcullis_shell::removal_targets(&command);
    Ok(())
}

/// The secret scanner on any text. Properties: it never panics; what it reports it replaces (one marker
/// per finding, the text before the first finding kept byte for byte, a known value never left); and
/// the one-pass pre-test secret-guard relies on never turns away a text with a secret in it.
pub fn secrets(bytes: &[u8]) -> Result<(), String> {
    use portcullis_secrets::{KnownSecret, Scanner};
    let text = String::from_utf8_lossy(bytes);
    let known = "known-Secret-42";
    let scanner = Scanner::new(vec![KnownSecret {
        value: known.into(),
        kind: "secret-file-value".into(),
    }]);
    let Some((out, findings)) = scanner.redact(&text) else {
        return Ok(());
    };
    if !scanner.might_hold(text.as_bytes()) {
        return Err(format!("the pre-test turned away a text with {findings:?}"));
    }
    let first = findings.first().ok_or("a rewrite without a finding")?;
    if out.get(..first.offset) != text.get(..first.offset) {
        return Err(format!(
            "the text before the first finding changed: {out:?}"
        ));
    }
    if out.matches("[REDACTED ").count() < findings.len() {
        return Err(format!("fewer markers than findings in {out:?}"));
    }
    if out.contains(known) {
        return Err(format!("the known value survived: {out:?}"));
    }
    Ok(())
}

/// definition-audit's checks on any text, as an agent and as a skill. Properties: they never panic, and
/// every problem is on a line of the file (at most one past its last, where the YAML parser meets the
/// end).
pub fn definition(bytes: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(bytes);
    let lines = text.lines().count().max(1);
    for agent in [true, false] {
        for (rule, line) in definition_audit::check_text(&text, agent) {
            if line == 0 || line > lines + 1 {
                return Err(format!(
                    "{} at line {line} of a {lines}-line file",
                    rule.id()
                ));
            }
        }
    }
    Ok(())
}
