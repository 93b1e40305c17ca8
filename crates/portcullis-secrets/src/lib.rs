//! What is a secret, and text with the secrets taken out.
//!
//! - [`Scanner`]: finds secrets in a text — the credential forms of the common secret scanners' rule sets
//!   (cloud keys, VCS and registry tokens, chat webhooks, private keys, JWTs, passwords in URLs and in
//!   assignments of secret-named keys) and the exact values given to it (those of the project's secret
//!   files) — and replaces each with `[REDACTED <kind>]`, keeping everything else byte for byte.
//! - [`files`]: which files hold secrets (`.env`, keys, credential files), and the values in them.
//!
//! Cost: one multi-keyword pass over a lower-case copy of the text; a rule's regex is compiled and run
//! only when one of its keywords is there (and its gate agrees), and then only on the lines around each
//! keyword, so a text with nothing secret-looking costs that one pass. A found
//! secret is never logged by this crate: a [`Finding`] holds its kind and where it was, not its value.

mod assignment;
pub mod files;
pub mod judge;
mod rules;

use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use rules::{Check, RULES};

/// One secret found: what kind, and where (never the value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The kind, as in the marker: `aws-access-key-id`, `password`, `secret-file-value`, ...
    pub kind: String,
    /// Byte offset in the scanned text.
    pub offset: usize,
    /// 1-based line in the scanned text.
    pub line: usize,
}

/// A value known to be secret (from a secret file), and the kind its marker names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownSecret {
    /// The exact value.
    pub value: String,
    /// The marker's kind, e.g. `secret-file-value`.
    pub kind: String,
}

/// The marker a secret of `kind` is replaced with.
#[must_use]
pub fn marker(kind: &str) -> String {
    format!("[REDACTED {kind}]")
}

/// Finds and replaces secrets. Build one per run: it holds the known values' automaton.
#[derive(Debug, Default)]
pub struct Scanner {
    known: Vec<KnownSecret>,
    known_matcher: Option<AhoCorasick>,
}

/// A span to replace.
#[derive(Debug, Clone)]
struct Span {
    start: usize,
    end: usize,
    kind: String,
    priority: usize,
}

impl Scanner {
    /// A scanner for the rules and the values in `known` (values shorter than 6 bytes are ignored: too
    /// likely to occur by chance).
    #[must_use]
    pub fn new(mut known: Vec<KnownSecret>) -> Self {
        known.retain(|k| k.value.len() >= 6);
        known.sort_by_key(|k| std::cmp::Reverse(k.value.len()));
        known.dedup_by(|a, b| a.value == b.value);
        let known_matcher = if known.is_empty() {
            None
        } else {
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostLongest)
                .build(known.iter().map(|k| k.value.as_str()))
                .ok()
        };
        Self {
            known,
            known_matcher,
        }
    }

    /// Whether `bytes` could hold a secret: one of the rules' keywords or a known value is in it. A
    /// cheap test to run on raw input (such as a JSON document) before decoding it.
    #[must_use]
    pub fn might_hold(&self, bytes: &[u8]) -> bool {
        any_trigger(bytes)
            || self
                .known_matcher
                .as_ref()
                .is_some_and(|m| m.is_match(bytes))
            || self.known.iter().any(|k| {
                // A value with quotes or backslashes is escaped in JSON: look for it decoded later.
                k.value.contains(['"', '\\']) || k.value.chars().any(char::is_control)
            })
    }

    /// `text` with every secret replaced by its marker, and what was found; `None` when nothing was.
    #[must_use]
    pub fn redact(&self, text: &str) -> Option<(String, Vec<Finding>)> {
        let spans = self.spans(text);
        if spans.is_empty() {
            return None;
        }
        let mut out = String::with_capacity(text.len());
        let mut findings = Vec::with_capacity(spans.len());
        let mut at = 0;
        let mut line = 1;
        let mut counted = 0;
        for s in spans {
            line += memchr::memchr_iter(b'\n', &text.as_bytes()[counted..s.start]).count();
            counted = s.start;
            out.push_str(&text[at..s.start]);
            out.push_str(&marker(&s.kind));
            findings.push(Finding {
                kind: s.kind,
                offset: s.start,
                line,
            });
            at = s.end;
        }
        out.push_str(&text[at..]);
        Some((out, findings))
    }

    /// The secrets' spans, sorted, without overlaps (where two overlap, the earlier one wins; at the same
    /// start, the more specific rule).
    fn spans(&self, text: &str) -> Vec<Span> {
        let mut spans = Vec::new();
        if let Some(m) = &self.known_matcher {
            for hit in m.find_iter(text) {
                spans.push(Span {
                    start: hit.start(),
                    end: hit.end(),
                    kind: self.known[hit.pattern().as_usize()].kind.clone(),
                    priority: 0,
                });
            }
        }
        let hits = keyword_hits(text.as_bytes());
        for (i, rule) in RULES.iter().enumerate() {
            if hits[i].is_empty() {
                continue;
            }
            if rule.check == Check::Assignment {
                // By hand: the gate already found the keyword and the `=`/`:`; a regex for it cost
                // more to compile than the rest of a run.
                for &hit in &hits[i] {
                    let Some(a) = assignment::at(text.as_bytes(), hit) else {
                        continue;
                    };
                    let (name, value) = (&text[a.name.clone()], &text[a.value.clone()]);
                    if rule.accepts(value, Some(name)) {
                        spans.push(Span {
                            start: a.value.start,
                            end: a.value.end,
                            kind: judge::secret_name(name).unwrap_or(rule.kind).to_owned(),
                            priority: i + 1,
                        });
                    }
                }
                continue;
            }
            let Some(re) = rule.regex() else { continue };
            for (from, to) in windows(text, &hits[i], reach(rule.kind)) {
                for caps in re.captures_iter(&text.as_bytes()[from..to]) {
                    let secret = if rule.group == 0 {
                        caps.get(0)
                    } else {
                        (rule.group..caps.len()).find_map(|g| caps.get(g))
                    };
                    let Some(secret) = secret else { continue };
                    let Ok(secret_text) = std::str::from_utf8(secret.as_bytes()) else {
                        continue;
                    };
                    // The documentation hosts (RFC 2606): `ftp://user:pass@example.com` is an example.
                    if rule.kind == "url-password" && caps.get(2).is_some() {
                        continue;
                    }
                    if !rule.accepts(secret_text, None) {
                        continue;
                    }
                    spans.push(Span {
                        start: from + secret.start(),
                        end: from + secret.end(),
                        kind: rule.kind.to_owned(),
                        priority: i + 1,
                    });
                }
            }
        }
        spans.sort_by_key(|s| (s.start, s.priority));
        let mut kept: Vec<Span> = Vec::with_capacity(spans.len());
        for s in spans {
            match kept.last_mut() {
                Some(last) if s.start < last.end => {
                    // Overlapping: the earlier keeps its kind, and covers both.
                    last.end = last.end.max(s.end);
                }
                _ => kept.push(s),
            }
        }
        kept
    }
}

/// Where each rule's keywords are in `text` (start offsets, in order), counting only the hits its gate
/// lets through ([`rules::Rule::gate`]: an assignment after the assignment rule's words, a word start
/// before a token's prefix).
fn keyword_hits(text: &[u8]) -> Vec<Vec<usize>> {
    let mut hits = vec![Vec::new(); RULES.len()];
    let lower = text.to_ascii_lowercase();
    if let Some((k, rules)) = keywords(text.len()) {
        for hit in k.find_iter(&lower) {
            for &rule in &rules[hit.pattern().as_usize()] {
                if RULES[rule].gate(text, hit.start(), hit.end()) {
                    hits[rule].push(hit.start());
                }
            }
        }
    }
    hits
}

/// Whether any rule would run on `text` (stops at the first).
fn any_trigger(text: &[u8]) -> bool {
    let lower = text.to_ascii_lowercase();
    keywords(text.len()).is_some_and(|(k, rules)| {
        k.find_iter(&lower).any(|hit| {
            rules[hit.pattern().as_usize()]
                .iter()
                .any(|&rule| RULES[rule].gate(text, hit.start(), hit.end()))
        })
    })
}

/// How far before a keyword a rule's match may start (an assignment's name, a URL's scheme and user).
const BEFORE: usize = 256;

/// How far after a keyword a rule's match may end: a token, a name and its value take a few hundred
/// bytes; a PEM private key (an RSA 8192 key is 6.5 KB) or a JWT with a large payload, up to 16 KiB.
fn reach(kind: &str) -> usize {
    match kind {
        "private-key" | "jwt" => 16 << 10,
        _ => 1024,
    }
}

/// The parts of `text` a rule's regex runs on: around each keyword hit, from the start of its line (at
/// most [`BEFORE`] back) to `after` past it, merged where they overlap. Scanning windows instead of the
/// whole text keeps a megabyte of output with a few keywords in it to a few kilobytes of regex work.
fn windows(text: &str, hits: &[usize], after: usize) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut out: Vec<(usize, usize)> = Vec::new();
    for &hit in hits {
        let floor = hit.saturating_sub(BEFORE);
        let from = memchr::memrchr(b'\n', &bytes[floor..hit]).map_or(floor, |nl| floor + nl + 1);
        let from = floor_boundary(text, from);
        let to = ceil_boundary(text, (hit + after).min(text.len()));
        match out.last_mut() {
            Some(last) if from <= last.1 => last.1 = last.1.max(to),
            _ => out.push((from, to)),
        }
    }
    out
}

fn floor_boundary(text: &str, mut at: usize) -> usize {
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn ceil_boundary(text: &str, mut at: usize) -> usize {
    while at < text.len() && !text.is_char_boundary(at) {
        at += 1;
    }
    at
}

/// A text at least this long is searched with a DFA (built in about 0.4 ms, then about 1 ms per MB);
/// a shorter one with an NFA (built in half the time, searched at half the speed).
const DFA_FROM: usize = 64 << 10;

/// Every keyword of the rules, each once, in one automaton over lower-case text (a case-insensitive
/// automaton of the same words took twice as long to build and to run), and for each keyword the rules
/// it starts. Leftmost-longest, so a keyword inside a longer one (`pass` in `--password`) is taken as the
/// longer one; rules whose keywords would be prefixes of each other share one (`sk-` starts both the
/// Anthropic and the OpenAI rule). `None` only if it could not be built, which the tests rule out.
fn keywords(len: usize) -> Option<&'static (AhoCorasick, Vec<Vec<usize>>)> {
    static NFA: OnceLock<Option<(AhoCorasick, Vec<Vec<usize>>)>> = OnceLock::new();
    static DFA: OnceLock<Option<(AhoCorasick, Vec<Vec<usize>>)>> = OnceLock::new();
    let (cell, kind) = if len >= DFA_FROM {
        (&DFA, aho_corasick::AhoCorasickKind::DFA)
    } else {
        (&NFA, aho_corasick::AhoCorasickKind::ContiguousNFA)
    };
    cell.get_or_init(|| {
        let mut words: Vec<&'static str> = Vec::new();
        let mut rules: Vec<Vec<usize>> = Vec::new();
        for (i, rule) in RULES.iter().enumerate() {
            for k in rule.keywords {
                if let Some(at) = words.iter().position(|w| w == k) {
                    rules[at].push(i);
                } else {
                    words.push(k);
                    rules.push(vec![i]);
                }
            }
        }
        let ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(kind))
            .build(&words)
            .ok()?;
        Some((ac, rules))
    })
    .as_ref()
}

#[cfg(test)]
mod tests;
