//! What a scenario does differently per client (Claude Code, Codex, Gemini, Copilot): install, extra handlers, the run, and where the client
//! keeps its transcripts.

use crate::e2e::{Project, RunOptions, RunResult};
use crate::scenario::{ExtraHook, RUN_TIMEOUT};
use crate::scenario_hooks::{add_codex_hooks, add_copilot_hooks, add_gemini_hooks, add_hooks};
use crate::standin::Scenario;
use std::path::{Path, PathBuf};

/// The client a scenario file names (`client = "codex"`, `"gemini"`; Claude Code by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Claude,
    Codex,
    Gemini,
    Copilot,
}

impl Kind {
    /// The kind of a scenario's `client` field (`claude`, `codex`, `gemini`, `copilot`).
    pub(crate) fn of(client: Option<&str>) -> Self {
        match client {
            Some("codex") => Self::Codex,
            Some("gemini") => Self::Gemini,
            Some("copilot") => Self::Copilot,
            _ => Self::Claude,
        }
    }

    /// `portcullis install` for this client.
    pub(crate) fn install(self, project: &Project, client: &Path) {
        match self {
            Self::Claude => project.install(),
            Self::Codex => project.install_codex(client),
            Self::Gemini => project.install_gemini(),
            Self::Copilot => project.install_copilot(),
        }
    }

    /// The scenario's own extra handlers, in the client's hook file.
    pub(crate) fn add_hooks(
        self,
        project: &Project,
        hooks: &[ExtraHook],
        subst: &dyn Fn(&str) -> String,
    ) -> Result<(), String> {
        match self {
            Self::Claude => add_hooks(project, hooks, subst),
            Self::Codex => add_codex_hooks(project, hooks, subst),
            Self::Gemini => add_gemini_hooks(project, hooks, subst),
            Self::Copilot => add_copilot_hooks(project, hooks, subst),
        }
    }

    /// One run of the client on `prompt`. `extra_hooks`: the scenario added handlers install did not trust
    /// (Codex then bypasses hook trust).
    pub(crate) fn run(
        self,
        project: &Project,
        client: &Path,
        prompt: &str,
        scenario: Scenario,
        options: &RunOptions,
        extra_hooks: bool,
    ) -> RunResult {
        match self {
            Self::Claude => project.run_with(client, prompt, scenario, RUN_TIMEOUT, options),
            Self::Codex => {
                project.run_codex(client, prompt, scenario, RUN_TIMEOUT, options, extra_hooks)
            }
            Self::Gemini => project.run_gemini(client, prompt, scenario, RUN_TIMEOUT, options),
            Self::Copilot => project.run_copilot(client, prompt, scenario, RUN_TIMEOUT, options),
        }
    }

    /// The client's transcripts of the project's runs.
    pub(crate) fn transcripts(self, project: &Project) -> Vec<PathBuf> {
        match self {
            Self::Claude => project.all_transcripts(),
            Self::Codex => project.codex_rollouts(),
            Self::Gemini => project.gemini_sessions(),
            Self::Copilot => project.copilot_sessions(),
        }
    }
}
