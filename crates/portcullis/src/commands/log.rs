//! `portcullis log`: the decision log, filtered, oldest of the selection first.

use std::fmt::Write as _;
use std::path::Path;

use portcullis_core::Env;
use portcullis_core::log::{self, LogEntry};
use portcullis_core::state::StateDir;

use super::{CmdResult, Report};

/// Filters for `portcullis log`.
#[derive(Debug, Default)]
pub struct LogFilter {
    /// Only this session.
    pub session: Option<String>,
    /// Only this hook.
    pub hook: Option<String>,
    /// Only deny/block/ask.
    pub blocked: bool,
    /// At most this many (the newest).
    pub n: usize,
    /// Raw JSON lines.
    pub json: bool,
    /// Every line of each reason, as written (default: the reason as one paragraph, wrapped, at most
    /// [`SHORT_LINES`] lines).
    pub full: bool,
}

/// How many wrapped lines of a reason show without `--full`.
pub(super) const SHORT_LINES: usize = 4;

/// The width reasons are wrapped at: `COLUMNS` when set, else 100.
fn width(env: &Env) -> usize {
    env.var("COLUMNS")
        .and_then(|c| c.parse::<usize>().ok())
        .filter(|w| *w >= 40)
        .unwrap_or(100)
}

/// Checks `--hook`: a name no hook has is refused with the nearest one.
pub(super) fn check_hook_name(name: &str) -> Result<(), String> {
    let names = portcullis_suite::binaries();
    if names.contains(&name) {
        return Ok(());
    }
    let nearest = names
        .iter()
        .min_by_key(|n| strsim::levenshtein(n, name))
        .copied()
        .unwrap_or_default();
    Err(format!(
        "no hook is named `{name}`; did you mean `{nearest}`? (hooks: {})",
        names.join(", ")
    ))
}

/// Whether `e` passes the filters.
pub(super) fn keeps(f: &LogFilter, e: &LogEntry) -> bool {
    f.session
        .as_ref()
        .is_none_or(|s| e.session.starts_with(s.as_str()))
        && f.hook.as_ref().is_none_or(|h| &e.hook == h)
        && (!f.blocked || matches!(e.verdict.as_str(), "deny" | "block" | "ask"))
}

/// One entry as text: a header line, then its reason, wrapped (or whole with `--full`), indented.
pub(super) fn entry_text(e: &LogEntry, f: &LogFilter, env: &Env) -> String {
    let mut text = String::new();
    if f.json {
        let _ = writeln!(text, "{}", serde_json::to_string(e).unwrap_or_default());
        return text;
    }
    let what = match &e.tool {
        Some(t) => format!("{} {t}", e.event),
        None => e.event.clone(),
    };
    let session: String = e.session.chars().take(8).collect();
    // Padded before it is painted, so the columns stay aligned on a terminal.
    let verdict = format!("{:<7}", e.verdict);
    let paint = portcullis_core::cli::Paint::stdout();
    let verdict = match e.verdict.as_str() {
        "deny" | "block" => paint.red(&verdict),
        "ask" => paint.yellow(&verdict),
        _ => verdict,
    };
    let _ = writeln!(
        text,
        "{}  {:<18} {:<22} {verdict} {session} {:<8} {:>6}µs",
        e.time, e.hook, what, e.agent, e.micros
    );
    if e.reason.trim().is_empty() {
        return text;
    }
    if f.full {
        for line in e.reason.lines() {
            let _ = writeln!(text, "    {line}");
        }
        return text;
    }
    let paragraph = e.reason.split_whitespace().collect::<Vec<_>>().join(" ");
    let lines = wrap(&paragraph, width(env).saturating_sub(4));
    for line in lines.iter().take(SHORT_LINES) {
        let _ = writeln!(text, "    {line}");
    }
    if lines.len() > SHORT_LINES {
        let _ = writeln!(
            text,
            "    … ({} more lines: --full)",
            lines.len() - SHORT_LINES
        );
    }
    text
}

/// `text` in lines of at most `width` characters, broken between words (a longer word stands alone).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// `portcullis log`.
pub fn show_log(project: &Path, env: &Env, f: &LogFilter) -> CmdResult {
    if let Some(h) = &f.hook {
        check_hook_name(h)?;
    }
    let path = StateDir::for_project(env, project).log_path();
    let (mut entries, skipped) =
        log::tail(&path, f.n, u64::MAX, |e| keeps(f, e)).map_err(|e| e.to_string())?;
    entries.reverse();
    let mut text = String::new();
    for e in &entries {
        text.push_str(&entry_text(e, f, env));
    }
    if entries.is_empty() && !f.json {
        let _ = writeln!(text, "no decisions logged in `{}`", path.display());
    }
    if skipped > 0 && !f.json {
        let _ = writeln!(text, "({skipped} unreadable lines skipped)");
    }
    Ok(Report::ok(text))
}

/// `portcullis log --follow`: the selection, then every new entry as it is written, until interrupted.
/// The log is read from where it was left each half second; a log that was cut shorter (moved aside) is
/// read again from its start.
pub fn follow_log(project: &Path, env: &Env, f: &LogFilter) -> Result<(), String> {
    use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
    let first = show_log(project, env, f)?;
    let path = StateDir::for_project(env, project).log_path();
    let mut out = std::io::stdout().lock();
    let text = first.text.trim_end_matches('\n');
    if !text.starts_with("no decisions logged") {
        let _ = writeln!(out, "{text}");
    }
    let _ = writeln!(out, "(following `{}`; Ctrl-C to stop)", path.display());
    let mut at = std::fs::metadata(&path).map_or(0, |m| m.len());
    let mut pending = Vec::new();
    loop {
        std::thread::sleep(std::time::Duration::from_millis(500));
        let Ok(mut file) = std::fs::File::open(&path) else {
            continue;
        };
        let len = file.metadata().map_or(0, |m| m.len());
        if len < at {
            at = 0;
            pending.clear();
        }
        if len == at || file.seek(SeekFrom::Start(at)).is_err() {
            continue;
        }
        let mut fresh = Vec::new();
        if file.read_to_end(&mut fresh).is_err() {
            continue;
        }
        at += fresh.len() as u64;
        pending.extend(fresh);
        while let Some(end) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            if let Ok(e) = serde_json::from_slice::<LogEntry>(&line)
                && keeps(f, &e)
            {
                if out.write_all(entry_text(&e, f, env).as_bytes()).is_err() {
                    return Ok(());
                }
                let _ = out.flush();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_wrap_between_words() {
        let lines = wrap("one two three four five six seven", 10);
        assert_eq!(lines, ["one two", "three four", "five six", "seven"]);
        assert!(lines.iter().all(|l| l.len() <= 10));
        assert_eq!(
            wrap("averyveryverylongword x", 5),
            ["averyveryverylongword", "x"]
        );
    }

    #[test]
    fn an_unknown_hook_is_refused_with_the_nearest() {
        let err = check_hook_name("agent-frist").unwrap_err();
        assert!(err.contains("did you mean `agent-first`"), "{err}");
        assert!(check_hook_name("feedback-loop").is_ok());
    }
}
