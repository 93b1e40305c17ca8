//! The advisor's prompt: the agent's last instruction, why its stops were blocked, and its last answers,
//! with obvious secrets redacted and the whole bounded in size.
//!
//! Budget: the fixed frame (introduction and question) first; of the rest, a quarter for the instruction, a
//! quarter for the block reasons and the remainder for the answers. A piece longer than its share keeps its
//! start and its end around a `[… N bytes cut …]` mark. Redaction runs before the final cut, so a cut can
//! never leave the visible half of a secret behind ([`redacted_cut`]).

use std::sync::OnceLock;

use regex::Regex;

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

/// The redaction rules: (pattern, replacement). Kept names (`$1`) say what was there.
fn rules() -> &'static [(Regex, &'static str)] {
    static RULES: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    RULES.get_or_init(|| {
        [
            // PEM private keys, whole blocks (or to the end when the end line is missing).
            (
                r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----(?s:.*?)(-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|\z)",
                "[redacted private key]",
            ),
            // `.env`-style and config assignments whose name says secret: keep the name, drop the value.
            // Environment names are upper case; lower-case config keys are matched as whole words.
            (
                r#"\b([A-Z0-9_]*(?:KEY|TOKEN|SECRET|PASSWORD|PASSWD|PASS|PWD|CREDENTIALS?|AUTH)[A-Z0-9_]*\s*[=:]\s*)("[^"\n]*"|'[^'\n]*'|[^\s"',;]+)"#,
                "$1[redacted]",
            ),
            // Lower-case and camel-case keys with the secret word anywhere in the name (`aws_secret_access_key`,
            // `secret_key_base`, `_authToken`, `db.password`).
            (
                r#"(?i)\b([a-z0-9_.-]*(?:api[_-]?key|access[_-]?key|private[_-]?key|client[_-]?secret|secret|token|password|passwd|pass|pwd)[a-z0-9_.-]*\s*[=:]\s*)("[^"\n]*"|'[^'\n]*'|[^\s"',;]+)"#,
                "$1[redacted]",
            ),
            // `curl -u user:password`, `--user user:password`.
            (
                r#"((?:^|\s)(?:-u|--user)[\s=]+['"]?[^\s:'"]+):[^\s'"]+"#,
                "$1:[redacted]",
            ),
            // Azure and similar connection strings.
            (
                r"(?i)\b((?:AccountKey|SharedAccessKey|Password|Pwd)=)[^;\s]+",
                "$1[redacted]",
            ),
            (
                r#"(?i)("[A-Za-z0-9_.-]*(?:key|token|secret|password|passwd|credentials?)"\s*:\s*)"[^"]*""#,
                "$1\"[redacted]\"",
            ),
            // Provider keys and tokens with a recognisable shape, wherever they stand.
            (r"\bsk-[A-Za-z0-9_-]{16,}", "[redacted key]"),
            (r"\b(AKIA|ASIA)[0-9A-Z]{16}\b", "[redacted key]"),
            (r"\bgh[pousr]_[A-Za-z0-9]{30,}", "[redacted token]"),
            (r"\bgithub_pat_[A-Za-z0-9_]{30,}", "[redacted token]"),
            (r"\bglpat-[A-Za-z0-9_-]{20,}", "[redacted token]"),
            (r"\bxox[abeoprs]-[A-Za-z0-9-]{10,}", "[redacted token]"),
            (r"\bhf_[A-Za-z0-9]{30,}", "[redacted token]"),
            (r"\bnpm_[A-Za-z0-9]{36}", "[redacted token]"),
            (r"\bpypi-AgE[A-Za-z0-9_-]{40,}", "[redacted token]"),
            (r"\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}", "[redacted key]"),
            (r"\bshp(at|ca|pa|ss)_[a-fA-F0-9]{32}", "[redacted token]"),
            (r"\bdckr_pat_[A-Za-z0-9_-]{20,}", "[redacted token]"),
            (r"\bdop_v1_[a-f0-9]{64}", "[redacted token]"),
            (r"\b[0-9]{8,10}:AA[A-Za-z0-9_-]{33}", "[redacted token]"),
            (
                r"https://hooks\.slack\.com/(services|workflows|triggers)/[A-Za-z0-9/_-]+",
                "https://hooks.slack.com/[redacted]",
            ),
            (
                r"https://(discord|discordapp)\.com/api/webhooks/[0-9]+/[A-Za-z0-9_-]+",
                "https://$1.com/api/webhooks/[redacted]",
            ),
            (r"\bAIza[0-9A-Za-z_-]{35}", "[redacted key]"),
            (r"\b(sk|rk|pk)_(live|test)_[A-Za-z0-9]{16,}", "[redacted key]"),
            (
                r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
                "[redacted token]",
            ),
            (r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{16,}", "$1 [redacted]"),
            // Credentials in URLs: scheme://user:password@host.
            (r"([a-z][a-z0-9+.-]*://[^/\s:@]+):[^@\s/]+@", "$1:[redacted]@"),
        ]
        .into_iter()
        .map(|(p, r)| (Regex::new(p).expect("redaction patterns are valid"), r))
        .collect()
    })
}

/// `text` with obvious secrets replaced by `[redacted …]` marks.
#[must_use]
pub fn redact(text: &str) -> String {
    let mut out = text.to_owned();
    for (re, with) in rules() {
        if re.is_match(&out) {
            out = re.replace_all(&out, *with).into_owned();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_and_names_kept() {
        let text = "\
export ANTHROPIC_API_KEY=sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123
DB_PASSWORD = hunter2-very-secret
aws AKIAIOSFODNN7EXAMPLE and ghp_0123456789abcdefghijklmnopqrstuvwxyz
curl -H 'Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345' https://bob:pa55word@example.com/x
{\"api_token\": \"t0k3n-value\", \"name\": \"kept\"}
-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
-----END OPENSSH PRIVATE KEY-----
the build fails in src/lib.rs
mid-line: export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG and more
password = 'quoted secret'";
        let out = redact(text);
        for secret in [
            "sk-ant-api03",
            "hunter2",
            "AKIAIOSFODNN7EXAMPLE",
            "ghp_0123",
            "abcdefghijklmnopqrstuvwxyz012345",
            "pa55word",
            "t0k3n-value",
            "b3BlbnNzaC1rZXkt",
            "wJalrXUtnFEMI",
            "quoted secret",
        ] {
            assert!(!out.contains(secret), "{secret} leaked:\n{out}");
        }
        for kept in [
            "export ANTHROPIC_API_KEY=[redacted]\n",
            "mid-line: export AWS_SECRET_ACCESS_KEY=[redacted] and more",
            "password = [redacted]",
            "DB_PASSWORD =",
            "https://bob:[redacted]@example.com/x",
            "\"name\": \"kept\"",
            "[redacted private key]",
            "the build fails in src/lib.rs",
        ] {
            assert!(out.contains(kept), "{kept} missing:\n{out}");
        }
    }

    /// The credential forms of the common secret scanners' rule sets (gitleaks, trufflehog, detect-secrets)
    /// that the first rules missed.
    #[test]
    fn scanner_credential_forms_are_redacted() {
        let text = "\
[default]
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
//registry.npmjs.org/:_authToken=npm_abcdefghijklmnopqrstuvwxyz0123456789
DB_PASS=s3cr3t-db-pass
SMTP_PASS: mail-pass-value
  secret_key_base: 9f8e7d6c5b4a39281706f5e4d3c2b1a0
token hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789
webhook https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX
curl -u admin:curl-pass-value https://example.com
curl --user admin:curl-user-value https://example.com
sendgrid SG.abcdefghijklmnopqrstuv.abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG
shopify shpat_0123456789abcdef0123456789abcdef
pypi pypi-AgEIcHlwaS5vcmcCJGE0YzYtNTk5ZS00ZjM0LWE2ZGEtN2Q5OGRiZGM
slack bot xoxb-123456789012-1234567890123-abcdefghijklmnopqrstuvwx
docker dckr_pat_abcdefghijklmnopqrstuvwxyz0
azure AccountKey=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ==;
telegram 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0";
        let out = redact(text);
        for secret in [
            "wJalrXUtnFEMI",
            "npm_abcdefghij",
            "s3cr3t-db-pass",
            "mail-pass-value",
            "9f8e7d6c5b4a",
            "hf_AbCdEf",
            "XXXXXXXXXXXXXXXXXXXXXXXX",
            "curl-pass-value",
            "curl-user-value",
            "SG.abcdefghij",
            "shpat_0123",
            "pypi-AgEIcHlwaS5vcmc",
            "xoxb-123456789012",
            "dckr_pat_abc",
            "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ==",
            "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0",
        ] {
            assert!(!out.contains(secret), "{secret} leaked:\n{out}");
        }
        for kept in [
            "aws_secret_access_key = [redacted]",
            "DB_PASS=[redacted]",
            "SMTP_PASS: [redacted]",
            "secret_key_base: [redacted]",
            "curl -u admin:[redacted] https://example.com",
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
