//! The advisor's prompt: the agent's last instruction, why its stops were blocked, and its last answers,
//! with obvious secrets redacted and the whole bounded in size.
//!
//! Budget: the fixed frame (introduction and question) first; of the rest, a quarter for the instruction, a
//! quarter for the block reasons and the remainder for the answers. A piece longer than its share keeps its
//! start and its end around a `[… N bytes cut …]` mark. Redaction runs before the final cut, so a cut can
//! never leave the visible half of a secret behind ([`redacted_cut`]).

/// The question the advisor answers (the end of every prompt).
pub const QUESTION: &str = "Why is the agent stuck? Answer with one sentence: a concrete hint the agent can act on \
     next. No preamble, no list.";

/// What the prompt is built from.
#[derive(Debug, Clone, Default)]
pub struct Material {
    /// Who is stuck: `the main agent` or `the subagent \`x\``.
    pub who: String,
    /// Why portcullis escalates, in words.
    pub why: String,
    /// The latest instruction the agent was given (its task prompt, for a subagent).
    pub instruction: Option<String>,
    /// Why its stops were blocked: `(hook or "", reason)`, newest first.
    pub block_reasons: Vec<(String, String)>,
    /// Its latest answers, newest first.
    pub answers: Vec<String>,
}

/// The prompt for `material`, at most `max_bytes` long.
#[must_use]
pub fn build(material: &Material, max_bytes: usize) -> String {
    let intro = format!(
        "You advise an AI coding agent (Claude Code) that seems stuck ({who}: {why}). Below are its latest \
         instruction, the reasons its attempts to finish were refused, and its latest answers (secrets \
         redacted).\n\n",
        who = material.who,
        why = material.why
    );
    let outro = format!("\n## Question\n{QUESTION}\n");
    let room = max_bytes.saturating_sub(intro.len() + outro.len());
    let quarter = room / 4;

    let instruction = material.instruction.as_deref().map_or_else(
        || "(not found in the transcript)".to_owned(),
        |t| redacted_cut(t.trim(), quarter.saturating_sub(40)),
    );
    let instruction = format!("## Instruction\n{instruction}\n\n");

    let mut reasons = String::from("## Why its stops were blocked (newest first)\n");
    let reasons_room = quarter.saturating_sub(60);
    for (hook, reason) in material.block_reasons.iter().take(6) {
        let label = if hook.is_empty() {
            String::new()
        } else {
            format!("[{hook}] ")
        };
        let line = format!(
            "- {label}{}\n",
            one_line(&redacted_cut(reason, reasons_room))
        );
        let left = reasons_room.saturating_sub(reasons.len());
        if left < 80 {
            break;
        }
        reasons.push_str(&cut_middle(&line, left));
    }
    if material.block_reasons.is_empty() {
        reasons.push_str("- (none recorded)\n");
    }
    reasons.push('\n');

    let mut answers = String::from("## Its latest answers (newest first)\n");
    let answers_room = room.saturating_sub(instruction.len() + reasons.len());
    let count = material.answers.len().clamp(1, 3);
    for (i, answer) in material.answers.iter().take(3).enumerate() {
        let share = answers_room.saturating_sub(answers.len()) / (count - i);
        let head = format!("{}. ", i + 1);
        let body = redacted_cut(answer.trim(), share.saturating_sub(head.len() + 2));
        answers.push_str(&head);
        answers.push_str(&body);
        answers.push_str("\n\n");
    }
    let mut prompt = intro + &instruction + &reasons + &answers + &outro;
    // The shares are computed to fit; this guards the arithmetic (and a tiny `max_bytes`).
    if prompt.len() > max_bytes {
        let keep = floor_char_boundary(&prompt, max_bytes.saturating_sub(outro.len()));
        prompt.truncate(keep);
        prompt.push_str(&outro);
        if prompt.len() > max_bytes {
            let at = floor_char_boundary(&prompt, max_bytes);
            prompt.truncate(at);
        }
    }
    prompt
}

/// `text` redacted and cut to `max` bytes. Redacting a long text is bounded by cutting it first to four
/// times `max`; both cuts keep the start and the end, so the second removes the first's seam, and any
/// secret split there, with a wide margin.
#[must_use]
pub fn redacted_cut(text: &str, max: usize) -> String {
    let first = cut_middle(text, max.saturating_mul(4).saturating_add(4096));
    cut_middle(&redact(&first), max)
}

/// `text` if it fits in `max` bytes, else its start and end around a mark saying how much was cut.
#[must_use]
pub fn cut_middle(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mark_room = 32;
    if max <= mark_room {
        return text[..floor_char_boundary(text, max)].to_owned();
    }
    let half = (max - mark_room) / 2;
    let head = &text[..floor_char_boundary(text, half)];
    let tail = &text[ceil_char_boundary(text, text.len() - half)..];
    let cut = text.len() - head.len() - tail.len();
    format!("{head}[… {cut} bytes cut …]{tail}")
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char_boundary(s: &str, mut i: usize) -> usize {
    while i < s.len() && !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// `text` with secrets replaced by `[REDACTED <kind>]` markers: the suite's one redaction
/// ([`portcullis_secrets::Scanner`], the same secret-guard applies to tool output).
#[must_use]
pub fn redact(text: &str) -> String {
    portcullis_secrets::Scanner::default()
        .redact(text)
        .map_or_else(|| text.to_owned(), |(out, _)| out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The advisor prompt goes through the suite's scanner (its corpus and false-positive checks live in
    /// `portcullis-secrets`): secrets become `[REDACTED <kind>]`, names and ordinary text stay.
    #[test]
    fn secrets_are_redacted_and_names_kept() {
        let text = "\
export ANTHROPIC_API_KEY=sk-ant-api03-Xq7Lm2Vb9Nc4Zr8Tw1Ks6Hd3Jf5Gp0Ye
DB_PASSWORD = hunter2-very-secret
aws AKIAZ2ZJ3Q4XK5MB6NCD and ghp_aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5
curl -H 'Authorization: Bearer Qm8Xz2Lp4Vn7Rt1Yw9Kc3Hb6Jd0Fg5Ts' https://bob:pa55word@db.internal/x
{\"api_token\": \"t0k3n-Value-93\", \"name\": \"kept\"}
-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
-----END OPENSSH PRIVATE KEY-----
the build fails in src/lib.rs
mid-line: export AWS_SECRET_ACCESS_KEY=9v8LxQ2mT4rZp7Ws1Kd3Hf6Jy0Bn5Cg8Xa2Ue4Ri and more";
        let out = redact(text);
        for secret in [
            "sk-ant-api03",
            "hunter2",
            "AKIAZ2ZJ3Q4XK5MB6NCD",
            "ghp_aB3",
            "Qm8Xz2Lp4Vn7",
            "pa55word",
            "t0k3n-Value",
            "b3BlbnNzaC1rZXkt",
            "9v8LxQ2mT4rZp7",
        ] {
            assert!(!out.contains(secret), "{secret} leaked:\n{out}");
        }
        for kept in [
            "export ANTHROPIC_API_KEY=[REDACTED anthropic-api-key]\n",
            "mid-line: export AWS_SECRET_ACCESS_KEY=[REDACTED aws-secret-key] and more",
            "DB_PASSWORD = [REDACTED password]",
            "https://bob:[REDACTED url-password]@db.internal/x",
            "\"name\": \"kept\"",
            "[REDACTED private-key]",
            "the build fails in src/lib.rs",
        ] {
            assert!(out.contains(kept), "{kept} missing:\n{out}");
        }
    }

    #[test]
    fn ordinary_text_is_left_alone() {
        let text = "The key point: tests in api/ fail because the token parser rejects `=`.\nRun cargo test.";
        assert_eq!(redact(text), text);
    }

    fn material(size: usize) -> Material {
        Material {
            who: "the main agent".into(),
            why: "had 4 stops in a row blocked".into(),
            instruction: Some(format!("fix it {}", "é".repeat(size))),
            block_reasons: (0..10)
                .map(|i| {
                    (
                        "feedback-loop".into(),
                        format!("reason {i} {}", "r".repeat(size)),
                    )
                })
                .collect(),
            answers: (0..5)
                .map(|i| format!("answer {i} {}", "a".repeat(size)))
                .collect(),
        }
    }

    #[test]
    fn the_prompt_stays_within_its_bound_and_keeps_the_question() {
        for size in [0, 10, 1000, 100_000] {
            for max in [1024, 4096, 24 * 1024, 262_144] {
                let p = build(&material(size), max);
                assert!(p.len() <= max, "{size}/{max}: {}", p.len());
                assert!(p.ends_with(&format!("{QUESTION}\n")), "{size}/{max}");
                assert!(p.contains("## Instruction"), "{size}/{max}");
            }
        }
        let small = build(&material(10), 24 * 1024);
        assert!(
            small.contains("answer 0") && small.contains("answer 2") && !small.contains("answer 3")
        );
        assert!(small.contains("[feedback-loop] reason 0"));
    }

    #[test]
    fn a_secret_cut_in_half_is_still_redacted() {
        let key = format!("sk-ant-{}", "k".repeat(60));
        let m = Material {
            answers: vec![format!("{}{key}{}", "x".repeat(5000), "y".repeat(5000))],
            ..material(0)
        };
        let p = build(&m, 2048);
        assert!(!p.contains("kkkkkkkkkk"), "{p}");
    }

    #[test]
    fn cut_middle_keeps_both_ends_on_char_boundaries() {
        let t = "ä".repeat(1000);
        let c = cut_middle(&t, 100);
        assert!(
            c.len() <= 100 && c.starts_with('ä') && c.ends_with('ä'),
            "{c}"
        );
        assert!(c.contains("bytes cut"));
        assert_eq!(cut_middle("short", 100), "short");
    }
}
