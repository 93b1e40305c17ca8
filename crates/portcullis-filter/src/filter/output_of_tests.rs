//! Test runs: passing tests counted, library stack frames dropped, failures and summaries kept.

use std::fmt::Write as _;
use std::sync::LazyLock;

use regex::Regex;

use super::{
    HEAD_LINES, Keep, NOISE, PASSING, SUMMARY, TAIL_LINES, cut_line, flush, important, regex,
};

/// A test run: passing tests counted where they were, library stack frames dropped, build noise counted;
/// failures, their messages and user-code frames, and the summary kept. What is left goes through the
/// generic filter if it is still long.
pub(super) fn tests(text: &str, keep: &Keep) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut passing = 0usize;
    let mut frames = 0usize;
    let mut noise = 0usize;
    let all: Vec<&str> = text.lines().collect();
    let mut i = 0;
    let flush_counts =
        |out: &mut Vec<String>, passing: &mut usize, frames: &mut usize, noise: &mut usize| {
            if *passing > 0 {
                out.push(format!("[… {passing} passing tests not shown …]"));
                *passing = 0;
            }
            if *frames > 0 {
                out.push(format!("[… {frames} library stack frames not shown …]"));
                *frames = 0;
            }
            if *noise > 0 {
                out.push(format!("[… {noise} build lines not shown …]"));
                *noise = 0;
            }
        };
    while i < all.len() {
        let line = all[i];
        if PASSING.is_match(line) && !keep.wants(line) {
            passing += 1;
            i += 1;
            continue;
        }
        if NOISE.is_match(line) && !keep.wants(line) {
            noise += 1;
            i += 1;
            continue;
        }
        if let Some(lines) = library_frame(&all, i) {
            frames += 1;
            i += lines;
            continue;
        }
        flush_counts(&mut out, &mut passing, &mut frames, &mut noise);
        out.push(cut_line(line));
        i += 1;
    }
    flush_counts(&mut out, &mut passing, &mut frames, &mut noise);
    let text = out.join("\n") + "\n";
    if text.len() > 8 * 1024 {
        // Still long: the failures and the summary are what lines that look like errors are.
        lines_keeping(&text, keep, &SUMMARY)
    } else {
        text
    }
}

/// The generic filter, also keeping lines `extra` matches.
fn lines_keeping(text: &str, keep: &Keep, extra: &Regex) -> String {
    let all: Vec<&str> = text.lines().collect();
    let n = all.len();
    let mut out = String::new();
    let mut skipped: Vec<&str> = Vec::new();
    for (i, line) in all.iter().enumerate() {
        let edge = i < HEAD_LINES || i + TAIL_LINES >= n;
        if edge || important(line, keep) || extra.is_match(line) || line.starts_with("[… ") {
            flush(&mut out, &mut skipped);
            let _ = writeln!(out, "{line}");
        } else {
            skipped.push(line);
        }
    }
    flush(&mut out, &mut skipped);
    out
}

/// A stack frame of a library or the runtime, not of the user's code, at line `i`: how many lines it
/// takes. Rust backtraces (`  3: core::…` then `at /rustc/…`), Python tracebacks (`File ".../site-packages/…"`
/// then the code line) and JavaScript (`at … (node:internal/…)`, `node_modules`).
fn library_frame(all: &[&str], i: usize) -> Option<usize> {
    static RUST_FRAME: LazyLock<Regex> = LazyLock::new(|| regex(r"^\s+\d+: (.+)$"));
    static RUST_AT: LazyLock<Regex> = LazyLock::new(|| regex(r"^\s+at (.+)$"));
    static PY_FRAME: LazyLock<Regex> = LazyLock::new(|| regex(r#"^\s+File "([^"]+)", line \d+"#));
    static JS_FRAME: LazyLock<Regex> =
        LazyLock::new(|| regex(r"^\s+at .*(node:internal|node_modules|<anonymous>)"));
    let line = all[i];
    if let Some(c) = RUST_FRAME.captures(line) {
        let function = c.get(1).map_or("", |m| m.as_str());
        let at = all
            .get(i + 1)
            .and_then(|n| RUST_AT.captures(n))
            .and_then(|c| c.get(1));
        let library_fn = [
            "core::",
            "std::",
            "alloc::",
            "test::",
            "__rustc::",
            "<",
            "rust_",
            "_start",
            "__libc",
        ]
        .iter()
        .any(|p| function.starts_with(p));
        let library_at = at.is_none_or(|a| {
            a.as_str().starts_with("/rustc/") || a.as_str().contains("/.cargo/registry/")
        });
        if library_fn && library_at {
            return Some(if at.is_some() { 2 } else { 1 });
        }
        return None;
    }
    if let Some(c) = PY_FRAME.captures(line) {
        let file = c.get(1).map_or("", |m| m.as_str());
        if file.contains("site-packages") || file.contains("/lib/python") || file.starts_with('<') {
            let next_is_code = all
                .get(i + 1)
                .is_some_and(|n| n.starts_with("    ") && !PY_FRAME.is_match(n));
            return Some(if next_is_code { 2 } else { 1 });
        }
        return None;
    }
    JS_FRAME.is_match(line).then_some(1)
}
