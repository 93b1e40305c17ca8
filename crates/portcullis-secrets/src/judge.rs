//! Whether a candidate is a secret: names that say secret, and values that look like one rather than
//! like code, a placeholder, a path or a number. These checks are what keeps ordinary source code and
//! logs free of false positives (`token = next_token()`, `"max_tokens": 4096`, `password: ${DB_PASS}`).

/// What a name says its value is, or `None` when it does not say secret.
#[must_use]
pub fn secret_name(name: &str) -> Option<&'static str> {
    let words = words(name);
    let has = |w: &str| words.iter().any(|x| x == w);
    if has("public") || has("publishable") {
        return None;
    }
    if has("aws") && (has("secret") || has("sak")) {
        return Some("aws-secret-key");
    }
    if ["password", "passwd", "passphrase", "pwd", "pass", "pw"]
        .iter()
        .any(|w| has(w))
    {
        return Some("password");
    }
    if has("secret") || has("secrets") {
        return Some("secret");
    }
    if has("token") || has("authtoken") || has("apitoken") {
        return Some("token");
    }
    if has("credential") || has("credentials") || has("creds") {
        return Some("credential");
    }
    if has("apikey") || has("privatekey") || has("accesskey") {
        return Some("api-key");
    }
    let key_with = [
        "api",
        "access",
        "private",
        "secret",
        "auth",
        "signing",
        "master",
        "client",
        "encryption",
        "license",
        "app",
        "service",
    ];
    if has("key") && key_with.iter().any(|w| has(w)) {
        return Some("api-key");
    }
    // `STRIPE_KEY`, `OPENAI_KEY`: an environment-style name ending in KEY.
    let upper = name
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    if upper && name.ends_with("_KEY") {
        return Some("api-key");
    }
    // `PGPASSWORD`, `DBPASS`, `MYSQL_PWD`, `VAULTTOKEN`: an environment-style name whose last word ends
    // in what says secret, run together with what it belongs to.
    if upper && name != "PWD" && name != "OLDPWD" {
        let last = name.rsplit('_').next().unwrap_or(name);
        if ["PASSWORD", "PASSWD", "PASS", "PWD"]
            .iter()
            .any(|s| last.ends_with(s))
        {
            return Some("password");
        }
        if last.ends_with("SECRET") {
            return Some("secret");
        }
        if last.ends_with("TOKEN") {
            return Some("token");
        }
    }
    None
}

/// The lower-case words of an identifier: split at `_`, `.`, `-` and camel-case humps.
fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if matches!(c, '_' | '.' | '-' | ' ' | '/' | ':') {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Whether `value`, assigned to the secret-named `name`, looks like a secret.
#[must_use]
pub fn assigned_secret(value: &str, name: &str) -> bool {
    let password = secret_name(name) == Some("password");
    let min = if password { 6 } else { 8 };
    if value.len() < min || value.len() > 300 || value.chars().any(char::is_whitespace) {
        return false;
    }
    if is_placeholder(value) || looks_like_code(value, !password) || looks_like_path(value) {
        return false;
    }
    // Where a secret is, not the secret: `run-with-secrets --env TOKEN=file:.env#API_TOKEN`.
    if ["file:", "env:", "op://"]
        .iter()
        .any(|p| value.starts_with(p))
    {
        return false;
    }
    if value
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return false;
    }
    random_enough(value, if password { 2.4 } else { 3.0 })
}

/// A password in a URL (`scheme://user:PASSWORD@host`) or on a command line (`-u user:PASSWORD`) that is
/// not a placeholder or a variable.
#[must_use]
pub fn url_password(value: &str) -> bool {
    value.len() >= 3 && !is_placeholder(value) && !value.starts_with(['$', '%', '{', '<', '*'])
}

/// A value of any name that is long and random enough to be a generated secret on its own (a dotenv
/// file's `SESSION_SEED=...`), and is not a URL, a path, code or a placeholder.
#[must_use]
pub fn random_secret(value: &str) -> bool {
    value.len() >= 16
        && !value.chars().any(char::is_whitespace)
        && !is_placeholder(value)
        && !looks_like_code(value, true)
        && !looks_like_path(value)
        && random_enough(value, 3.5)
}

/// Shannon entropy (bits per character) at least `bits`, capped by what the length allows: an 8-character
/// value cannot carry more than 3 bits per character.
#[must_use]
pub fn random_enough(value: &str, bits: f64) -> bool {
    let n = value.chars().count();
    if n == 0 {
        return false;
    }
    let most = (n as f64).log2();
    entropy(value) >= bits.min(most * 0.85)
}

/// Shannon entropy in bits per character.
#[must_use]
pub fn entropy(value: &str) -> f64 {
    let mut counts = std::collections::HashMap::<char, usize>::new();
    let mut n = 0usize;
    for c in value.chars() {
        *counts.entry(c).or_default() += 1;
        n += 1;
    }
    let n = n as f64;
    counts
        .values()
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// The documented example keys (AWS's `AKIAIOSFODNN7EXAMPLE`, ...): shown in every tutorial, never a
/// secret.
#[must_use]
pub fn is_documentation_example(value: &str) -> bool {
    value.contains("EXAMPLE")
}

fn is_placeholder(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    PLACEHOLDER_PARTS.iter().any(|w| lower.contains(w))
        || PLACEHOLDER_WORDS.contains(&lower.as_str())
        || value.starts_with(['$', '%', '@', '&', '*', '!', '#', '?', '=', ':'])
}

fn looks_like_code(value: &str, digits_are_names: bool) -> bool {
    if value.contains(['(', ')', '[', ']', '{', '}', '`', '\\'])
        || value.contains("::")
        || value.contains("->")
        || value.contains("=>")
    {
        return true;
    }
    // A dotted path of names (`self.token`, `config.api_key`, `node.dot2_token`).
    let parts: Vec<&str> = value.split('.').collect();
    if parts.len() > 1 && parts.iter().all(|p| name_like(p, true)) {
        return true;
    }
    // A name, a type or a constant (`next_token`, `Token`, `API_KEY`, `authToken`, `_bindgen_ty_3`),
    // not a generated secret, whose capitals fall anywhere (`uUaVcojsNOBAGx`). A password may be a word
    // with digits (`hunter2`), so there digits make it no name.
    if name_like(value, digits_are_names) {
        return true;
    }
    // Trailing punctuation of a statement or a call (`token;`, `key,`).
    value.ends_with([';', ',', ':'])
}

/// Whether `s` is an identifier cased like a name: each `_`-separated part (digits left out when
/// `digits` allows them) all lower case, all upper case, or camel case (no two capitals side by side).
fn name_like(s: &str, digits: bool) -> bool {
    let ident = !s.is_empty()
        && s.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !ident || (!digits && s.bytes().any(|b| b.is_ascii_digit())) {
        return false;
    }
    s.split('_').all(|part| {
        let letters: Vec<u8> = part.bytes().filter(u8::is_ascii_alphabetic).collect();
        wordy(&letters)
    })
}

/// Whether letters are cased like a word or words: all lower, all upper, or camel case with acronyms
/// (`CFOptionFlags`, `kCFStringTokenizerTokenNone`), where every run of lower-case letters but the first
/// is at least two long. Random text breaks that at once (`uUaVcojsNOBAGx`: `a`).
fn wordy(b: &[u8]) -> bool {
    let lower = b.iter().all(|c| !c.is_ascii_uppercase());
    let upper = b.iter().all(|c| !c.is_ascii_lowercase());
    if lower || upper {
        return true;
    }
    let mut runs = Vec::new();
    let mut len = 0;
    for c in b {
        if c.is_ascii_lowercase() {
            len += 1;
        } else if len > 0 {
            runs.push(len);
            len = 0;
        }
    }
    if len > 0 {
        runs.push(len);
    }
    let first_at_start = b.first().is_some_and(u8::is_ascii_lowercase);
    runs.iter()
        .skip(usize::from(first_at_start))
        .all(|&n| n >= 2)
}

fn looks_like_path(value: &str) -> bool {
    if value.starts_with(['/', '~']) || value.starts_with("./") || value.starts_with("../") {
        return true;
    }
    if value.contains("://") {
        return true;
    }
    // `prod/db/password`: folders of lower-case words (a base64 secret has capitals).
    if value.contains('/') && !value.bytes().any(|b| b.is_ascii_uppercase()) {
        return true;
    }
    let lower = value.to_ascii_lowercase();
    FILE_EXTENSIONS.iter().any(|e| lower.ends_with(e))
}

/// Parts of a value that make it a placeholder, not a secret.
const PLACEHOLDER_PARTS: &[&str] = &[
    "example",
    "changeme",
    "change-me",
    "change_me",
    "placeholder",
    "your_",
    "your-",
    "yourpass",
    "xxxx",
    "****",
    "...",
    "redacted",
    "dummy",
    "sample",
    "${",
    "{{",
    "%(",
    "$(",
    "<",
    ">",
    "replace",
    "insert",
    "todo",
    "fixme",
    "secret_here",
    "_here",
];

/// Whole values that are words, not secrets.
const PLACEHOLDER_WORDS: &[&str] = &[
    "true",
    "false",
    "null",
    "none",
    "nil",
    "undefined",
    "empty",
    "required",
    "optional",
    "string",
    "number",
    "integer",
    "boolean",
    "secret",
    "password",
    "token",
    "hidden",
    "masked",
    "unset",
    "default",
    "env",
    "environment",
];

/// File extensions: a value ending in one names a file.
const FILE_EXTENSIONS: &[&str] = &[
    ".json", ".pem", ".key", ".txt", ".yaml", ".yml", ".toml", ".env", ".crt", ".p12", ".pfx",
    ".cfg", ".conf", ".ini", ".rs", ".py", ".js", ".ts", ".go", ".rb", ".md", ".html", ".lock",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for (name, kind) in [
            ("DB_PASSWORD", Some("password")),
            ("SMTP_PASS", Some("password")),
            ("aws_secret_access_key", Some("aws-secret-key")),
            ("secret_key_base", Some("secret")),
            ("_authToken", Some("token")),
            ("GITHUB_TOKEN", Some("token")),
            ("apiKey", Some("api-key")),
            ("STRIPE_KEY", Some("api-key")),
            ("client_secret", Some("secret")),
            ("max_tokens", None),
            ("bypass", None),
            ("compass_heading", None),
            ("public_key", None),
            ("key", None),
            ("primary_key", None),
            ("keyboard_layout", None),
            ("tokenizer", None),
        ] {
            assert_eq!(secret_name(name), kind, "{name}");
        }
    }

    #[test]
    fn values() {
        for v in [
            "hunter2-very-secret",
            "s3cr3t-db-pass",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCY",
            "9f8e7d6c5b4a3928",
        ] {
            assert!(assigned_secret(v, "DB_PASSWORD"), "{v}");
        }
        for v in [
            "next_token",
            "self.token",
            "config.api_key",
            "String",
            "API_KEY",
            "${DB_PASSWORD}",
            "process.env.TOKEN",
            "os.environ[\"X\"]",
            "4096",
            "<your-token>",
            "changeme",
            "/run/secrets/db",
            "secret.json",
            "Token::new()",
            "true",
            "xxxxxxxx",
            "abcdefgh;",
        ] {
            assert!(!assigned_secret(v, "token"), "{v}");
        }
    }
}
