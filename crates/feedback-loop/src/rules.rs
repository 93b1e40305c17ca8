//! What the project can verify: reviewer and tester agents by domain, test commands, and for each
//! modified domain which phases are required and which are still missing.

use std::cell::OnceCell;
use std::fmt::Write as _;
use std::path::Path;

use crate::config::FeedbackLoopConfig;
use globset::{GlobSet, GlobSetBuilder};
use portcullis_core::{Error, Result};
use portcullis_domains::AgentCatalog;
use regex::Regex;
use serde::Serialize;

use crate::ledger::{DomainState, Ledger, Phase, Status, Tested};
use portcullis_domains::verdict::HOW_TO_REPORT;

#[path = "roles.rs"]
mod roles;
use roles::AgentPattern;
pub(crate) use roles::check_pattern;
pub use roles::reviewer_and_tester;

/// `feedback_loop`, compiled.
#[derive(Debug)]
pub(crate) struct Rules {
    reviewer: AgentPattern,
    tester: AgentPattern,
    skip_domains: Vec<String>,
    ignore: GlobSet,
    tests: Vec<TestRule>,
    /// `feedback_loop.max_iterations`.
    pub max_iterations: u32,
}

/// A test command rule. Its pattern is compiled on first use: compiling every default pattern costs more
/// than the rest of an edit's tracking, and most calls need none or one of them.
#[derive(Debug)]
struct TestRule {
    index: usize,
    source: String,
    domains: Vec<String>,
    when_exists: Vec<String>,
    pattern: OnceCell<std::result::Result<Regex, String>>,
}

impl TestRule {
    fn pattern(&self) -> Result<&Regex> {
        self.pattern
            .get_or_init(|| {
                Regex::new(&self.source).map_err(|e| {
                    format!(
                        "feedback_loop.test_commands[{}].pattern: bad regular expression `{}`: {e}",
                        self.index, self.source
                    )
                })
            })
            .as_ref()
            .map_err(|m| Error::Other(m.clone()))
    }

    fn covers(&self, domain: &str) -> bool {
        self.domains.iter().any(|d| d == "*" || d == domain)
    }

    /// The command counts only when one of its project files exists (a Rust project's `npm test` is not
    /// a test run of that project).
    fn available(&self, project: &Path) -> bool {
        self.when_exists.is_empty() || self.when_exists.iter().any(|f| project.join(f).exists())
    }
}

/// What a test call covers: the domains configured commands name (`*`: all), and the runs of known
/// runners with the project-relative folder each ran in.
#[derive(Debug, Default)]
pub(crate) struct Coverage {
    pub(crate) domains: Vec<String>,
    pub(crate) runs: Vec<(crate::runners::TestRun, String)>,
}

impl Coverage {
    /// What the call tests of the modified domain `domain` (its edited files, `state`): the whole of it
    /// for a configured command that names it, else the edited files a known runner's run tests.
    pub(crate) fn tests(&self, domain: &str, state: &DomainState) -> Tested {
        if self.domains.iter().any(|d| d == "*" || d == domain) {
            return Tested::Whole;
        }
        Tested::Files(
            state
                .files
                .iter()
                .filter(|f| {
                    self.runs
                        .iter()
                        .any(|(run, dir)| crate::runners::tests_file(run, dir, f))
                })
                .cloned()
                .collect(),
        )
    }
}

/// Where no project file is: the folder of a run outside the project (it tests none of its files).
const OUTSIDE: &str = "\u{0}outside";

/// The project-relative folder a run ran in: the call's folder `cwd`, moved by the literal `cd`s before
/// it (`dir`). An absolute `cd` into the project is taken as the folder it names; one elsewhere, or into
/// home, is outside the project and tests none of its files.
///
/// With `cd_persists` (Claude Code: the event's `cwd` follows `cd`, so a PostToolUse for `cd web && npm
/// test` already says `web/`), a `cwd` that ends with the `cd`'s path is where the run was: the shell
/// ended there (measured with 2.1.329, tests/e2e/init-real-project.toml).
fn run_dir(project: &Path, cwd: &str, dir: Option<&str>, cd_persists: bool) -> String {
    let Some(dir) = dir else {
        return cwd.to_owned();
    };
    if dir.starts_with('~') {
        return OUTSIDE.to_owned();
    }
    if dir.starts_with('/') {
        return Path::new(dir)
            .strip_prefix(project)
            .ok()
            .and_then(Path::to_str)
            .map_or_else(
                || OUTSIDE.to_owned(),
                |p| p.trim_end_matches('/').to_owned(),
            );
    }
    let moved: Vec<&str> = dir
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let mut parts: Vec<&str> = cwd.split('/').filter(|p| !p.is_empty()).collect();
    if cd_persists && !moved.is_empty() && !moved.contains(&"..") && parts.ends_with(&moved) {
        return parts.join("/");
    }
    for part in moved {
        if part == ".." {
            parts.pop();
        } else {
            parts.push(part);
        }
    }
    parts.join("/")
}

/// Which phase an agent type reports on, and for which domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Role {
    /// Review or testing.
    pub phase: Phase,
    /// The domain.
    pub domain: String,
}

/// Whether a phase must pass for a domain, and why (not).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "required", rename_all = "snake_case")]
pub(crate) enum Need {
    /// Required; `how` says what satisfies it.
    Yes {
        /// e.g. "spawn `backend-reviewer`" or "run `cargo test`".
        how: String,
    },
    /// Skipped; `why` says what is missing for it to be required.
    Skipped {
        /// e.g. "no agent `backend-reviewer` is defined".
        why: String,
    },
}

/// One modified domain's phases, checked.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct DomainCheck {
    /// The domain.
    pub domain: String,
    /// Review: need and status.
    pub review: (Need, Status),
    /// Testing: need and status.
    pub testing: (Need, Status),
}

impl DomainCheck {
    /// The required phases that have not passed.
    #[must_use]
    pub(crate) fn missing(&self) -> Vec<Phase> {
        [
            (Phase::Review, &self.review),
            (Phase::Testing, &self.testing),
        ]
        .into_iter()
        .filter(|(_, (need, status))| matches!(need, Need::Yes { .. }) && *status != Status::Pass)
        .map(|(p, _)| p)
        .collect()
    }
}

impl Rules {
    /// Reads the config; a bad glob or agent pattern is an error naming the key. A bad test command pattern
    /// is reported where it is first needed ([`Rules::test_run`], [`Rules::check`]).
    pub(crate) fn new(config: &FeedbackLoopConfig) -> Result<Self> {
        let mut ignore = GlobSetBuilder::new();
        for g in &config.ignore {
            ignore.add(
                portcullis_domains::glob(g).map_err(|e| {
                    Error::Other(format!("feedback_loop.ignore: bad glob `{g}`: {e}"))
                })?,
            );
        }
        let tests = config
            .test_commands
            .iter()
            .enumerate()
            .map(|(index, t)| TestRule {
                index,
                source: t.pattern.clone(),
                domains: t.domains.clone(),
                when_exists: t.when_exists.clone(),
                pattern: OnceCell::new(),
            })
            .collect();
        check_pattern("reviewer_pattern", &config.reviewer_pattern).map_err(Error::Other)?;
        check_pattern("tester_pattern", &config.tester_pattern).map_err(Error::Other)?;
        Ok(Self {
            reviewer: AgentPattern::new(&config.reviewer_pattern),
            tester: AgentPattern::new(&config.tester_pattern),
            skip_domains: config.skip_domains.clone(),
            ignore: ignore
                .build()
                .map_err(|e| Error::Other(format!("feedback_loop.ignore: {e}")))?,
            tests,
            max_iterations: config.max_iterations,
        })
    }

    /// Whether an edit of this project-relative path in this domain is tracked.
    #[must_use]
    pub(crate) fn tracks(&self, domain: &str, rel: &str) -> bool {
        !self.skip_domains.iter().any(|d| d == domain) && !self.ignore.is_match(rel)
    }

    /// What the simple commands of a Bash call test (`None`: none is a test run), and whether the call's
    /// exit status is theirs (every test command among them
    /// [`decides`](portcullis_shell::Run::decides)). `cwd` is where the call ran, project-relative.
    pub(crate) fn test_run(
        &self,
        runs: &[portcullis_shell::Run],
        project: &Path,
        cwd: &str,
        cd_persists: bool,
    ) -> Result<Option<(Coverage, bool)>> {
        let mut coverage = Coverage::default();
        let mut decides = true;
        for run in runs {
            let text = run.text();
            let mut is_test = false;
            for rule in &self.tests {
                if rule.available(project) && rule.pattern()?.is_match(&text) {
                    coverage.domains.extend(rule.domains.iter().cloned());
                    is_test = true;
                }
            }
            if let Some(found) = crate::runners::recognise(&run.words) {
                coverage.runs.push((
                    found,
                    run_dir(project, cwd, run.dir.as_deref(), cd_persists),
                ));
                is_test = true;
            }
            decides &= !is_test || run.decides;
        }
        let any = !coverage.domains.is_empty() || !coverage.runs.is_empty();
        Ok(any.then_some((coverage, decides)))
    }

    /// Checks every modified domain against what the project can verify. A test command offered as the
    /// way to satisfy testing must compile: a bad one is an error naming it, rather than a reason pointing
    /// at a command that can never be recognised.
    pub(crate) fn check(
        &self,
        ledger: &Ledger,
        catalog: &AgentCatalog,
        project: &Path,
    ) -> Result<Vec<DomainCheck>> {
        let domains: Vec<&str> = ledger.domains.keys().map(String::as_str).collect();
        ledger
            .domains
            .iter()
            .map(|(domain, state)| self.check_domain(domain, state, catalog, project, &domains))
            .collect()
    }

    fn check_domain(
        &self,
        domain: &str,
        state: &DomainState,
        catalog: &AgentCatalog,
        project: &Path,
        domains: &[&str],
    ) -> Result<DomainCheck> {
        let review = match self.agent_for(Phase::Review, domain, catalog, domains) {
            Some(reviewer) => Need::Yes {
                how: format!("spawn `{reviewer}`"),
            },
            None => Need::Skipped {
                why: format!(
                    "no reviewer agent is defined (`{}`, or one named as a reviewer: `code-reviewer`, `reviewer`, …)",
                    self.reviewer.name_for(domain)
                ),
            },
        };
        let found_tester = self.agent_for(Phase::Testing, domain, catalog, domains);
        let has_tester = found_tester.is_some();
        let tester = found_tester.unwrap_or_else(|| self.tester.name_for(domain));
        // What to run, named as a command (never a pattern): the runner of the domain's files, or the
        // configured commands that name this domain.
        let mut commands: Vec<String> = Vec::new();
        // Named for the files still untested (a back end's Go files after `pytest` passed its Python).
        let untested: Vec<String> = state.untested().into_iter().map(str::to_owned).collect();
        let files: Vec<String> = if untested.is_empty() {
            state.files.iter().cloned().collect()
        } else {
            untested
        };
        commands.extend(crate::runners::hint(&files, project));
        for t in &self.tests {
            if t.covers(domain) && t.available(project) {
                t.pattern()?;
                commands.push(format!(
                    "run the test command `feedback_loop.test_commands[{}]` configures",
                    t.index
                ));
            }
        }
        let testing = match (has_tester, commands.is_empty()) {
            (true, true) => Need::Yes {
                how: format!("spawn `{tester}`"),
            },
            (true, false) => Need::Yes {
                how: format!("spawn `{tester}`, or {} in Bash", commands[0]),
            },
            (false, false) => Need::Yes {
                how: format!("{} in Bash", commands.join(", or ")),
            },
            (false, true) => Need::Skipped {
                why: format!(
                    "no agent `{tester}` is defined and no test runner is known for its files"
                ),
            },
        };
        Ok(DomainCheck {
            domain: domain.to_owned(),
            review: (review, state.review.status),
            testing: (testing, state.testing.status),
        })
    }
}

/// The block reason: per domain, what is missing and how to get it.
#[must_use]
pub(crate) fn missing_text(ledger: &Ledger, checks: &[DomainCheck], max_iterations: u32) -> String {
    let mut out = String::from(
        "[feedback-loop] This turn changed code that has not passed review and testing yet. Before finishing:",
    );
    for check in checks {
        let missing = check.missing();
        if missing.is_empty() {
            continue;
        }
        let files = ledger
            .domains
            .get(&check.domain)
            .map(files_text)
            .unwrap_or_default();
        let steps: Vec<String> = missing
            .into_iter()
            .filter_map(|phase| {
                let (need, status) = match phase {
                    Phase::Review => &check.review,
                    Phase::Testing => &check.testing,
                };
                match need {
                    Need::Yes { how } => Some(format!("{phase} {} -> {how}", status.as_str())),
                    Need::Skipped { .. } => None,
                }
            })
            .collect();
        let _ = write!(out, "\n- {} ({files}): {}.", check.domain, steps.join("; "));
    }
    if let Some(f) = &ledger.last_failure {
        let _ = write!(
            out,
            "\nRound {} of {max_iterations}: testing failed in `{}` (by {}: {}), so every modified domain goes round again.",
            ledger.iteration + 1,
            f.domain,
            f.by,
            f.detail
        );
    }
    let _ = write!(
        out,
        "\nReviewers and testers must {HOW_TO_REPORT}. Fix what fails, then ask again; edits send a domain back to pending."
    );
    out
}

/// `api/x.go, api/y.go and 3 more`.
#[must_use]
pub(crate) fn files_text(state: &DomainState) -> String {
    const SHOWN: usize = 3;
    let shown: Vec<&str> = state.files.iter().take(SHOWN).map(String::as_str).collect();
    let rest = (state.files.len().saturating_sub(SHOWN) as u64) + state.more_files;
    if rest == 0 {
        shown.join(", ")
    } else {
        format!("{} and {rest} more", shown.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TestCommand;

    fn rules() -> Rules {
        Rules::new(&FeedbackLoopConfig::default()).unwrap()
    }

    /// The test run a command is, read as the hook reads it: parsed, then matched per simple command;
    /// each known runner's run shown as `RUNNER@DIR`.
    fn tested(r: &Rules, command: &str, project: &Path) -> Result<Option<(Vec<String>, bool)>> {
        Ok(r.test_run(
            &portcullis_shell::runs(command).unwrap_or_default(),
            project,
            "",
            false,
        )?
        .map(|(c, decides)| {
            let mut shown = c.domains.clone();
            shown.extend(
                c.runs
                    .iter()
                    .map(|(run, dir)| format!("{}@{dir}", run.runner.hint)),
            );
            (shown, decides)
        }))
    }

    /// Claude Code's `cwd` follows `cd`: the PostToolUse of `cd web && npm test` says `web/`, and the run
    /// was there, not in `web/web/` (the real client showed it). A subshell's `cd` does not persist, nor
    /// does one undone later; an absolute `cd` names its folder; one out of the project tests nothing.
    #[test]
    fn the_folder_a_run_ran_in() {
        let p = Path::new("/p");
        assert_eq!(run_dir(p, "web", Some("web"), true), "web");
        assert_eq!(run_dir(p, "web", Some("web"), false), "web/web");
        assert_eq!(
            run_dir(p, "", Some("web"), true),
            "web",
            "(cd web && npm test)"
        );
        assert_eq!(run_dir(p, "apps/web", Some("./web/"), true), "apps/web");
        assert_eq!(run_dir(p, "api", Some("../web"), true), "web");
        assert_eq!(run_dir(p, "", None, true), "");
        assert_eq!(run_dir(p, "x", Some("/p/api"), true), "api");
        assert_eq!(run_dir(p, "x", Some("/p"), true), "");
        assert_eq!(run_dir(p, "", Some("/elsewhere"), true), OUTSIDE);
        assert_eq!(run_dir(p, "", Some("~/src"), true), OUTSIDE);
    }

    /// Issue 36, item 2: a known runner counts without a config file at the project root, by its name
    /// or its path, from the folder it ran in.
    #[test]
    fn known_runners_count_wherever_they_run() {
        let t = tempfile::tempdir().unwrap();
        let r = rules();
        let run = |cmd: &str| tested(&r, cmd, t.path()).unwrap();
        for (cmd, shown) in [
            ("cargo test -p x", "cargo test@"),
            (
                "cd sub && cargo +nightly test --workspace",
                "cargo test@sub",
            ),
            ("cargo nextest run", "cargo test@"),
            ("RUST_BACKTRACE=1 timeout 600 cargo test -q", "cargo test@"),
            ("(cd crates/x; cargo test)", "cargo test@crates/x"),
            ("cd web && npm test", "npm test@web"),
            ("/usr/local/bin/pytest scripts/", "pytest@"),
            ("python -m pytest", "pytest@"),
            ("go test ./api/...", "go test ./...@"),
        ] {
            assert_eq!(run(cmd), Some((vec![shown.to_owned()], true)), "{cmd}");
        }
        // Commands that never run a test (the review's cases among them).
        for cmd in [
            "cargo build",
            "cargo testing",
            "echo cargotest",
            "echo cargo test",
            "git commit -m 'cargo test passes'",
            "npm install",
            "echo 'x; cargo test'",
            "echo \"(cargo test)\"",
            "git commit -m \"fix; cargo test passes\"",
        ] {
            assert_eq!(run(cmd), None, "{cmd}");
        }
        // Test runs whose exit status is not the command's.
        for cmd in [
            "true || cargo test",
            "cargo test 2>&1 | tail -20",
            "cargo test || true",
            "cargo test; echo done",
        ] {
            assert_eq!(run(cmd), Some((vec!["cargo test@".into()], false)), "{cmd}");
        }
    }

    #[test]
    fn configured_commands_cover_their_domains_only() {
        let config = FeedbackLoopConfig {
            test_commands: vec![TestCommand {
                pattern: r"^make e2e\b".into(),
                domains: vec!["frontend".into()],
                when_exists: vec![],
            }],
            ..FeedbackLoopConfig::default()
        };
        let r = Rules::new(&config).unwrap();
        assert_eq!(
            tested(&r, "make e2e", Path::new("/nonexistent")).unwrap(),
            Some((vec!["frontend".into()], true))
        );
        let bad = FeedbackLoopConfig {
            test_commands: vec![TestCommand {
                pattern: "(".into(),
                domains: vec![],
                when_exists: vec![],
            }],
            ..FeedbackLoopConfig::default()
        };
        let err = tested(&Rules::new(&bad).unwrap(), "x", Path::new("/"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("feedback_loop.test_commands[0].pattern"),
            "{err}"
        );
        // A pattern without `{domain}` names one agent of every domain (issue 36); one that is no agent
        // name is refused, naming its key.
        let bad = FeedbackLoopConfig {
            reviewer_pattern: "code reviewer".into(),
            ..FeedbackLoopConfig::default()
        };
        assert!(
            Rules::new(&bad)
                .unwrap_err()
                .to_string()
                .contains("feedback_loop.reviewer_pattern")
        );
    }

    #[test]
    fn docs_and_claude_files_are_not_tracked() {
        let r = rules();
        assert!(r.tracks("backend", "api/x.go"));
        assert!(!r.tracks("docs", "README.md"));
        assert!(!r.tracks("backend", ".claude/hooks/x.py"));
    }
}
