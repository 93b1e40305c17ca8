//! The rules: the credential forms of the common secret scanners' rule sets (gitleaks, trufflehog,
//! detect-secrets), each a regex behind keywords. A rule's regex is compiled the first time one of its
//! keywords is in a text, and its candidates pass a check before they count.

use std::sync::OnceLock;

use regex::bytes::Regex;

use crate::judge;

/// How a rule's candidate is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Check {
    /// The shape is the proof (a provider's prefix and length).
    Shape,
    /// A password in a URL: not a placeholder.
    UrlPassword,
    /// A `name = value` assignment: the name must say secret, the value must look like one.
    Assignment,
    /// A bearer or basic credential: long and random enough.
    Credential,
}

/// One rule.
#[derive(Debug)]
pub(crate) struct Rule {
    /// The kind, as the marker names it: `[REDACTED <kind>]`.
    pub(crate) kind: &'static str,
    /// Lower-case texts one of which must be in a text (case-insensitively) for the rule to run.
    pub(crate) keywords: &'static [&'static str],
    pattern: &'static str,
    /// The capture group that is the secret (0: the whole match).
    pub(crate) group: usize,
    pub(crate) check: Check,
    compiled: OnceLock<Option<Regex>>,
}

impl Rule {
    const fn new(
        kind: &'static str,
        keywords: &'static [&'static str],
        pattern: &'static str,
        group: usize,
        check: Check,
    ) -> Self {
        Self {
            kind,
            keywords,
            pattern,
            group,
            check,
            compiled: OnceLock::new(),
        }
    }

    /// The compiled regex (compiled on first use; a pattern that does not compile is a bug the tests
    /// catch, and such a rule finds nothing rather than panicking in a hook).
    pub(crate) fn regex(&self) -> Option<&Regex> {
        self.compiled
            // Bytes, ASCII classes (`(?-u)`): small automata, quick to build and to run. Every class
            // boundary is an ASCII byte, so a match never splits a character.
            .get_or_init(|| Regex::new(&format!("(?-u){}", self.pattern)).ok())
            .as_ref()
    }

    /// Whether a keyword hit at `start..end` of `text` is worth running this rule for: an assignment
    /// must follow the keyword of the assignment rule; a token rule whose match starts at a word
    /// boundary needs one before its keyword (`task-list` is no `sk-` key); a Mailgun key is `key-`.
    pub(crate) fn gate(&self, text: &[u8], start: usize, end: usize) -> bool {
        if self.check == Check::Assignment {
            return crate::assignment::follows(text, end);
        }
        if self.kind == "mailgun-key" && text.get(end) != Some(&b'-') {
            return false;
        }
        let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
        // Only where the keyword is how the match begins (`(?-u:\b)sk-`, `(?-u:\b)(?:AKIA|…`), not
        // where it stands inside (`…://`, `…:AA…`).
        let keyword_first = self.pattern.strip_prefix("(?-u:\\b)").is_some_and(|rest| {
            rest.starts_with("(?:") || rest.starts_with(|c: char| c.is_ascii_alphabetic())
        });
        !keyword_first || start == 0 || !word(text[start - 1])
    }

    /// Whether a candidate found by this rule counts: `whole` is the match, `secret` the secret part,
    /// `name` the assignment's name (for [`Check::Assignment`]).
    pub(crate) fn accepts(&self, secret: &str, name: Option<&str>) -> bool {
        match self.check {
            Check::Shape => !judge::is_documentation_example(secret),
            Check::UrlPassword => judge::url_password(secret),
            Check::Assignment => {
                name.is_some_and(|n| judge::secret_name(n).is_some())
                    && judge::assigned_secret(secret, name.unwrap_or_default())
            }
            Check::Credential => judge::random_enough(secret, 3.0),
        }
    }
}

/// Every rule, most specific first: where two overlap, the earlier names the kind.
pub(crate) static RULES: [Rule; 35] = [
    Rule::new(
        "private-key",
        &["-----begin"],
        r"-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----|\z)",
        0,
        Check::Shape,
    ),
    Rule::new(
        "aws-access-key-id",
        &["akia", "asia", "abia", "acca"],
        r"(?-u:\b)(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}(?-u:\b)",
        0,
        Check::Shape,
    ),
    Rule::new(
        "github-token",
        &["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
        r"(?-u:\b)gh[pousr]_[A-Za-z0-9]{36,}(?-u:\b)",
        0,
        Check::Shape,
    ),
    Rule::new(
        "github-token",
        &["github_pat_"],
        r"(?-u:\b)github_pat_[A-Za-z0-9_]{40,}(?-u:\b)",
        0,
        Check::Shape,
    ),
    Rule::new(
        "gitlab-token",
        &["glpat-", "gldt-", "glptt-", "glrt-"],
        r"(?-u:\b)(?:glpat|gldt|glptt|glrt)-[A-Za-z0-9_\-]{20,}",
        0,
        Check::Shape,
    ),
    Rule::new(
        "slack-token",
        &["xox"],
        r"(?-u:\b)xox[abposr]-[A-Za-z0-9\-]{10,}",
        0,
        Check::Shape,
    ),
    Rule::new(
        "slack-webhook",
        &["hooks.slack.com"],
        r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_\-]{20,}",
        0,
        Check::Shape,
    ),
    Rule::new(
        "discord-webhook",
        &["discord"],
        r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/[0-9]{5,}/[A-Za-z0-9_\-]{20,}",
        0,
        Check::Shape,
    ),
    Rule::new(
        "google-api-key",
        &["aiza"],
        r"(?-u:\b)AIza[0-9A-Za-z_\-]{35}(?-u:\b)",
        0,
        Check::Shape,
    ),
    Rule::new(
        "stripe-key",
        &["sk_live_", "rk_live_", "sk_test_", "rk_test_"],
        r"(?-u:\b)[sr]k_(?:live|test)_[A-Za-z0-9]{16,}(?-u:\b)",
        0,
        Check::Shape,
    ),
    Rule::new(
        "anthropic-api-key",
        &["sk-"],
        r"(?-u:\b)sk-ant-[A-Za-z0-9_\-]{20,}",
        0,
        Check::Shape,
    ),
    Rule::new(
        "openai-api-key",
        &["sk-"],
        r"(?-u:\b)sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}",
        0,
        Check::Shape,
    ),
    Rule::new(
        "npm-token",
        &["npm_"],
        r"(?-u:\b)npm_[A-Za-z0-9]{36}(?-u:\b)",
        0,
        Check::Shape,
    ),
    Rule::new(
        "pypi-token",
        &["pypi-age"],
        r"(?-u:\b)pypi-AgE[A-Za-z0-9_\-]{40,}",
        0,
        Check::Shape,
    ),
    Rule::new(
        "sendgrid-key",
        &["sg."],
        r"(?-u:\b)SG\.[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{16,}",
        0,
        Check::Shape,
    ),
    Rule::new(
        "huggingface-token",
        &["hf_"],
        r"(?-u:\b)hf_[A-Za-z0-9]{30,}(?-u:\b)",
        0,
        Check::Shape,
    ),
    Rule::new(
        "docker-hub-token",
        &["dckr_pat_"],
        r"(?-u:\b)dckr_pat_[A-Za-z0-9_\-]{20,}",
        0,
        Check::Shape,
    ),
    Rule::new(
        "digitalocean-token",
        &["dop_v1_", "doo_v1_", "dor_v1_"],
        r"(?-u:\b)do[opr]_v1_[a-f0-9]{64}(?-u:\b)",
        0,
        Check::Shape,
    ),
    Rule::new(
        "shopify-token",
        &["shpat_", "shpca_", "shppa_", "shpss_"],
        r"(?-u:\b)shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}(?-u:\b)",
        0,
        Check::Shape,
    ),
    Rule::new(
        "telegram-bot-token",
        &[":aa"],
        r"(?-u:\b)[0-9]{8,10}:AA[A-Za-z0-9_\-]{33}(?-u:\b)",
        0,
        Check::Shape,
    ),
    Rule::new(
        "azure-storage-key",
        &["accountkey=", "sharedaccesskey="],
        r"(?i)(?-u:\b)(?:AccountKey|SharedAccessKey)=([A-Za-z0-9+/=]{20,})",
        1,
        Check::Shape,
    ),
    Rule::new(
        "databricks-token",
        &["dapi"],
        r"(?-u:\b)dapi[a-f0-9]{32}(?-u:\b)",
        0,
        Check::Shape,
    ),
    Rule::new(
        "square-token",
        &["sq0atp-", "sq0csp-"],
        r"(?-u:\b)sq0(?:atp|csp)-[0-9A-Za-z_\-]{22,}",
        0,
        Check::Shape,
    ),
    Rule::new(
        "mailgun-key",
        &["key"],
        r"(?-u:\b)key-[0-9a-f]{32}(?-u:\b)",
        0,
        Check::Shape,
    ),
    Rule::new(
        "age-secret-key",
        &["age-secret-key-"],
        r"(?-u:\b)AGE-SECRET-KEY-1[0-9A-Z]{58}(?-u:\b)",
        0,
        Check::Shape,
    ),
    Rule::new(
        "jwt",
        &["eyj"],
        r"(?-u:\b)eyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}",
        0,
        Check::Shape,
    ),
    Rule::new(
        "url-password",
        &["://"],
        r"(?-u:\b)[A-Za-z][A-Za-z0-9+.\-]{1,20}://[^\s:/@'`]*:([^\s@/'`]+)@(example\.(?:com|org|net)(?-u:\b))?",
        1,
        Check::UrlPassword,
    ),
    Rule::new(
        "http-credential",
        &["bearer", "basic"],
        r"(?i)(?-u:\b)(?:bearer|basic)[ \t]+([A-Za-z0-9._~+/=\-]{20,})",
        1,
        Check::Credential,
    ),
    Rule::new(
        "password",
        &[" -u ", " --user", "--password"],
        r"(?:^|\s)(?:-u|--user)[ \t=]+'?[^\s:'\x22`]+:([^\s'\x22`]+)|(?:^|\s)--password[ \t=]+([^\s'\x22`]{4,})",
        1,
        Check::UrlPassword,
    ),
    // `mysql -pPASSWORD` (the password glued to `-p`, as the MySQL clients take it).
    Rule::new(
        "password",
        &["mysql", "mariadb"],
        r"(?-u:\b)(?:mysql|mysqldump|mysqladmin|mysqlimport|mariadb|mariadb-dump)(?-u:\b)[^\n]*?\s-p([^\s'\x22`]{4,})",
        1,
        Check::UrlPassword,
    ),
    // A `.netrc` entry (`machine`, then `login`, then the password after its keyword), on one line or
    // several.
    Rule::new(
        "password",
        &["machine"],
        r"(?-u:\b)machine\s+\S+(?:\s+(?:login|account|port)\s+\S+)*\s+password\s+(\S+)",
        1,
        Check::UrlPassword,
    ),
    // A `.pgpass` line: `host:port:database:user:password`.
    Rule::new(
        "password",
        &[":5432:", ":*:"],
        r"(?m)^[^:\s]+:(?:[0-9]+|\*):[^:\s]+:[^:\s]+:(\S{4,})$",
        1,
        Check::UrlPassword,
    ),
    // A Docker config's registry credential (`"auth": "base64(user:password)"`).
    Rule::new(
        "docker-auth",
        &["\"auth\"", "\"identitytoken\""],
        r#""(?:auth|identitytoken)"\s*:\s*"([A-Za-z0-9+/=_\-.]{8,})""#,
        1,
        Check::Shape,
    ),
    // Maven's `settings.xml` and the like: `<password>…</password>`, `<passphrase>…</passphrase>`.
    Rule::new(
        "password",
        &["<password>", "<passphrase>"],
        r"<(?:password|passphrase)>([^<\s]{4,})</(?:password|passphrase)>",
        1,
        Check::UrlPassword,
    ),
    // Assignments of secret-named keys: `DB_PASSWORD=…`, `api_key: …`, `"token": "…"`, read by hand
    // (`assignment.rs`) around each keyword; the kind comes from the name.
    Rule::new(
        "secret",
        &[
            "pass",
            "pwd",
            "secret",
            "token",
            "key",
            "credential",
            "auth",
        ],
        "",
        0,
        Check::Assignment,
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles_and_keywords_are_lower_case() {
        for r in RULES.iter().filter(|r| r.check != Check::Assignment) {
            assert!(r.regex().is_some(), "{}: {}", r.kind, r.pattern);
            for k in r.keywords {
                assert_eq!(*k, k.to_lowercase(), "{}", r.kind);
            }
        }
    }
}
