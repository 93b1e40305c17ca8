//! [`Hook`]: what a hook binary is, as data and one function. A hook crate implements it once; the run
//! loop ([`crate::run()`]) runs it, and the suite's registry (the `portcullis-suite` crate) reads the same
//! constants through [`HookSpec::of`], so a hook's events, deadline, timeout and failure policy are written
//! once, in the hook's own crate.
//!
//! This module imports neither the run loop nor the command line: [`Failure`] and [`HookSpec`] are plain
//! data that anything may name.

use std::ffi::OsString;
use std::process::ExitCode;
use std::time::Duration;

use crate::budget;
use crate::client::{Client, ClientSupport};
use crate::config::{Config, SectionSpec};
use crate::ctx::Ctx;
use crate::env::Env;
use crate::error::Result;
use crate::event::Event;
use crate::verdict::Verdict;

/// What a hook does when it cannot decide (bad input, I/O error, deadline, panic).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Let the action proceed: exit 1 and one line on stderr naming the hook and the cause.
    Open,
    /// Block the action: exit 2 with a reason Claude can act on.
    Closed,
}

impl Failure {
    /// The exit code of this policy.
    #[must_use]
    pub const fn code(self) -> u8 {
        match self {
            Self::Open => 1,
            Self::Closed => 2,
        }
    }
}

/// One (event, matcher) a hook binary is registered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Registration {
    /// The hook event, e.g. `"PreToolUse"`.
    pub event: &'static str,
    /// The matcher (PROTOCOL.md §4), or `None` for every occurrence.
    pub matcher: Option<&'static str>,
    /// Registered in the other clients too (Codex, Gemini, Copilot: when the client has the event and the
    /// hook works there). `false` for a registration whose work needs what only Claude Code gives.
    pub beyond_claude: bool,
}

impl Registration {
    /// A registration for every occurrence of `event`.
    #[must_use]
    pub const fn every(event: &'static str) -> Self {
        Self {
            event,
            matcher: None,
            beyond_claude: true,
        }
    }

    /// A registration for the occurrences of `event` that `matcher` matches.
    #[must_use]
    pub const fn matching(event: &'static str, matcher: &'static str) -> Self {
        Self {
            event,
            matcher: Some(matcher),
            beyond_claude: true,
        }
    }

    /// The same registration for Claude Code only: the other clients do not get it.
    #[must_use]
    pub const fn claude_code_only(self) -> Self {
        Self {
            beyond_claude: false,
            ..self
        }
    }
}

/// The matcher for the file-editing tools (`MultiEdit` for older clients).
pub const FILE_EDIT_MATCHER: &str = "Write|Edit|MultiEdit|NotebookEdit";

/// A hook binary.
pub trait Hook {
    /// The binary's name, as in hooks.json.
    const NAME: &'static str;
    /// One line: what it enforces (the README's hook table and `portcullis doctor`).
    const SUMMARY: &'static str;
    /// The events it is registered for.
    const EVENTS: &'static [Registration];
    /// What happens when the hook cannot decide.
    const ON_ERROR: Failure;
    /// How long one run may take before it gives up (inside [`Hook::TIMEOUT_SECS`]).
    const DEADLINE: Duration = budget::HOOK_DEADLINE;
    /// The `timeout` (seconds) hooks.json gives the client: above [`Hook::DEADLINE`], so the hook decides
    /// before it is killed (a killed hook's verdict is lost).
    const TIMEOUT_SECS: u32 = budget::HOOK_TIMEOUT_SECS;
    /// The config sections the hook reads (besides core's `log` and `stop`), checked strictly when config
    /// is loaded for it.
    const SECTIONS: &'static [SectionSpec] = &[];
    /// The environment variables the hook reads besides the chassis' own ([`crate::env_vars::ALL`]).
    const ENV_VARS: &'static [&'static str] = &[];
    /// Whether the hook works in Codex CLI (registered there for the events Codex has), and its limits.
    const CODEX: ClientSupport = ClientSupport::Yes;
    /// Whether the hook works in Gemini CLI (registered there for the events Gemini has), and its limits.
    const GEMINI: ClientSupport = ClientSupport::Yes;
    /// Whether the hook works in Copilot CLI (registered there for the events Copilot has), and its limits.
    const COPILOT: ClientSupport = ClientSupport::Yes;

    /// The decision: pure, all outside access through `ctx`.
    fn decide(event: &Event, ctx: &Ctx) -> Result<Verdict>;

    /// A line `portcullis doctor` adds about this hook's own setup (e.g. a program it needs), given the
    /// merged config. The default adds none.
    #[must_use]
    fn doctor(_config: &Config, _env: &Env) -> Option<DoctorNote> {
        None
    }

    /// Runs a subcommand when the binary is started with arguments (by a person, not Claude Code).
    /// The default knows `--help` and `--version`; anything else is a usage error (exit 64, never 2).
    #[must_use]
    fn command(args: Vec<OsString>) -> ExitCode {
        crate::cli::default_command(Self::NAME, &args)
    }
}

/// A line of `portcullis doctor` about one hook's own setup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoctorNote {
    /// What is checked, e.g. `advisor`.
    pub label: &'static str,
    /// `false` makes it a note (worth knowing, not a failure).
    pub ok: bool,
    /// What was found.
    pub message: String,
}

/// A hook's decision function, callable without naming its type (the fuzzer runs every registered hook).
pub type DecideFn = fn(&Event, &Ctx) -> Result<Verdict>;

/// One hook binary of the suite, as the registry, hooks.json, install, doctor and the suites see it.
#[derive(Debug, Clone, Copy)]
pub struct HookSpec {
    /// Binary, package and hooks.json name.
    pub name: &'static str,
    /// One line: what it enforces.
    pub summary: &'static str,
    /// The events it handles.
    pub registrations: &'static [Registration],
    /// The `timeout` (seconds) hooks.json gives Claude Code; above the hook's own deadline.
    pub timeout_secs: u32,
    /// The hook's own deadline, [`Hook::DEADLINE`].
    pub deadline: Duration,
    /// What the hook does when it cannot decide.
    pub on_error: Failure,
    /// The config sections it reads.
    pub sections: &'static [SectionSpec],
    /// The environment variables it reads besides the chassis' own.
    pub env_vars: &'static [&'static str],
    /// Its decision, for in-process callers (the fuzzer).
    pub decide: DecideFn,
    /// Its own `portcullis doctor` line ([`Hook::doctor`]).
    pub doctor: fn(&Config, &Env) -> Option<DoctorNote>,
    /// Whether it works in Codex CLI ([`Hook::CODEX`]).
    pub codex: ClientSupport,
    /// Whether it works in Gemini CLI ([`Hook::GEMINI`]).
    pub gemini: ClientSupport,
    /// Whether it works in Copilot CLI ([`Hook::COPILOT`]).
    pub copilot: ClientSupport,
    /// Its whole process, [`crate::run`]: what the suite's one installed binary runs when it is started
    /// under the hook's name.
    pub run: fn() -> std::process::ExitCode,
}

impl HookSpec {
    /// The spec of hook `H`, read from its constants.
    #[must_use]
    pub const fn of<H: Hook>() -> Self {
        Self {
            name: H::NAME,
            summary: H::SUMMARY,
            registrations: H::EVENTS,
            timeout_secs: H::TIMEOUT_SECS,
            deadline: H::DEADLINE,
            on_error: H::ON_ERROR,
            sections: H::SECTIONS,
            env_vars: H::ENV_VARS,
            decide: H::decide,
            doctor: H::doctor,
            codex: H::CODEX,
            gemini: H::GEMINI,
            copilot: H::COPILOT,
            run: crate::run::<H>,
        }
    }

    /// The registrations `client` gets: all of them for Claude Code; for another client, none when the
    /// hook does not work there, else those of the events it fires.
    pub fn registrations_for(&self, client: Client) -> impl Iterator<Item = &'static Registration> {
        let works = self.support(client).is_registered();
        self.registrations.iter().filter(move |r| {
            client == Client::ClaudeCode || (works && r.beyond_claude && client.has_event(r.event))
        })
    }

    /// Whether the hook works in `client` (always in Claude Code).
    #[must_use]
    pub const fn support(&self, client: Client) -> ClientSupport {
        match client {
            Client::ClaudeCode => ClientSupport::Yes,
            Client::Codex => self.codex,
            Client::Gemini => self.gemini,
            Client::Copilot => self.copilot,
        }
    }

    /// Whether the hook is registered for `event`.
    #[must_use]
    pub fn handles(&self, event: &str) -> bool {
        self.registrations.iter().any(|r| r.event == event)
    }
}
