//! `portcullis run-with-secrets`: a command gets secrets in its environment, and its output comes back
//! with those values scrubbed (seed 002 §8: "The secret exists only in child process environment
//! variables. Never printed to stdout, never logged, never enters LLM context window").
//!
//! Every source is resolved before anything runs; one that fails says which and why, and nothing runs.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use portcullis_core::Env;

/// How long `op read` may take (it may wait for the 1Password app to unlock).
const OP_TIMEOUT: Duration = Duration::from_secs(60);

/// Where a secret's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `file:PATH#KEY`: the value of KEY in the dotenv file PATH.
    File {
        /// The dotenv file.
        path: String,
        /// The key in it.
        key: String,
    },
    /// `op://VAULT/ITEM/FIELD`: read through the 1Password CLI (`op read`).
    OnePassword(String),
    /// `env:VAR`: portcullis's own environment.
    Env(String),
}

impl Source {
    /// Parses a source, or says what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, String> {
        if let Some(rest) = text.strip_prefix("file:") {
            let (path, key) = rest
                .rsplit_once('#')
                .ok_or_else(|| format!("`{text}`: a file source is file:PATH#KEY"))?;
            if path.is_empty() || key.is_empty() {
                return Err(format!("`{text}`: a file source is file:PATH#KEY"));
            }
            return Ok(Self::File {
                path: path.to_owned(),
                key: key.to_owned(),
            });
        }
        if text.starts_with("op://") {
            if text.trim_start_matches("op://").split('/').count() < 3 {
                return Err(format!(
                    "`{text}`: a 1Password source is op://VAULT/ITEM/FIELD"
                ));
            }
            return Ok(Self::OnePassword(text.to_owned()));
        }
        if let Some(var) = text.strip_prefix("env:") {
            check_env_name(var)?;
            return Ok(Self::Env(var.to_owned()));
        }
        Err(format!(
            "`{text}`: a source is file:PATH#KEY, op://VAULT/ITEM/FIELD or env:VAR"
        ))
    }

    /// The secret's value; `cwd` anchors a relative file path, `home` a `~/` one.
    pub fn resolve(&self, env: &Env, cwd: &Path) -> Result<String, String> {
        let value = match self {
            Self::File { path, key } => {
                let p = expand(path, cwd, env.var("HOME").as_deref());
                portcullis_secrets::files::dotenv_value(&p, key)?
            }
            Self::OnePassword(reference) => op_read(reference)?,
            Self::Env(var) => env
                .var(var)
                .ok_or_else(|| format!("env:{var}: the variable is not set"))?,
        };
        if value.is_empty() {
            return Err(format!("{}: the value is empty", self.describe()));
        }
        Ok(value)
    }

    fn describe(&self) -> String {
        match self {
            Self::File { path, key } => format!("file:{path}#{key}"),
            Self::OnePassword(r) => r.clone(),
            Self::Env(v) => format!("env:{v}"),
        }
    }
}

fn expand(path: &str, cwd: &Path, home: Option<&str>) -> PathBuf {
    cwd.join(portcullis_domains::expand_home(path, home))
}

fn op_read(reference: &str) -> Result<String, String> {
    let mut cmd = Command::new("op");
    cmd.args(["read", "--no-newline", reference]);
    let done = portcullis_core::child::run(cmd, b"", OP_TIMEOUT, 1 << 20).map_err(|e| {
        format!("{reference}: the 1Password CLI `op` could not be started ({e}); install it or use another source")
    })?;
    if done.timed_out {
        return Err(format!(
            "{reference}: `op read` took longer than {} s",
            OP_TIMEOUT.as_secs()
        ));
    }
    if done.code != Some(0) {
        let why = String::from_utf8_lossy(&done.stderr).trim().to_owned();
        return Err(format!("{reference}: `op read` failed: {why}"));
    }
    String::from_utf8(done.stdout).map_err(|_| format!("{reference}: the value is not UTF-8"))
}

/// Checks an environment variable's name: letters, digits and `_`, not starting with a digit.
pub fn check_env_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(format!("`{name}` is not an environment variable name"))
    }
}

/// Replaces secret values in a stream of bytes, chunk by chunk: a value split across two chunks is still
/// found, because the last `longest - 1` bytes are held back until more arrive.
#[derive(Debug)]
pub struct Scrubber {
    matcher: Option<AhoCorasick>,
    markers: Vec<Vec<u8>>,
    hold: usize,
    carry: Vec<u8>,
}

impl Scrubber {
    /// A scrubber for `(name, value)` pairs; each value is replaced by `[REDACTED secret:NAME]`, and so
    /// is each of its [`encoded_forms`] (a child may print the value escaped or encoded).
    #[must_use]
    pub fn new(secrets: &[(String, String)]) -> Self {
        let forms: Vec<(String, String)> = secrets
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .flat_map(|(n, v)| {
                std::iter::once(v.clone())
                    .chain(encoded_forms(v))
                    .map(move |f| (n.clone(), f))
            })
            .collect();
        let secrets: Vec<&(String, String)> = forms.iter().collect();
        let matcher = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(secrets.iter().map(|(_, v)| v.as_bytes()))
            .ok()
            .filter(|_| !secrets.is_empty());
        Self {
            matcher,
            markers: secrets
                .iter()
                .map(|(n, _)| portcullis_secrets::marker(&format!("secret:{n}")).into_bytes())
                .collect(),
            hold: secrets.iter().map(|(_, v)| v.len()).max().unwrap_or(1) - 1,
            carry: Vec::new(),
        }
    }

    /// Takes the next chunk; returns the bytes that are safe to pass on.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<u8> {
        self.carry.extend_from_slice(chunk);
        let limit = self.carry.len().saturating_sub(self.hold);
        self.emit(limit)
    }

    /// The stream has ended: returns the rest.
    pub fn finish(&mut self) -> Vec<u8> {
        self.emit(self.carry.len())
    }

    fn emit(&mut self, limit: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.carry.len());
        let mut at = 0;
        if let Some(m) = &self.matcher {
            for hit in m.find_iter(&self.carry) {
                if hit.start() >= limit {
                    break;
                }
                out.extend_from_slice(&self.carry[at..hit.start()]);
                out.extend_from_slice(&self.markers[hit.pattern().as_usize()]);
                at = hit.end();
            }
        }
        let to = at.max(limit);
        out.extend_from_slice(&self.carry[at..to]);
        self.carry.drain(..to);
        out
    }
}

/// The forms a value takes when a program prints it escaped or encoded: JSON-escaped, percent-encoded,
/// backslash-escaped (`printf %q`), hex, and base64 (standard and URL-safe, with and without padding, also
/// of the value with the newline `echo` adds). Forms shorter than 6 bytes, or equal to the value, are
/// left out.
#[must_use]
pub fn encoded_forms(value: &str) -> Vec<String> {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let mut forms = Vec::new();
    if let Ok(json) = serde_json::to_string(value) {
        forms.push(json[1..json.len() - 1].to_owned());
    }
    let unreserved = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
    forms.push(
        value
            .bytes()
            .map(|b| {
                if unreserved(b) {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect(),
    );
    forms.push(
        value
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-') {
                    c.to_string()
                } else {
                    format!("\\{c}")
                }
            })
            .collect(),
    );
    let hex: String = value.bytes().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    });
    forms.push(hex.to_ascii_uppercase());
    forms.push(hex);
    for bytes in [value.to_owned(), format!("{value}\n")] {
        for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
            forms.push(engine.encode(bytes.as_bytes()));
        }
    }
    forms.retain(|f| f.len() >= 6 && f != value);
    forms.sort();
    forms.dedup();
    forms
}

/// What to run: the resolved secrets (environment name, value) and the command.
#[derive(Debug)]
pub struct Run {
    /// `(VAR, value)` pairs handed to the command's environment.
    pub secrets: Vec<(String, String)>,
    /// The program and its arguments.
    pub command: Vec<String>,
}

/// Why a command did not run: the exit code to answer with (as a shell does: 127 for a command not found,
/// 126 for one that cannot be run, 125 for the wrapper's own failure) and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotRun {
    /// The exit code.
    pub code: u8,
    /// What went wrong, for the user.
    pub why: String,
}

/// Runs `run.command` with the secrets in its environment, its stdout and stderr scrubbed of them on the
/// way to ours; returns its exit code (128 + the signal when a signal ended it).
pub fn execute(run: &Run) -> Result<ExitCode, NotRun> {
    let Some((program, args)) = run.command.split_first() else {
        return Err(NotRun {
            code: 125,
            why: "no command given after `--`".into(),
        });
    };
    let mut child = Command::new(program)
        .args(args)
        .envs(run.secrets.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| NotRun {
            code: match e.kind() {
                std::io::ErrorKind::NotFound => 127,
                std::io::ErrorKind::PermissionDenied => 126,
                _ => 125,
            },
            why: format!("`{program}` could not be started: {e}"),
        })?;
    let out = child
        .stdout
        .take()
        .map(|s| pump(s, std::io::stdout(), &run.secrets));
    let err = child
        .stderr
        .take()
        .map(|s| pump(s, std::io::stderr(), &run.secrets));
    let status = child.wait().map_err(|e| NotRun {
        code: 125,
        why: format!("waiting for `{program}`: {e}"),
    })?;
    for t in [out, err].into_iter().flatten() {
        let _ = t.join();
    }
    let code = status.code().unwrap_or_else(|| {
        use std::os::unix::process::ExitStatusExt;
        128 + status.signal().unwrap_or(0)
    });
    Ok(ExitCode::from(u8::try_from(code & 0xff).unwrap_or(1)))
}

/// Copies `from` to `to` through a [`Scrubber`], on its own thread.
fn pump(
    mut from: impl Read + Send + 'static,
    mut to: impl Write + Send + 'static,
    secrets: &[(String, String)],
) -> std::thread::JoinHandle<()> {
    let mut scrubber = Scrubber::new(secrets);
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 << 10];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let safe = scrubber.push(&buf[..n]);
                    if to.write_all(&safe).and_then(|()| to.flush()).is_err() {
                        return;
                    }
                }
            }
        }
        let _ = to.write_all(&scrubber.finish());
        let _ = to.flush();
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_parse_and_bad_ones_say_why() {
        assert_eq!(
            Source::parse("file:../.secrets/prod.env#STRIPE_KEY").unwrap(),
            Source::File {
                path: "../.secrets/prod.env".into(),
                key: "STRIPE_KEY".into()
            }
        );
        assert!(matches!(
            Source::parse("op://Dev/Stripe/key"),
            Ok(Source::OnePassword(_))
        ));
        assert_eq!(
            Source::parse("env:HOME").unwrap(),
            Source::Env("HOME".into())
        );
        for bad in [
            "file:x.env",
            "op://onlyvault",
            "env:1X",
            "vault:x",
            "file:#K",
        ] {
            assert!(Source::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sources_resolve_or_fail_with_the_reason() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("s.env"), "T=tok-123456\nEMPTY=\n").unwrap();
        let env = Env::from_pairs([("MY_T", "from-env-value")]);
        let file = Source::parse("file:s.env#T").unwrap();
        assert_eq!(file.resolve(&env, t.path()).unwrap(), "tok-123456");
        let err = Source::parse("file:s.env#NOPE")
            .unwrap()
            .resolve(&env, t.path())
            .unwrap_err();
        assert!(err.contains("no key `NOPE`"), "{err}");
        let err = Source::parse("file:s.env#EMPTY")
            .unwrap()
            .resolve(&env, t.path())
            .unwrap_err();
        assert!(err.contains("empty"), "{err}");
        assert_eq!(
            Source::parse("env:MY_T")
                .unwrap()
                .resolve(&env, t.path())
                .unwrap(),
            "from-env-value"
        );
        let err = Source::parse("env:UNSET_X")
            .unwrap()
            .resolve(&env, t.path())
            .unwrap_err();
        assert!(err.contains("not set"), "{err}");
    }

    /// Issue 35, item 20: a child that prints the value escaped or encoded is scrubbed too.
    #[test]
    fn escaped_and_encoded_forms_are_scrubbed() {
        let value = "p@ss w\"rd/+x?9";
        let secrets = vec![("T".to_owned(), value.to_owned())];
        for form in encoded_forms(value) {
            let mut s = Scrubber::new(&secrets);
            let mut out = s.push(format!("before {form} after").as_bytes());
            out.extend(s.finish());
            let out = String::from_utf8(out).unwrap();
            assert_eq!(out, "before [REDACTED secret:T] after", "{form}");
        }
        let printed = [
            r#"{"t":"p@ss w\"rd/+x?9"}"#.to_owned(),
            "cEBzcyB3InJkLyt4Pzk=".to_owned(),
            "cEBzcyB3InJkLyt4Pzk9Cg==".to_owned(),
            "p%40ss%20w%22rd%2F%2Bx%3F9".to_owned(),
        ];
        for text in printed {
            let mut s = Scrubber::new(&secrets);
            let mut out = s.push(text.as_bytes());
            out.extend(s.finish());
            let out = String::from_utf8(out).unwrap();
            assert!(out.contains("[REDACTED secret:T]"), "{text} -> {out}");
        }
    }

    #[test]
    fn a_value_split_across_chunks_is_still_scrubbed() {
        let secrets = vec![("TOKEN".to_owned(), "s3cr3t-value".to_owned())];
        let text = b"start s3cr3t-value middle s3cr3t-value end s3cr3t";
        for size in 1..=text.len() {
            let mut s = Scrubber::new(&secrets);
            let mut out = Vec::new();
            for chunk in text.chunks(size) {
                out.extend(s.push(chunk));
            }
            out.extend(s.finish());
            assert_eq!(
                String::from_utf8(out).unwrap(),
                "start [REDACTED secret:TOKEN] middle [REDACTED secret:TOKEN] end s3cr3t",
                "chunks of {size}"
            );
        }
    }
}
