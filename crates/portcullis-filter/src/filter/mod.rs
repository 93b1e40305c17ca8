//! The filters: a large output in, the text the model needs out. Pure functions of the text, the command
//! that made it and the rules: the same input gives the same text in every hook that calls them, which is
//! what lets secret-guard and context-filter both answer a PostToolUse without racing (see the crate docs).
//!
//! What kind an output is comes from the command and the text, not from a list of tools: a test run (any
//! runner whose lines say so), compiler diagnostics, version control, a listing, JSON, or anything else.

use std::fmt::Write as _;
use std::sync::LazyLock;

use regex::{Regex, RegexSet};
use serde::{Deserialize, Serialize};

mod compiler;
mod json;
mod listing;
mod output_of_tests;
mod vcs;

use compiler::compiler;
use json::json;
use listing::listing;
use output_of_tests::tests;
use vcs::vcs;

/// What an output is, as far as filtering goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A test run: failures kept with their messages, passing tests counted.
    Tests,
    /// Compiler or linter diagnostics: every error and warning with its location.
    Compiler,
    /// Version control: log, diff, show.
    Vcs,
    /// A listing of paths: counts per folder.
    Listing,
    /// A JSON document: its shape, long arrays and strings cut.
    Json,
    /// Anything else (build and install logs included): repeats collapsed, head, tail and errors kept.
    Other,
}

impl Kind {
    /// Every kind, for config and stats.
    pub const ALL: [Kind; 6] = [
        Kind::Tests,
        Kind::Compiler,
        Kind::Vcs,
        Kind::Listing,
        Kind::Json,
        Kind::Other,
    ];

    /// The name in config, logs and stats.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tests => "tests",
            Self::Compiler => "compiler",
            Self::Vcs => "vcs",
            Self::Listing => "listing",
            Self::Json => "json",
            Self::Other => "other",
        }
    }
}

/// What the user adds to the built-in rules: lines that are always kept.
#[derive(Debug, Default)]
pub struct Keep {
    patterns: Option<RegexSet>,
}

impl Keep {
    /// Lines matching any of `patterns` (regexes) are always kept.
    ///
    /// # Errors
    /// A pattern that is no regex.
    pub fn new(patterns: &[String]) -> Result<Self, String> {
        if patterns.is_empty() {
            return Ok(Self::default());
        }
        RegexSet::new(patterns)
            .map(|set| Self {
                patterns: Some(set),
            })
            .map_err(|e| format!("`context_filter.keep`: {e}"))
    }

    fn wants(&self, line: &str) -> bool {
        self.patterns.as_ref().is_some_and(|p| p.is_match(line))
    }
}

/// A filtered output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filtered {
    /// The text for the model.
    pub text: String,
    /// What the output was read as.
    pub kind: Kind,
}

/// The most lines kept from the start and the end of an output whose middle is summarised.
const HEAD_LINES: usize = 15;
const TAIL_LINES: usize = 25;
/// The most lines that look like errors kept from one output; more are counted.
const MAX_IMPORTANT: usize = 400;
/// Lines are cut to this many characters (a minified file on one line is no help whole).
const MAX_LINE_CHARS: usize = 400;

/// A constant pattern, its word boundaries ASCII: a Unicode `\b` keeps the fast engines off any text with
/// a non-ASCII character (1 MB of source code took 70 ms through the filter with them).
#[allow(clippy::expect_used)] // constant patterns, checked by the tests
fn regex(pattern: &str) -> Regex {
    Regex::new(&pattern.replace(r"\b", r"(?-u:\b)")).expect("constant pattern")
}

/// Lines that look like an error, a failure or a warning: always kept.
static IMPORTANT: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?im)(\berror\b|\berrors\b|\bfail(ed|ure|ures|s)?\b|\bpanic|\bexception\b|traceback|\bfatal\b|\bwarn(ing)?\b|\bcannot\b|\bcan't\b|no such file|permission denied|not found|\bdenied\b|✕|✗|×|\bassert|^E\s{2,})",
    )
});

/// A test that passed, in the common runners' words: counted, not shown.
static PASSING: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(\.\.\.\s*ok$|\bPASSED\b|^\s*[✓✔√]\s|^--- PASS:|^=== (RUN|PAUSE|CONT)\s|^ok\s+\S+\s+(\(cached\)|[\d.]+s)|^PASS\s|^\s+ok \d+ )",
    )
});

/// A test run's summary or section line: always kept.
static SUMMARY: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(^test result:|^running \d+ tests?|^=+ .* =+$|^(FAIL|ok)\s|^Tests?:\s|^Test Suites:|\d+ (examples?|tests?|passed|failed|passing|failing)\b|^failures:|^---- .* ----$|^_{3,} .* _{3,}$)",
    )
});

/// Build and install noise: counted by kind, never shown one by one.
static NOISE: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"^\s*(Compiling|Checking|Downloaded|Downloading|Fresh|Updating|Locking|Adding|Blocking|Collecting|Using cached|Requirement already satisfied|Installing collected|Building wheel|Created wheel|Stored in|Preparing metadata|Getting requirements|npm http|npm sill|npm timing|Progress:|Resolving|Fetched|Get:\d+|Hit:\d+|Unpacking|Setting up|Selecting previously|Preparing to unpack|\[\d+/\d+\])",
    )
});

/// Which kind an output is, from the command that printed it and its text.
#[must_use]
pub fn classify(text: &str, command: Option<&str>) -> Kind {
    static TEST_COMMAND: LazyLock<Regex> = LazyLock::new(|| {
        regex(
            r"(\bcargo\s+(\+\S+\s+)?(test|nextest)\b|\bpytest\b|\bpy\.test\b|-m\s+pytest\b|\bgo\s+test\b|\bjest\b|\bvitest\b|\bmocha\b|\brspec\b|\b(npm|pnpm|yarn|bun)\s+(run\s+)?test\b|\bmvn\b.*\btest\b|\bgradlew?\b.*\btest\b|\bctest\b|\bplaywright\s+test\b|\bdeno\s+test\b|\bmake\s+(test|check)\b)",
        )
    });
    static TEST_TEXT: LazyLock<Regex> = LazyLock::new(|| {
        regex(
            r"(?m)(^test result: |^=+ .*\b(passed|failed)\b.* in [\d.]+s.* =+$|^--- FAIL: |^ok\s+\S+\s+[\d.]+s$|^Tests:\s+\d|^\d+ examples?, \d+ failures?)",
        )
    });
    static COMPILER_COMMAND: LazyLock<Regex> = LazyLock::new(|| {
        regex(
            r"(\bcargo\s+(\+\S+\s+)?(build|check|clippy|rustc)\b|\brustc\b|\btsc\b|\beslint\b|\bgcc\b|\bg\+\+|\bclang\b|\bgo\s+(build|vet)\b|\bmypy\b|\bruff\b|\bjavac\b|\bflake8\b|\bpylint\b)",
        )
    });
    static DIAGNOSTIC: LazyLock<Regex> = LazyLock::new(|| {
        regex(
            r"(?m)(^(error|warning)(\[[A-Z]+\d+\])?: .*\n\s*--> |^\S+:\d+:\d+: (error|warning)\b)",
        )
    });
    static VCS_COMMAND: LazyLock<Regex> =
        LazyLock::new(|| regex(r"\bgit\s+(-C\s+\S+\s+)?(log|diff|show|whatchanged)\b"));
    static VCS_TEXT: LazyLock<Regex> =
        LazyLock::new(|| regex(r"\A(commit [0-9a-f]{7,40}\b|diff --git )"));
    static LISTING_COMMAND: LazyLock<Regex> = LazyLock::new(|| {
        regex(r"(^|[;&|]\s*)(ls|find|tree|fd|du|locate)\b|\brg\s+--files\b|\bgit\s+ls-files\b")
    });
    let command = command.unwrap_or("");
    let trimmed = text.trim_start();
    if (trimmed.starts_with('{') || trimmed.starts_with('['))
        && serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok()
    {
        return Kind::Json;
    }
    let ends = head_and_tail(text);
    let text_says = |re: &Regex| ends.iter().any(|part| re.is_match(part));
    if TEST_COMMAND.is_match(command) || text_says(&TEST_TEXT) {
        return Kind::Tests;
    }
    if COMPILER_COMMAND.is_match(command) || text_says(&DIAGNOSTIC) {
        return Kind::Compiler;
    }
    if VCS_COMMAND.is_match(command) || VCS_TEXT.is_match(trimmed) {
        return Kind::Vcs;
    }
    if LISTING_COMMAND.is_match(command) || looks_like_paths(text) {
        return Kind::Listing;
    }
    Kind::Other
}

/// How much of each end of a long output [`classify`] reads: a test run's summary is at its end, a
/// compiler's first diagnostic near its start, and searching the whole of 1 MB for them cost 3 ms.
const CLASSIFY_WINDOW: usize = 64 * 1024;

/// The first and last [`CLASSIFY_WINDOW`] bytes of `text`, each of whole lines (the whole text, and an empty
/// tail, when it is short).
fn head_and_tail(text: &str) -> [&str; 2] {
    let bytes = text.as_bytes();
    if bytes.len() <= 2 * CLASSIFY_WINDOW {
        return [text, ""];
    }
    // A newline is one byte of its own in UTF-8, so cutting just after one is always a character boundary.
    let head_end = bytes[..CLASSIFY_WINDOW]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let tail_from = bytes.len() - CLASSIFY_WINDOW;
    let tail_start = bytes[tail_from..]
        .iter()
        .position(|b| *b == b'\n')
        .map_or(bytes.len(), |i| tail_from + i + 1);
    [&text[..head_end], &text[tail_start..]]
}

/// Most lines are paths (a listing printed by a tool the command does not name).
fn looks_like_paths(text: &str) -> bool {
    let lines: Vec<&str> = text.lines().take(200).collect();
    let paths = lines
        .iter()
        .filter(|l| {
            let l = l.trim();
            !l.is_empty() && !l.contains(' ') && l.contains('/')
        })
        .count();
    lines.len() >= 20 && paths * 10 >= lines.len() * 8
}

/// Filters `text` as the kind it is; `enabled` says which kinds may be filtered by their own rules (a kind
/// turned off is treated as [`Kind::Other`]).
#[must_use]
pub fn filter(
    text: &str,
    command: Option<&str>,
    keep: &Keep,
    enabled: &dyn Fn(Kind) -> bool,
) -> Filtered {
    let mut kind = classify(text, command);
    if !enabled(kind) {
        kind = Kind::Other;
    }
    let text = match kind {
        Kind::Json => json(text).unwrap_or_else(|| lines(text, keep)),
        Kind::Tests => tests(text, keep),
        Kind::Compiler => compiler(text, keep),
        Kind::Vcs => vcs(text, keep),
        Kind::Listing => listing(text, keep),
        Kind::Other => lines(text, keep),
    };
    Filtered {
        text: squeeze_blank_lines(&text),
        kind,
    }
}

/// Runs of blank lines as one.
fn squeeze_blank_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = false;
    for line in text.lines() {
        let is_blank = line.trim().is_empty();
        if !(is_blank && blank) {
            out.push_str(line);
            out.push('\n');
        }
        blank = is_blank;
    }
    out
}

fn cut_line(line: &str) -> String {
    if line.chars().count() <= MAX_LINE_CHARS {
        return line.to_owned();
    }
    let head: String = line.chars().take(MAX_LINE_CHARS).collect();
    format!("{head}… ({} chars)", line.chars().count())
}

/// A line's shape: numbers, hex ids and quoted text masked, the first three words kept. Near-identical
/// lines share it. Words are split at ASCII white space (Unicode's cost a sixth of filtering 1 MB).
fn shape(line: &str, out: &mut String) {
    out.clear();
    for word in line.split_ascii_whitespace().take(3) {
        if !out.is_empty() {
            out.push(' ');
        }
        mask_numbers(word, out);
    }
}

/// `word` with each run of hex digits and dots that holds a digit written as `#` (`log_12.txt` →
/// `log_#txt`, `a3f9c0d1` → `#`). Works on bytes and copies the text between runs whole: a multi-byte
/// character's bytes are never hex digits or dots, so every cut falls on a character boundary.
fn mask_numbers(word: &str, out: &mut String) {
    let bytes = word.as_bytes();
    let in_run = |b: u8| b.is_ascii_hexdigit() || b == b'.';
    let mut copied_to = 0;
    let mut i = 0;
    while i < bytes.len() {
        if !in_run(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && in_run(bytes[i]) {
            i += 1;
        }
        if bytes[start..i].iter().any(u8::is_ascii_digit) {
            out.push_str(&word[copied_to..start]);
            out.push('#');
            copied_to = i;
        }
    }
    out.push_str(&word[copied_to..]);
}

/// Which of `all` (the lines of `text`, in order) look like errors: one pass of [`IMPORTANT`] over the
/// whole text (a search per line cost more than the rest of the filter), then `keep`'s patterns.
fn important_lines(text: &str, all: &[&str], keep: &Keep) -> Vec<bool> {
    let base = text.as_ptr() as usize;
    let starts: Vec<usize> = all.iter().map(|l| l.as_ptr() as usize - base).collect();
    let mut marked = vec![false; all.len()];
    for m in IMPORTANT.find_iter(text) {
        let at = starts
            .partition_point(|s| *s <= m.start())
            .saturating_sub(1);
        if let Some(slot) = marked.get_mut(at) {
            *slot = true;
        }
    }
    if keep.patterns.is_some() {
        for (slot, line) in marked.iter_mut().zip(all) {
            *slot = *slot || keep.wants(line);
        }
    }
    marked
}

fn important(line: &str, keep: &Keep) -> bool {
    IMPORTANT.is_match(line) || keep.wants(line)
}

/// Lines that are neither head, tail nor important, said in one line: how many, and of which shapes.
///
/// Shapes are counted by a 64-bit hash of each (std's `DefaultHasher::new()`, whose keys are fixed, so
/// every hook that filters the output counts alike), keeping the first line of each shape to name it:
/// a string per distinct shape cost a third of filtering 1 MB of source code.
fn summarise(skipped: &[&str]) -> String {
    use std::collections::HashMap;
    use std::hash::{BuildHasherDefault, Hasher as _};
    let mut buf = String::new();
    let shape_hash = |line: &str, buf: &mut String| {
        shape(line, buf);
        let mut h = std::hash::DefaultHasher::new();
        h.write(buf.as_bytes());
        h.finish()
    };
    // hash → (lines of that shape, index of the first).
    let mut shapes: HashMap<u64, (usize, usize), BuildHasherDefault<AlreadyHashed>> =
        HashMap::default();
    for (i, line) in skipped.iter().enumerate() {
        shapes.entry(shape_hash(line, &mut buf)).or_insert((0, i)).0 += 1;
    }
    // The three most common shapes, ties by shape: only shapes as common as the third are named.
    let mut counts: Vec<usize> = shapes.values().map(|(n, _)| *n).collect();
    counts.sort_unstable_by(|a, b| b.cmp(a));
    let third = counts.get(2).or(counts.last()).copied().unwrap_or(0);
    let mut by_count: Vec<(usize, String)> = shapes
        .values()
        .filter(|(n, _)| *n >= third)
        .map(|(n, first)| {
            shape(skipped[*first], &mut buf);
            (*n, buf.clone())
        })
        .collect();
    by_count.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let top: Vec<String> = by_count
        .iter()
        .take(3)
        .filter(|(n, s)| *n > 1 && !s.is_empty())
        .map(|(n, s)| format!("{n} like `{s}`"))
        .collect();
    if top.is_empty() {
        format!("[… {} lines not shown …]", skipped.len())
    } else {
        format!(
            "[… {} lines not shown: {} …]",
            skipped.len(),
            top.join(", ")
        )
    }
}

/// The hasher of a map whose keys are hashes already: the key is its own hash.
#[derive(Default)]
struct AlreadyHashed(u64);

impl std::hash::Hasher for AlreadyHashed {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The generic filter: the head and the tail, every line that looks like an error (or that `keep` wants),
/// and for the rest one line saying how many and of which shapes.
fn lines(text: &str, keep: &Keep) -> String {
    let all: Vec<&str> = text.lines().collect();
    let n = all.len();
    let mut out = String::new();
    let mut skipped: Vec<&str> = Vec::new();
    let mut kept_important = 0usize;
    let mut dropped_important = 0usize;
    let marked = important_lines(text, &all, keep);
    for (i, line) in all.iter().enumerate() {
        let edge = i < HEAD_LINES || i + TAIL_LINES >= n;
        let wanted = !edge && marked[i] && !NOISE.is_match(line);
        if wanted && kept_important >= MAX_IMPORTANT {
            dropped_important += 1;
        }
        if edge || (wanted && kept_important < MAX_IMPORTANT) {
            if !skipped.is_empty() {
                flush(&mut out, &mut skipped);
            }
            kept_important += usize::from(wanted);
            let _ = writeln!(out, "{}", cut_line(line));
        } else {
            skipped.push(line);
        }
    }
    flush(&mut out, &mut skipped);
    if dropped_important > 0 {
        let _ = writeln!(
            out,
            "[… and {dropped_important} more lines that look like errors, not shown …]"
        );
    }
    out
}

/// Writes the skipped lines: a few as they are, more as one summary line.
fn flush(out: &mut String, skipped: &mut Vec<&str>) {
    if skipped.len() <= 3 {
        for l in skipped.iter() {
            let _ = writeln!(out, "{}", cut_line(l));
        }
    } else {
        let _ = writeln!(out, "{}", summarise(skipped));
    }
    skipped.clear();
}

/// The lines of `text` that name a failure or an error (and the summaries of test runs), each once, at
/// most `max`: what a failed command's output says, for context where the output cannot be replaced.
#[must_use]
pub fn failure_lines(text: &str, keep: &Keep, max: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        let t = line.trim_end();
        if t.is_empty() || PASSING.is_match(t) || NOISE.is_match(t) {
            continue;
        }
        if (important(t, keep) || SUMMARY.is_match(t)) && !out.iter().any(|o| o == t) {
            out.push(cut_line(t));
            if out.len() == max {
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
