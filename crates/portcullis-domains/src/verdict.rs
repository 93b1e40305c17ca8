//! Reading a reviewer's or tester's verdict from its final message (feedback-loop's protocol; handoff-router
//! reads a verdict as a finished report, so the two never ask two things of one report).
//!
//! Two forms are understood, and the last one in the message wins (an agent that quotes the format early
//! and answers at the end is read by its answer):
//! - a line `VERDICT: PASS` or `VERDICT: FAIL` (any case; leading Markdown like `**`, `#`, `>` or `-` and a
//!   trailing `.` are ignored);
//! - a JSON object with `"status": "PASS"` or `"FAIL"` (any case), bare or in a code fence.
//!
//! Anything else is no verdict: it counts as not passed.

/// A verdict as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// `PASS`.
    Pass,
    /// `FAIL`.
    Fail,
}

/// How an agent reports a verdict, for reasons and docs.
pub const HOW_TO_REPORT: &str = "end the final message with a line `VERDICT: PASS` or `VERDICT: FAIL` (or a JSON object \
     {\"status\": \"PASS\"} / {\"status\": \"FAIL\"})";

/// The most bytes of a message searched for a JSON verdict (a verdict object is small and near the end).
const JSON_SEARCH_BYTES: usize = 64 * 1024;

/// A verdict read from a message, with the text it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Pass or fail.
    pub outcome: Outcome,
    /// Where it was read (the line, or the object), cut short.
    pub excerpt: String,
    /// Byte offset in the message, to pick the last form.
    at: usize,
}

/// The verdict of a final message, or `None`.
#[must_use]
pub fn parse(message: &str) -> Option<Found> {
    let line = last_verdict_line(message);
    let json = last_json_status(message);
    match (line, json) {
        (Some(a), Some(b)) => Some(if a.at >= b.at { a } else { b }),
        (a, b) => a.or(b),
    }
}

fn outcome_of(word: &str) -> Option<Outcome> {
    let word = word
        .trim()
        .trim_end_matches(['.', '!', '*', '`', '"'])
        .trim();
    if word.eq_ignore_ascii_case("pass") || word.eq_ignore_ascii_case("passed") {
        Some(Outcome::Pass)
    } else if word.eq_ignore_ascii_case("fail") || word.eq_ignore_ascii_case("failed") {
        Some(Outcome::Fail)
    } else {
        None
    }
}

fn last_verdict_line(message: &str) -> Option<Found> {
    let mut found = None;
    let mut offset = 0;
    for line in message.split_inclusive('\n') {
        let at = offset;
        offset += line.len();
        let text = line.trim().trim_start_matches(|c: char| {
            matches!(c, '*' | '#' | '>' | '-' | '_' | '`') || c.is_whitespace()
        });
        let Some(head) = text.get(..8) else { continue };
        if !head.eq_ignore_ascii_case("verdict:") && !head.eq_ignore_ascii_case("verdict*") {
            continue;
        }
        // `**VERDICT:** PASS` puts the colon inside the bold marks.
        let rest = text[7..].trim_start_matches(['*', ':', ' ', '\t', '`']);
        let word = rest.split_whitespace().next().unwrap_or_default();
        if let Some(outcome) = outcome_of(word) {
            found = Some(Found {
                outcome,
                excerpt: cut(line.trim()),
                at,
            });
        }
    }
    found
}

fn last_json_status(message: &str) -> Option<Found> {
    let start = message.len().saturating_sub(JSON_SEARCH_BYTES);
    let start = (start..message.len())
        .find(|i| message.is_char_boundary(*i))
        .unwrap_or(message.len());
    let tail = &message[start..];
    let mut found = None;
    for (i, _) in tail.match_indices('{') {
        let mut stream =
            serde_json::Deserializer::from_str(&tail[i..]).into_iter::<serde_json::Value>();
        let Some(Ok(value)) = stream.next() else {
            continue;
        };
        let Some(status) = value.get("status").and_then(serde_json::Value::as_str) else {
            continue;
        };
        if let Some(outcome) = outcome_of(status) {
            let len = stream.byte_offset();
            found = Some(Found {
                outcome,
                excerpt: cut(&tail[i..i + len]),
                at: start + i,
            });
        }
    }
    found
}

/// At most 200 characters, on one line.
fn cut(text: &str) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c == '\n' { ' ' } else { c })
        .take(200)
        .collect();
    one_line.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(message: &str) -> Option<Outcome> {
        parse(message).map(|f| f.outcome)
    }

    #[test]
    fn verdict_lines_in_their_usual_dresses() {
        for (text, want) in [
            ("All good.\nVERDICT: PASS", Outcome::Pass),
            ("verdict: fail\n", Outcome::Fail),
            ("**VERDICT: PASS**", Outcome::Pass),
            ("**Verdict:** Fail.", Outcome::Fail),
            ("## VERDICT: PASSED", Outcome::Pass),
            ("> Verdict:   FAIL — two bugs", Outcome::Fail),
            ("- `VERDICT: PASS`", Outcome::Pass),
        ] {
            assert_eq!(outcome(text), Some(want), "{text:?}");
        }
    }

    #[test]
    fn the_last_verdict_wins() {
        let text = "Report with `VERDICT: PASS` or `VERDICT: FAIL`.\nVERDICT: PASS\n\nWait, one test fails.\nVERDICT: FAIL";
        assert_eq!(outcome(text), Some(Outcome::Fail));
        let mixed = "VERDICT: FAIL\nafter a rerun: {\"status\": \"PASS\", \"tests\": 12}";
        assert_eq!(outcome(mixed), Some(Outcome::Pass));
        let mixed = "{\"status\": \"PASS\"}\nVERDICT: FAIL";
        assert_eq!(outcome(mixed), Some(Outcome::Fail));
    }

    #[test]
    fn json_objects_bare_or_fenced() {
        assert_eq!(outcome(r#"{"status":"PASS"}"#), Some(Outcome::Pass));
        assert_eq!(
            outcome(
                "Result:\n```json\n{\n  \"status\": \"fail\",\n  \"failures\": [\"x\"]\n}\n```"
            ),
            Some(Outcome::Fail)
        );
        let found = parse(r#"prefix {"status": "PASS"} suffix"#).unwrap();
        assert_eq!(found.excerpt, r#"{"status": "PASS"}"#);
    }

    #[test]
    fn near_misses_are_no_verdict() {
        for text in [
            "",
            "Looks good to me, passing.",
            "The verdict is PASS",
            "VERDICT: MAYBE",
            "VERDICT:",
            r#"{"status": "done"}"#,
            r#"{"status": true}"#,
            "{\"status\": \"PASS\"",
            "VERDICT PASS",
            "Verdict—pass",
        ] {
            assert_eq!(outcome(text), None, "{text:?}");
        }
    }

    #[test]
    fn odd_input_never_panics() {
        for text in [
            "é{",
            "{{{{",
            "VERDICT:é",
            "\u{feff}VERDICT: PASS",
            "verdict:\u{0}pass",
        ] {
            let _ = parse(text);
        }
        let huge = format!("{}\nVERDICT: PASS", "{".repeat(200_000));
        assert_eq!(outcome(&huge), Some(Outcome::Pass));
    }
}
