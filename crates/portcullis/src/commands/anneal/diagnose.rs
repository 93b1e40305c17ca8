//! Finding the gates that keep blocking one agent type, and what the agent said and did before each
//! block: the decision log for the blocks, the agent's own transcript for the rest. Deterministic: no
//! model reads anything here.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use portcullis_core::log::{self, LogEntry};
use portcullis_core::transcript::{Entry, content_text};
use regex::Regex;
use serde_json::Value;

/// More blocks than this, of one gate and one agent type, is a pattern (seed 002 §10.2: "> 3 times").
pub(crate) const MORE_THAN: usize = 3;

/// The most of a transcript read (a transcript is read forward, line by line).
const MAX_TRANSCRIPT_BYTES: u64 = 64 * 1024 * 1024;
/// Longer transcript lines are skipped.
const MAX_LINE_BYTES: usize = 4 * 1024 * 1024;

/// One block, and what came before it.
#[derive(Debug, Clone)]
pub(crate) struct Block {
    /// When (the log's RFC 3339 time).
    pub(crate) time: String,
    /// The session.
    pub(crate) session: String,
    /// The gate's reason, first line.
    pub(crate) reason: String,
    /// What the agent said last before the block (its last answer's text), cut short.
    pub(crate) said: Option<String>,
    /// The claims in it (`tests pass`, `verified`, …).
    pub(crate) claims: Vec<String>,
    /// Whether the agent ran a test command since the previous block (or its start); `None` when its
    /// transcript could not be read.
    pub(crate) ran_tests: Option<bool>,
    /// The transcript read, if any.
    pub(crate) transcript: Option<PathBuf>,
}

/// Blocks of one gate on one agent type.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    /// The gate (hook).
    pub(crate) hook: String,
    /// The agent type; `None` for the main thread.
    pub(crate) agent_type: Option<String>,
    /// The blocks, oldest first.
    pub(crate) blocks: Vec<Block>,
}

impl Pattern {
    /// Who was blocked, as said in the report.
    pub(crate) fn who(&self) -> String {
        self.agent_type
            .as_deref()
            .map_or_else(|| "the main thread".to_owned(), |t| format!("`{t}`"))
    }

    /// Blocks that followed a claim of passing tests with no test run before them.
    pub(crate) fn unbacked_test_claims(&self) -> usize {
        self.blocks
            .iter()
            .filter(|b| b.ran_tests == Some(false) && b.claims.iter().any(|c| c.contains("test")))
            .count()
    }

    /// The behaviour the blocks show, in a few words.
    pub(crate) fn behaviour(&self) -> String {
        if self.unbacked_test_claims() * 2 > self.blocks.len() {
            "Claiming the tests pass without running them".to_owned()
        } else {
            let first = self.blocks.first().map_or("", |b| b.reason.as_str());
            format!(
                "Finishing while {} still holds the work (\"{}\")",
                self.hook,
                cut(first, 120)
            )
        }
    }

    /// What to do instead.
    pub(crate) fn instead(&self) -> String {
        if self.unbacked_test_claims() * 2 > self.blocks.len() {
            "run the tests of what you changed yourself, and quote their summary line in your report; \
             say \"not run\" rather than \"pass\" when you could not run them"
                .to_owned()
        } else {
            format!(
                "before you finish, do what {} asks for (its reason says what), and say in your report that \
                 you did",
                self.hook
            )
        }
    }
}

/// Entries of a verdict that held the agent: `held` (a hook's own marker can be a block), or, in a log
/// written before that field, a `block` or `deny` label.
fn is_block(e: &LogEntry) -> bool {
    e.held || matches!(e.verdict.as_str(), "block" | "deny")
}

/// The patterns in the decision log at `log_path`: more than [`MORE_THAN`] blocks of one gate on one
/// agent type, in one session or across sessions, from `since` (`YYYY-MM-DD`) on.
///
/// # Errors
/// A log that cannot be read.
pub(crate) fn patterns(log_path: &Path, since: Option<&str>) -> Result<Vec<Pattern>, String> {
    let (mut entries, _) = log::tail(log_path, usize::MAX, u64::MAX, |e| {
        is_block(e) && since.is_none_or(|s| e.time.as_str() >= s)
    })
    .map_err(|e| e.to_string())?;
    entries.reverse();
    let mut groups: BTreeMap<(String, Option<String>), Vec<LogEntry>> = BTreeMap::new();
    for e in entries {
        let agent_type = if e.agent == "main" {
            None
        } else {
            Some(
                e.agent_type
                    .clone()
                    .unwrap_or_else(|| "(unknown type)".into()),
            )
        };
        groups
            .entry((e.hook.clone(), agent_type))
            .or_default()
            .push(e);
    }
    Ok(groups
        .into_iter()
        .filter(|(_, blocks)| blocks.len() > MORE_THAN)
        .map(|((hook, agent_type), entries)| Pattern {
            hook,
            agent_type,
            blocks: diagnose(&entries),
        })
        .collect())
}

/// Claims an agent makes about its work, in lower case.
static CLAIM: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)] // a constant pattern, checked by the tests
    Regex::new(
        r"(all )?tests? (all )?(pass|passed|passing|are passing|are green|succeed|succeeded)|(it |everything )?works( now)?|verified|fixed|ready to merge|done and tested",
    )
    .expect("constant pattern")
});

/// A shell command that runs tests (the common runners).
static TEST_RUN: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)] // a constant pattern, checked by the tests
    Regex::new(
        r"(^|[;&|(\s/])(cargo (\+\S+ )?(test|nextest)|pytest|python3? -m pytest|go test|(npm|pnpm|yarn|bun) (run )?test|npx (jest|vitest)|jest|vitest|(mvnw?|gradlew?)\b[^;&|]*\btest|rspec|ctest|make (test|check)|deno test)\b",
    )
    .expect("constant pattern")
});

/// The claims in `text` (matched in lower case).
pub(crate) fn claims(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let mut out: Vec<String> = CLAIM
        .find_iter(&lower)
        .map(|m| m.as_str().trim().to_owned())
        .collect();
    out.dedup();
    out
}

/// Whether `command` runs tests.
pub(crate) fn runs_tests(command: &str) -> bool {
    TEST_RUN.is_match(command)
}

/// What the transcript says before each block.
fn diagnose(entries: &[LogEntry]) -> Vec<Block> {
    let mut cache: BTreeMap<PathBuf, Option<Vec<Event>>> = BTreeMap::new();
    let mut previous: BTreeMap<PathBuf, String> = BTreeMap::new();
    entries
        .iter()
        .map(|e| {
            let path = transcript_of(e);
            let events = path.as_ref().and_then(|p| {
                cache
                    .entry(p.clone())
                    .or_insert_with(|| read_events(p))
                    .clone()
            });
            let since = path
                .as_ref()
                .and_then(|p| previous.get(p).cloned())
                .unwrap_or_default();
            if let Some(p) = &path {
                previous.insert(p.clone(), e.time.clone());
            }
            let (said, ran_tests) = match &events {
                Some(events) => {
                    let before: Vec<&Event> = events
                        .iter()
                        .filter(|ev| ev.time.as_str() <= e.time.as_str())
                        .collect();
                    let said = before.iter().rev().find_map(|ev| ev.said.clone());
                    let ran = before
                        .iter()
                        .filter(|ev| ev.time.as_str() > since.as_str())
                        .any(|ev| ev.ran_tests);
                    (said, Some(ran))
                }
                None => (None, None),
            };
            Block {
                time: e.time.clone(),
                session: e.session.clone(),
                reason: e.reason.lines().next().unwrap_or("").trim().to_owned(),
                claims: said.as_deref().map(claims).unwrap_or_default(),
                said: said.map(|s| cut(&s, 300)),
                ran_tests,
                transcript: path,
            }
        })
        .collect()
}

/// The transcript of the agent a log entry is about: its own for a subagent (named by the entry, or in
/// the client's layout beside the main transcript), else the main one.
fn transcript_of(e: &LogEntry) -> Option<PathBuf> {
    let named = PathBuf::from(e.transcript.as_deref()?);
    if e.agent == "main" || named.file_name()?.to_string_lossy().starts_with("agent-") {
        return Some(named);
    }
    let stem = named.file_stem()?.to_owned();
    Some(
        named
            .parent()?
            .join(stem)
            .join("subagents")
            .join(format!("agent-{}.jsonl", e.agent)),
    )
}

/// What one transcript line tells: when, what the agent said (an assistant answer's text), and whether
/// it ran tests (a Bash call of a test runner).
#[derive(Debug, Clone)]
struct Event {
    time: String,
    said: Option<String>,
    ran_tests: bool,
}

fn read_events(path: &Path) -> Option<Vec<Event>> {
    let file = portcullis_core::files::open_regular(path).ok()?;
    let mut reader = BufReader::new(file.take(MAX_TRANSCRIPT_BYTES));
    let mut out = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        if line.len() > MAX_LINE_BYTES {
            continue;
        }
        let Ok(entry) = serde_json::from_slice::<Entry>(&line) else {
            continue;
        };
        if entry.kind() != "assistant" {
            continue;
        }
        let Some(message) = &entry.message else {
            continue;
        };
        let content = message.content.clone().unwrap_or(Value::Null);
        let text = content_text(&content);
        let ran_tests = content.as_array().is_some_and(|blocks| {
            blocks.iter().any(|b| {
                b.get("type").and_then(Value::as_str) == Some("tool_use")
                    && b.get("name").and_then(Value::as_str) == Some("Bash")
                    && b.pointer("/input/command")
                        .and_then(Value::as_str)
                        .is_some_and(runs_tests)
            })
        });
        out.push(Event {
            time: entry.timestamp.unwrap_or_default(),
            said: (!text.trim().is_empty()).then_some(text),
            ran_tests,
        });
    }
    Some(out)
}

/// At most `max` characters, on one line.
pub(crate) fn cut(text: &str, max: usize) -> String {
    let one: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() <= max {
        return one;
    }
    let head: String = one.chars().take(max).collect();
    format!("{head}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_and_test_runs_are_read_as_written() {
        assert_eq!(
            claims("Implemented it. All tests pass and it WORKS now."),
            ["all tests pass", "it works now"]
        );
        assert!(claims("I could not run anything.").is_empty());
        for yes in [
            "cargo test -p api",
            "cd api && go test ./...",
            "npm run test",
            "python -m pytest scripts/",
            "./gradlew :app:test",
        ] {
            assert!(runs_tests(yes), "{yes}");
        }
        for no in ["cargo build", "cat tests/x.rs", "git commit -m test"] {
            assert!(!runs_tests(no), "{no}");
        }
    }

    #[test]
    fn a_block_is_what_held_the_agent_whatever_its_label() {
        let entry = |verdict: &str, held: bool| LogEntry {
            verdict: verdict.into(),
            held,
            ..LogEntry::default()
        };
        assert!(is_block(&entry("handoff-missing", true)));
        assert!(is_block(&entry("skills-skipped", true)));
        assert!(
            is_block(&entry("deny", false)),
            "a log written before `held`"
        );
        assert!(!is_block(&entry("handoff", false)));
        assert!(!is_block(&entry("context", false)));
    }

    #[test]
    fn a_subagents_transcript_is_found_beside_the_main_one() {
        let e = LogEntry {
            agent: "a1b2".into(),
            transcript: Some("/h/.claude/projects/p/sess.jsonl".into()),
            ..LogEntry::default()
        };
        assert_eq!(
            transcript_of(&e).unwrap(),
            PathBuf::from("/h/.claude/projects/p/sess/subagents/agent-a1b2.jsonl")
        );
        let own = LogEntry {
            agent: "a1b2".into(),
            transcript: Some("/x/agent-a1b2.jsonl".into()),
            ..LogEntry::default()
        };
        assert_eq!(
            transcript_of(&own).unwrap(),
            PathBuf::from("/x/agent-a1b2.jsonl")
        );
    }
}
