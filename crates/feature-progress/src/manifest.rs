//! The feature manifest: one feature's phases (seed 002 §4.3's 16-phase template, minus what its work
//! type skips), where it stands, and its log. Keys a person adds by hand are kept.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

/// The 16 phases of the orchestration template, in order.
pub const PHASES: [&str; 16] = [
    "Setup",
    "Triage",
    "Codebase Discovery",
    "Skill Discovery",
    "Complexity",
    "Brainstorming",
    "Architecting Plan",
    "Implementation",
    "Design Verification",
    "Domain Compliance",
    "Code Quality",
    "Test Planning",
    "Testing",
    "Coverage Verification",
    "Test Quality",
    "Completion",
];

/// The phases whose agents are heavy (seed 002 §4.3: the compaction gate checks before them).
pub const HEAVY_PHASES: [u8; 3] = [3, 8, 13];

/// How big the work is; decides the phases skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum WorkType {
    /// One issue, a clear fix: skips 5, 6, 7, 9, 12.
    Bugfix,
    /// Under 100 lines, one concern: skips 5, 6, 7, 9.
    Small,
    /// Several files, some design: every phase.
    #[default]
    Medium,
    /// A new subsystem: every phase.
    Large,
}

impl WorkType {
    /// The phase numbers this work type skips.
    #[must_use]
    pub fn skipped(self) -> &'static [u8] {
        match self {
            Self::Bugfix => &[5, 6, 7, 9, 12],
            Self::Small => &[5, 6, 7, 9],
            Self::Medium | Self::Large => &[],
        }
    }

    /// Parses `bugfix`, `small`, `medium` or `large` (any case).
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "bugfix" => Some(Self::Bugfix),
            "small" => Some(Self::Small),
            "medium" => Some(Self::Medium),
            "large" => Some(Self::Large),
            _ => None,
        }
    }
}

/// Where a phase stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PhaseStatus {
    /// Not reached yet.
    Pending,
    /// The current phase.
    Active,
    /// Finished.
    Done,
    /// Left out for this work type.
    Skipped,
}

/// One phase of a feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Phase {
    /// 1 to 16.
    pub number: u8,
    /// Its name in the template.
    pub name: String,
    /// Where it stands.
    pub status: PhaseStatus,
}

/// Whether the feature is being worked on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeatureStatus {
    /// In progress: announced at every session start.
    Active,
    /// Finished: no longer announced.
    Done,
}

/// A line of the feature's log (the seed's scratchpad).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    /// When (RFC 3339, UTC).
    pub at: String,
    /// What.
    pub text: String,
}

/// An agent that worked while the feature was active, as SubagentStop saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentRun {
    /// When it stopped.
    pub at: String,
    /// Its type (`backend-developer`).
    #[serde(rename = "type")]
    pub agent_type: String,
    /// Its id.
    pub id: String,
    /// The first line of its final answer (at most 200 characters).
    pub outcome: String,
}

/// The last verdict of a gate, as the decision log had it when the session last stopped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateVerdict {
    /// When the gate decided.
    pub at: String,
    /// `block`, `warn`, `deny` ... (silent passes are not logged).
    pub verdict: String,
    /// The first line of its reason (at most 200 characters).
    pub reason: String,
}

/// The session's context in use when it last stopped (compaction-gate's measure).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContextFigure {
    /// When measured.
    pub at: String,
    /// Percent of the window.
    pub percent: f64,
    /// Tokens in use.
    pub used_tokens: u64,
    /// The window.
    pub window_tokens: u64,
}

/// The most agent runs kept: the newest.
pub const MAX_AGENT_RUNS: usize = 50;

/// `MANIFEST.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The feature's id: its folder's name.
    pub id: String,
    /// What the feature is.
    pub title: String,
    /// Its size.
    #[serde(rename = "type", default)]
    pub work_type: WorkType,
    /// Active or done.
    pub status: FeatureStatus,
    /// When it was started (RFC 3339, UTC).
    pub created: String,
    /// When it last changed.
    pub updated: String,
    /// The number of the current phase.
    pub current_phase: u8,
    /// Every phase of the template with its status.
    pub phases: Vec<Phase>,
    /// The log, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log: Vec<Note>,
    /// Agents that stopped while the feature was active, oldest first (the newest
    /// [`MAX_AGENT_RUNS`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agents: Vec<AgentRun>,
    /// feedback-loop's last logged verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback_loop: Option<GateVerdict>,
    /// The context in use when the session last stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<ContextFigure>,
    /// Keys a person added by hand: read and written back as they are.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl Manifest {
    /// A new feature at its first phase.
    #[must_use]
    pub fn new(id: &str, title: &str, work_type: WorkType, now: &str) -> Self {
        let skipped = work_type.skipped();
        let phases: Vec<Phase> = PHASES
            .iter()
            .zip(1u8..)
            .map(|(name, number)| Phase {
                number,
                name: (*name).to_string(),
                status: if skipped.contains(&number) {
                    PhaseStatus::Skipped
                } else {
                    PhaseStatus::Pending
                },
            })
            .collect();
        let mut m = Self {
            id: id.to_string(),
            title: title.to_string(),
            work_type,
            status: FeatureStatus::Active,
            created: now.to_string(),
            updated: now.to_string(),
            current_phase: 1,
            phases,
            log: Vec::new(),
            agents: Vec::new(),
            feedback_loop: None,
            context: None,
            extra: BTreeMap::new(),
        };
        m.mark_current(1);
        m
    }

    /// The phase `wanted` names: a number (`8`) or a name (`implementation`, any case; a unique
    /// prefix will do).
    pub fn find_phase(&self, wanted: &str) -> Result<u8, String> {
        let w = wanted.trim();
        if let Ok(n) = w.parse::<u8>() {
            return self
                .phases
                .iter()
                .find(|p| p.number == n)
                .map(|p| p.number)
                .ok_or_else(|| format!("there is no phase {n} (1 to 16)"));
        }
        let lower = w.to_lowercase();
        let exact = self.phases.iter().find(|p| p.name.to_lowercase() == lower);
        if let Some(p) = exact {
            return Ok(p.number);
        }
        let by_prefix: Vec<&Phase> = self
            .phases
            .iter()
            .filter(|p| p.name.to_lowercase().starts_with(&lower))
            .collect();
        match by_prefix.as_slice() {
            [one] => Ok(one.number),
            [] => Err(format!(
                "no phase is called `{w}`; the phases are {}",
                PHASES.join(", ")
            )),
            many => Err(format!(
                "`{w}` could be {}",
                many.iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(" or ")
            )),
        }
    }

    /// Moves to phase `number`: the phases before it that were not skipped are done, it is active, the
    /// ones after it pending. Entering a skipped phase runs it after all.
    pub fn move_to(&mut self, number: u8, now: &str) {
        self.current_phase = number;
        self.mark_current(number);
        self.status = FeatureStatus::Active;
        self.updated = now.to_string();
    }

    fn mark_current(&mut self, number: u8) {
        let skipped = self.work_type.skipped();
        for p in &mut self.phases {
            p.status = if p.number == number {
                PhaseStatus::Active
            } else if skipped.contains(&p.number) && p.status == PhaseStatus::Skipped {
                PhaseStatus::Skipped
            } else if p.number < number {
                PhaseStatus::Done
            } else {
                PhaseStatus::Pending
            };
        }
    }

    /// Finishes the feature: every phase not skipped is done.
    pub fn finish(&mut self, now: &str) {
        for p in &mut self.phases {
            if p.status != PhaseStatus::Skipped {
                p.status = PhaseStatus::Done;
            }
        }
        self.status = FeatureStatus::Done;
        self.updated = now.to_string();
    }

    /// Appends a line to the log.
    pub fn note(&mut self, text: &str, now: &str) {
        self.log.push(Note {
            at: now.to_string(),
            text: text.to_string(),
        });
        self.updated = now.to_string();
    }

    /// Records an agent run, keeping the newest [`MAX_AGENT_RUNS`].
    pub fn record_agent(&mut self, run: AgentRun) {
        self.updated.clone_from(&run.at);
        self.agents.push(run);
        if self.agents.len() > MAX_AGENT_RUNS {
            let extra = self.agents.len() - MAX_AGENT_RUNS;
            self.agents.drain(..extra);
        }
    }

    /// The current phase.
    #[must_use]
    pub fn current(&self) -> Option<&Phase> {
        self.phases.iter().find(|p| p.number == self.current_phase)
    }

    /// The next phase that is not skipped.
    #[must_use]
    pub fn next(&self) -> Option<&Phase> {
        self.phases
            .iter()
            .find(|p| p.number > self.current_phase && p.status != PhaseStatus::Skipped)
    }

    /// A few lines for Claude's context or the status: title, phase, what is done and next, the last
    /// note.
    #[must_use]
    pub fn summary(&self) -> String {
        let current = self.current().map_or_else(
            || format!("phase {}", self.current_phase),
            |p| format!("phase {} {}", p.number, p.name),
        );
        let done: Vec<String> = self
            .phases
            .iter()
            .filter(|p| p.status == PhaseStatus::Done)
            .map(|p| p.number.to_string())
            .collect();
        let mut s = format!(
            "- {} (`{}`, {}): {current}",
            self.title,
            self.id,
            serde_json::to_value(self.work_type)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        );
        if self.status == FeatureStatus::Done {
            s.push_str(", done");
        }
        if !done.is_empty() {
            let _ = write!(s, "; done: phases {}", done.join(", "));
        }
        if let Some(n) = self.next() {
            let _ = write!(s, "; next: {} {}", n.number, n.name);
        }
        if let Some(last) = self.log.last() {
            let _ = write!(s, "; last note: {}", last.text);
        }
        if let Some(a) = self.agents.last() {
            let _ = write!(s, "; last agent: {} ({})", a.agent_type, a.outcome);
        }
        if let Some(v) = &self.feedback_loop {
            let _ = write!(s, "; feedback-loop: {} ({})", v.verdict, v.reason);
        }
        if let Some(c) = &self.context {
            let _ = write!(s, "; context at last stop: {}%", c.percent);
        }
        s
    }
}
