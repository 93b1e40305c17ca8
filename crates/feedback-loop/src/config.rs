//! The `feedback_loop` config section: owned here, checked by core's loader through [`Section`].

use portcullis_core::config::{Config, Mode, Section};
use serde::{Deserialize, Serialize};

/// `feedback_loop`: which edits need which verdicts before a turn may end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeedbackLoopConfig {
    /// `enforce` (block the Stop), `warn` (let it end, tell the user what is unverified) or `off`.
    /// Default `enforce`.
    pub mode: Mode,
    /// The reviewer agent of a domain; `{domain}` is replaced; without it, one agent reviews every domain.
    /// Default `{domain}-reviewer`; failing that, an agent named as reviewers are (`code-reviewer`,
    /// `reviewer`, `DOMAIN-code-reviewer`, …) or described as one.
    pub reviewer_pattern: String,
    /// The tester agent of a domain, likewise. Default `{domain}-tester`; failing that `test-runner`,
    /// `tester`, `qa`, `qa-engineer`, `DOMAIN-test-runner`, … or one described as running tests.
    pub tester_pattern: String,
    /// Reset rounds (a failed test sends every domain round again) before the hook lets the turn end and
    /// tells the user what was left unverified. Default 10.
    pub max_iterations: u32,
    /// Domains whose edits are never tracked. Default `["docs"]`: prose needs no test run.
    pub skip_domains: Vec<String>,
    /// Globs (project-relative) whose edits are never tracked. Default `[".claude/**"]`.
    pub ignore: Vec<String>,
    /// Shell commands that run tests: a Bash call matching one records `testing` for its domains (pass on
    /// exit 0, fail otherwise). Default: cargo, npm/pnpm/yarn/bun, pytest, go test, make test/check, each
    /// counted only when its project file exists.
    pub test_commands: Vec<TestCommand>,
}

/// One test command rule of `feedback_loop.test_commands`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestCommand {
    /// A regular expression searched for in the Bash command.
    pub pattern: String,
    /// The domains it tests; `"*"` is every domain. Default `["*"]`.
    #[serde(default = "every_domain")]
    pub domains: Vec<String>,
    /// Files at the project root of which one must exist for the command to count (empty: always).
    #[serde(default)]
    pub when_exists: Vec<String>,
}

fn every_domain() -> Vec<String> {
    vec!["*".into()]
}

/// Where a command starts in a shell line: the line's start or after `;`, `&&`, `||`, `|` or `(`, then
/// optional `VAR=value` assignments and a `time`, `nice` or `timeout N` wrapper. `echo cargo test` is no
/// test run; `cd api && RUST_LOG=1 cargo test` is.
const COMMAND_START: &str =
    r"(?:^|[;&|(])\s*(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*(?:(?:time|nice|timeout\s+\S+)\s+)?";

impl TestCommand {
    /// A rule for `program` at a command position ([`COMMAND_START`]) of a project with one of `when_exists`.
    fn at_start(program: &str, when_exists: &[&str]) -> Self {
        Self {
            pattern: format!("{COMMAND_START}{program}"),
            domains: every_domain(),
            when_exists: when_exists.iter().map(|s| (*s).to_owned()).collect(),
        }
    }
}

impl Default for FeedbackLoopConfig {
    fn default() -> Self {
        Self {
            mode: Mode::Enforce,
            reviewer_pattern: "{domain}-reviewer".into(),
            tester_pattern: "{domain}-tester".into(),
            max_iterations: 10,
            skip_domains: vec!["docs".into()],
            ignore: vec![".claude/**".into()],
            test_commands: vec![
                TestCommand::at_start(
                    r"cargo\s+(\+\S+\s+)?(test|nextest\s+run)\b",
                    &["Cargo.toml"],
                ),
                TestCommand::at_start(r"(npm|pnpm|yarn|bun)\s+(run\s+)?test\b", &["package.json"]),
                TestCommand::at_start(
                    r"(pytest|py\.test|python3?\s+-m\s+pytest)\b",
                    &[
                        "pyproject.toml",
                        "pytest.ini",
                        "setup.cfg",
                        "tox.ini",
                        "conftest.py",
                    ],
                ),
                TestCommand::at_start(r"go\s+test\b", &["go.mod"]),
                TestCommand::at_start(
                    r"make\s+(-\S+\s+)*(test|check)\b",
                    &["Makefile", "makefile", "GNUmakefile"],
                ),
            ],
        }
    }
}

impl Section for FeedbackLoopConfig {
    const KEY: &'static str = "feedback_loop";

    fn validate(&self, _config: &Config) -> Result<(), String> {
        if self.max_iterations == 0 {
            return Err("`feedback_loop.max_iterations` must be at least 1".into());
        }
        // The same check the hook makes: a pattern doctor accepts is one the hook reads.
        crate::rules::check_pattern("reviewer_pattern", &self.reviewer_pattern)?;
        crate::rules::check_pattern("tester_pattern", &self.tester_pattern)
    }
}
