//! The ledger: which domains this session modified, and what each phase has heard since.
//!
//! Pure data and pure transitions; the hook and the CLI load it from, and store it in,
//! `sessions/<id>/feedback-loop.json` under the state lock.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use portcullis_core::state::StateFile;
use serde::{Deserialize, Serialize};

/// The most files listed per domain; more are counted, not named (a generated tree must not bloat state).
pub(crate) const MAX_FILES_PER_DOMAIN: usize = 200;

/// One session's feedback-loop state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Ledger {
    /// Reset rounds so far: each failed test run sends every modified domain round again.
    pub iteration: u32,
    /// Modified domains by name.
    pub domains: BTreeMap<String, DomainState>,
    /// The latest failed test run, for the block reason.
    pub last_failure: Option<Heard>,
}

impl StateFile for Ledger {
    const NAME: &'static str = "feedback-loop";
    const SCHEMA_VERSION: u32 = 1;
}

/// One modified domain.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct DomainState {
    /// Project-relative paths edited (at most [`MAX_FILES_PER_DOMAIN`]).
    pub files: BTreeSet<String>,
    /// Edited files not listed because of the cap.
    pub more_files: u64,
    /// The review phase.
    pub review: PhaseState,
    /// The testing phase.
    pub testing: PhaseState,
    /// Edited files a passing test run has tested since the domain's last edit: a run clears the domain's
    /// testing only once every edited file of a language with a test runner is here (issue 36: `pytest`
    /// cleared a back end whose Go files no run had tested).
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub tested: BTreeSet<String>,
}

impl DomainState {
    /// The edited files a test runner could test that no passing run has tested yet.
    #[must_use]
    pub(crate) fn untested(&self) -> Vec<&str> {
        self.files
            .iter()
            .filter(|f| crate::runners::testable(f) && !self.tested.contains(*f))
            .map(String::as_str)
            .collect()
    }
}

/// The two phases every modified domain goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Phase {
    /// A reviewer agent's verdict.
    Review,
    /// A tester agent's verdict or a test command's exit status.
    Testing,
}

impl Phase {
    /// `"review"` or `"testing"`.
    #[must_use]
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Review => "review",
            Self::Testing => "testing",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Where a phase stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Status {
    /// Nothing heard since the last edit.
    #[default]
    Pending,
    /// Passed since the last edit.
    Pass,
    /// Failed since the last edit.
    Fail,
    /// The agent finished without a verdict it could be held to.
    NoVerdict,
}

impl Status {
    /// The word shown in reasons and `status`.
    #[must_use]
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::NoVerdict => "no verdict",
        }
    }
}

/// One phase of one domain.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct PhaseState {
    /// Where it stands.
    pub status: Status,
    /// What set it, when it is not pending.
    pub heard: Option<Heard>,
}

/// A verdict as heard: from whom, when, and its first line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Heard {
    /// The domain it was about.
    pub domain: String,
    /// The phase.
    pub phase: Option<Phase>,
    /// The agent type, the test command, or `feedback-loop record`.
    pub by: String,
    /// RFC 3339 time.
    pub at: String,
    /// A short excerpt (the verdict line, or the error).
    pub detail: String,
}

/// A verdict to record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Passed.
    Pass,
    /// Failed.
    Fail,
    /// No verdict could be read.
    NoVerdict,
}

/// What a test run tests of one modified domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tested {
    /// These of its edited files (a known runner, by language and folder; none when it tests none).
    Files(Vec<String>),
    /// All of it (a configured test command that names the domain).
    Whole,
}

impl Tested {
    /// Whether the run tests anything of the domain.
    #[must_use]
    pub(crate) fn any(&self) -> bool {
        match self {
            Self::Files(f) => !f.is_empty(),
            Self::Whole => true,
        }
    }
}

/// What [`Ledger::record`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Recorded {
    /// The phase now holds the verdict.
    Set,
    /// A failed test: every modified domain went back to pending and the round count went up.
    ResetAll,
    /// The domain was not modified in this session: nothing to record.
    NotModified,
}

impl Ledger {
    /// True when nothing is modified.
    #[must_use]
    pub(crate) fn is_clean(&self) -> bool {
        self.domains.is_empty()
    }

    /// True if recording this edit would change nothing (the file is listed and both phases pending):
    /// the hook then skips the locked write.
    #[must_use]
    pub(crate) fn already_tracks(&self, domain: &str, file: &str) -> bool {
        self.domains.get(domain).is_some_and(|d| {
            d.files.contains(file)
                && d.review.status == Status::Pending
                && d.testing.status == Status::Pending
        })
    }

    /// An edit: the domain is modified, the file listed, and both phases go back to pending.
    pub(crate) fn track_edit(&mut self, domain: &str, file: &str) {
        let d = self.domains.entry(domain.to_owned()).or_default();
        if !d.files.contains(file) {
            if d.files.len() < MAX_FILES_PER_DOMAIN {
                d.files.insert(file.to_owned());
            } else {
                d.more_files += 1;
            }
        }
        d.review = PhaseState::default();
        d.testing = PhaseState::default();
        d.tested.clear();
    }

    /// Records a verdict for one domain's phase. A failed test resets every modified domain (both phases)
    /// and counts a round, as the seed's inter-phase loop has it: all domains go round again.
    pub(crate) fn record(&mut self, phase: Phase, outcome: Outcome, heard: Heard) -> Recorded {
        let Some(d) = self.domains.get_mut(&heard.domain) else {
            return Recorded::NotModified;
        };
        if phase == Phase::Testing && outcome == Outcome::Fail {
            for d in self.domains.values_mut() {
                d.review = PhaseState::default();
                d.testing = PhaseState::default();
                d.tested.clear();
            }
            self.iteration = self.iteration.saturating_add(1);
            self.last_failure = Some(Heard {
                phase: Some(phase),
                ..heard
            });
            return Recorded::ResetAll;
        }
        let status = match outcome {
            Outcome::Pass => Status::Pass,
            Outcome::Fail => Status::Fail,
            Outcome::NoVerdict => Status::NoVerdict,
        };
        let slot = match phase {
            Phase::Review => &mut d.review,
            Phase::Testing => &mut d.testing,
        };
        *slot = PhaseState {
            status,
            heard: Some(Heard {
                phase: Some(phase),
                ..heard
            }),
        };
        Recorded::Set
    }

    /// A test run's result for every modified domain it tests. A failure resets every domain (one round);
    /// a pass marks the files it tested, and passes a domain's testing once every edited file of a
    /// language with a test runner ([`crate::runners::testable`]) has been tested, or when the run
    /// tests the domain whole. Returns whether the run tested anything modified.
    pub(crate) fn record_test_run(
        &mut self,
        tests: &dyn Fn(&str, &DomainState) -> Tested,
        passed: bool,
        heard: &Heard,
    ) -> bool {
        let covered: Vec<(String, Tested)> = self
            .domains
            .iter()
            .map(|(d, state)| (d.clone(), tests(d, state)))
            .filter(|(_, t)| t.any())
            .collect();
        let Some((first, _)) = covered.first() else {
            return false;
        };
        if !passed {
            // One reset for the run, however many domains it covers.
            let heard = Heard {
                domain: first.clone(),
                ..heard.clone()
            };
            self.record(Phase::Testing, Outcome::Fail, heard);
            return true;
        }
        for (domain, tested) in covered {
            if let (Some(d), Tested::Files(files)) = (self.domains.get_mut(&domain), tested) {
                d.tested.extend(files);
                if !d.untested().is_empty() {
                    continue;
                }
                // Passed whole: the list has done its work.
                d.tested.clear();
            }
            let heard = Heard {
                domain,
                ..heard.clone()
            };
            self.record(Phase::Testing, Outcome::Pass, heard);
        }
        true
    }

    /// Forgets every modified domain and the round count (all verified, or `feedback-loop reset`).
    pub(crate) fn clear(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heard(domain: &str, by: &str) -> Heard {
        Heard {
            domain: domain.into(),
            by: by.into(),
            ..Heard::default()
        }
    }

    #[test]
    fn an_edit_sends_its_domain_back_to_pending() {
        let mut l = Ledger::default();
        l.track_edit("backend", "api/x.go");
        l.record(
            Phase::Review,
            Outcome::Pass,
            heard("backend", "backend-reviewer"),
        );
        assert_eq!(l.domains["backend"].review.status, Status::Pass);
        assert!(!l.already_tracks("backend", "api/x.go"));
        l.track_edit("backend", "api/x.go");
        assert_eq!(l.domains["backend"].review.status, Status::Pending);
        assert!(l.already_tracks("backend", "api/x.go"));
    }

    #[test]
    fn a_failed_test_in_one_domain_resets_every_domain() {
        let mut l = Ledger::default();
        l.track_edit("backend", "api/x.go");
        l.track_edit("frontend", "web/a.tsx");
        for d in ["backend", "frontend"] {
            l.record(Phase::Review, Outcome::Pass, heard(d, "r"));
        }
        l.record(Phase::Testing, Outcome::Pass, heard("backend", "t"));
        let r = l.record(
            Phase::Testing,
            Outcome::Fail,
            heard("frontend", "frontend-tester"),
        );
        assert_eq!(r, Recorded::ResetAll);
        assert_eq!(l.iteration, 1);
        for d in l.domains.values() {
            assert_eq!(d.review.status, Status::Pending);
            assert_eq!(d.testing.status, Status::Pending);
        }
        assert_eq!(l.last_failure.as_ref().unwrap().by, "frontend-tester");
    }

    #[test]
    fn a_review_fail_stays_in_its_domain_and_counts_no_round() {
        let mut l = Ledger::default();
        l.track_edit("backend", "a.go");
        l.track_edit("frontend", "b.tsx");
        l.record(Phase::Review, Outcome::Pass, heard("frontend", "r"));
        l.record(Phase::Review, Outcome::Fail, heard("backend", "r"));
        assert_eq!(l.iteration, 0);
        assert_eq!(l.domains["backend"].review.status, Status::Fail);
        assert_eq!(l.domains["frontend"].review.status, Status::Pass);
    }

    #[test]
    fn verdicts_for_unmodified_domains_are_not_recorded() {
        let mut l = Ledger::default();
        assert_eq!(
            l.record(Phase::Review, Outcome::Pass, heard("backend", "r")),
            Recorded::NotModified
        );
        assert!(l.is_clean());
    }

    #[test]
    fn one_failed_test_run_is_one_round_however_many_domains_it_covers() {
        let mut l = Ledger::default();
        l.track_edit("backend", "a.go");
        l.track_edit("frontend", "b.tsx");
        let whole_if = |name: &'static str| {
            move |d: &str, _: &DomainState| {
                if d == name || name == "*" {
                    Tested::Whole
                } else {
                    Tested::Files(Vec::new())
                }
            }
        };
        assert!(l.record_test_run(&whole_if("*"), false, &heard("", "cargo test")));
        assert_eq!(l.iteration, 1);
        assert!(l.record_test_run(&whole_if("backend"), true, &heard("", "go test")));
        assert_eq!(l.domains["backend"].testing.status, Status::Pass);
        assert_eq!(l.domains["frontend"].testing.status, Status::Pending);
        assert!(!l.record_test_run(&whole_if("infra"), true, &heard("", "x")));
    }

    /// Issue 36: a domain of Go and Python files is tested when both are, by one run or two; an edit
    /// forgets what was tested.
    #[test]
    fn a_run_clears_a_domain_only_when_every_testable_file_is_tested() {
        let mut l = Ledger::default();
        l.track_edit("backend", "api/x.go");
        l.track_edit("backend", "scripts/y.py");
        l.track_edit("backend", "db/schema.sql");
        let files = |f: &'static [&'static str]| {
            move |_: &str, _: &DomainState| {
                Tested::Files(f.iter().map(|s| (*s).to_owned()).collect())
            }
        };
        assert!(l.record_test_run(&files(&["scripts/y.py"]), true, &heard("", "pytest")));
        assert_eq!(l.domains["backend"].testing.status, Status::Pending);
        assert_eq!(l.domains["backend"].untested(), ["api/x.go"]);
        l.track_edit("backend", "scripts/y.py");
        assert_eq!(
            l.domains["backend"].untested().len(),
            2,
            "an edit forgets the tested files"
        );
        assert!(l.record_test_run(&files(&["scripts/y.py"]), true, &heard("", "pytest")));
        assert!(l.record_test_run(&files(&["api/x.go"]), true, &heard("", "go test")));
        assert_eq!(
            l.domains["backend"].testing.status,
            Status::Pass,
            "the .sql file has no runner, so it needs none"
        );
        assert!(!l.record_test_run(&files(&[]), true, &heard("", "x")));
    }

    #[test]
    fn the_file_list_is_capped_and_counts_the_rest() {
        let mut l = Ledger::default();
        for i in 0..MAX_FILES_PER_DOMAIN + 5 {
            l.track_edit("backend", &format!("f{i}.go"));
        }
        l.track_edit("backend", "f0.go");
        assert_eq!(l.domains["backend"].files.len(), MAX_FILES_PER_DOMAIN);
        assert_eq!(l.domains["backend"].more_files, 5);
    }
}
