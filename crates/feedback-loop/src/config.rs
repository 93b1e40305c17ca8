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
    /// Shell commands that run tests, besides the runners feedback-loop knows (cargo, go test, pytest,
    /// npm/pnpm/yarn/bun test, jest, vitest, mocha, rspec, mvn, gradle, ctest, make test/check, which
    /// test the files of their language where they run): a Bash call matching one records `testing` for
    /// its domains (pass on exit 0, fail otherwise). Default none.
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

impl Default for FeedbackLoopConfig {
    fn default() -> Self {
        Self {
            mode: Mode::Enforce,
            reviewer_pattern: "{domain}-reviewer".into(),
            tester_pattern: "{domain}-tester".into(),
            max_iterations: 10,
            skip_domains: vec!["docs".into()],
            ignore: vec![".claude/**".into()],
            test_commands: Vec::new(),
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
