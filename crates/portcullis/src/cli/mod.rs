//! The command line: parses arguments and prints what a command returns. Usage errors exit 64.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use portcullis_core::cli::{finish_command, parse_command};
use portcullis_core::{Client, Env};

use crate::commands;
use crate::projects::{absolute, current_project};

mod run;

/// portcullis: deterministic workflow hooks for Claude Code.
#[derive(Debug, Parser)]
#[command(name = "portcullis", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Args)]
struct ScopeArgs {
    /// The settings file: <DIR>/.claude/settings.json, <DIR>/.codex/hooks.json with `--client codex`,
    /// <DIR>/.gemini/settings.json with `--client gemini`, or <DIR>/.github/hooks/portcullis.json with
    /// `--client copilot` (default: the current project).
    #[arg(long, value_name = "DIR", conflicts_with = "user")]
    project: Option<PathBuf>,
    /// The user's settings instead: ~/.claude/settings.json, $CODEX_HOME/hooks.json (default ~/.codex)
    /// with `--client codex`, ~/.gemini/settings.json with `--client gemini`, or
    /// $COPILOT_HOME/settings.json (default ~/.copilot) with `--client copilot`.
    #[arg(long)]
    user: bool,
    /// This machine's project settings instead: <DIR>/.claude/settings.local.json, which is not
    /// committed (Claude Code only).
    #[arg(long, conflicts_with = "user")]
    local: bool,
    /// The agent client: `claude` (Claude Code, the default), `codex` (OpenAI's Codex CLI), `gemini`
    /// (Google's Gemini CLI) or `copilot` (GitHub's Copilot CLI).
    #[arg(long, value_name = "CLIENT", default_value = "claude", value_parser = parse_client)]
    client: Client,
}

fn parse_client(name: &str) -> Result<Client, String> {
    Client::parse(name)
        .ok_or_else(|| format!("unknown client `{name}` (claude, codex, gemini or copilot)"))
}

/// The arguments of `portcullis audit`.
#[derive(Debug, clap::Args)]
struct AuditArgs {
    /// Report only on these files or folders (definitions under them that the usual places miss,
    /// such as a plugin's source, are audited too).
    paths: Vec<PathBuf>,
    /// Print JSON: {"findings": [{"file", "line", "rule", "severity", "message"}], ...}.
    #[arg(long)]
    json: bool,
    /// Say how to fix each finding.
    #[arg(long)]
    fix_hints: bool,
    /// Also ~/.claude/agents and ~/.claude/skills.
    #[arg(long)]
    user: bool,
    /// The project (default: the current one).
    #[arg(long, value_name = "DIR")]
    project: Option<PathBuf>,
}

/// The arguments of `portcullis replay`.
#[derive(Debug, clap::Args)]
struct ReplayArgs {
    /// The session transcript: ~/.claude/projects/<encoded project>/<session>.jsonl (subagents are found
    /// beside it).
    transcript: PathBuf,
    /// Run the portcullis handlers of this settings.json or hooks.json instead of the installed ones.
    #[arg(long, value_name = "FILE")]
    hooks: Option<PathBuf>,
    /// Replay into this project (recorded paths are rewritten to it); default: the recorded one.
    #[arg(long, value_name = "DIR")]
    project: Option<PathBuf>,
    /// Where bare command names (as in hooks.json) are found (default: beside this executable).
    #[arg(long, value_name = "DIR")]
    bin_dir: Option<PathBuf>,
    /// One JSON object per event, then a summary object.
    #[arg(long)]
    json: bool,
    /// Compare the timeline with FILE; exit 1 with a diff when a verdict changed.
    #[arg(long, value_name = "FILE")]
    expect: Option<PathBuf>,
    /// With --expect: write the timeline to FILE instead of comparing.
    #[arg(long, requires = "expect")]
    bless: bool,
}

/// The arguments of `portcullis init`.
#[derive(Debug, clap::Args)]
struct InitArgs {
    /// The project (default: the current one, or the current folder).
    #[arg(long, value_name = "DIR")]
    project: Option<PathBuf>,
    /// Register in .claude/settings.local.json (this machine's, not committed) instead of
    /// .claude/settings.json.
    #[arg(long)]
    local: bool,
    /// Show what would be written and registered; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Where the hook binaries are (default: beside this executable).
    #[arg(long, value_name = "DIR")]
    bin_dir: Option<PathBuf>,
}

/// `portcullis skills` subcommands.
#[derive(Debug, Subcommand)]
enum SkillsCommand {
    /// The skill library as the gateway sees it, with each skill's problems (no description, no
    /// "Use when" trigger, unreadable frontmatter, a shared name) and what was skipped.
    List,
    /// What the gateway would put in front of the agent for PROMPT, with every candidate's score.
    Route {
        /// The prompt, or an agent's task.
        prompt: String,
    },
}

/// `portcullis filter` subcommands.
#[derive(Debug, Subcommand)]
enum FilterCommand {
    /// Bytes before and after filtering, per kind and per session, from the decision log.
    Stats,
}

/// `portcullis progress` subcommands.
#[derive(Debug, Subcommand)]
enum ProgressCommand {
    /// Start a feature at its first phase; prints its id.
    Start {
        /// What the feature is.
        title: String,
        /// bugfix (skips phases 5, 6, 7, 9, 12), small (5, 6, 7, 9), medium or large (none).
        #[arg(long = "type", default_value = "medium")]
        work_type: String,
    },
    /// Move to a phase, by number (8) or name (implementation).
    Phase {
        /// The phase.
        phase: String,
        /// The feature (default: the one active).
        #[arg(long)]
        feature: Option<String>,
    },
    /// Append a line to the feature's log.
    Note {
        /// The text.
        text: String,
        /// The feature (default: the one active).
        #[arg(long)]
        feature: Option<String>,
    },
    /// Finish the feature; it is no longer announced.
    Done {
        /// The feature (default: the one active).
        #[arg(long)]
        feature: Option<String>,
    },
    /// The active features (and how many are done).
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Set a project up: a developer agent for each code domain found, a reviewer and a tester when it
    /// has none (existing files are never overwritten), the hooks registered, and a table of what is now
    /// enforced and what is not.
    #[command(
        after_help = "Examples:\n  portcullis init --dry-run\n  portcullis init --project ~/src/shop --local"
    )]
    Init(InitArgs),
    /// Merge the portcullis hooks into a settings.json, keeping everything else byte for byte.
    #[command(
        after_help = "Examples:\n  portcullis install --project .\n  portcullis install --local --dry-run\n  portcullis install --client codex --user\n  portcullis install --client gemini --user\n  portcullis install --client copilot --user"
    )]
    Install {
        #[command(flatten)]
        scope: ScopeArgs,
        /// Print the change as a diff; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Where the hook binaries are (default: beside this executable).
        #[arg(long, value_name = "DIR")]
        bin_dir: Option<PathBuf>,
        /// Codex: the `codex` program that lists the handlers' hashes for trust (default: `codex` on PATH).
        #[arg(long, value_name = "PATH")]
        codex_bin: Option<PathBuf>,
        /// Codex: write hooks.json but do not record trust in config.toml.
        #[arg(long)]
        no_trust: bool,
    },
    /// Remove exactly the portcullis hooks from a settings.json (or a Codex hooks.json).
    #[command(
        after_help = "Examples:\n  portcullis uninstall --project . --dry-run\n  portcullis uninstall --client codex --user"
    )]
    Uninstall {
        #[command(flatten)]
        scope: ScopeArgs,
        /// Print the change as a diff; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Check config, binaries, registration and the state folder; exits 1 when a check fails.
    #[command(
        after_help = "Examples:\n  portcullis doctor\n  portcullis doctor --json | jq '.checks[] | select(.status != \"ok\")'\n  portcullis doctor --client codex\n  portcullis doctor --client gemini\n  portcullis doctor --client copilot"
    )]
    Doctor {
        /// The project to check (default: the current one).
        #[arg(long, value_name = "DIR")]
        project: Option<PathBuf>,
        /// Where the hook binaries should be (default: beside this executable).
        #[arg(long, value_name = "DIR")]
        bin_dir: Option<PathBuf>,
        /// The agent client: `claude` (the default), `codex` (also checks that Codex trusts the hooks),
        /// `gemini` (also checks that Gemini runs them: trust, `hooksConfig`) or `copilot` (also checks
        /// `disableAllHooks` and repository trust).
        #[arg(long, value_name = "CLIENT", default_value = "claude", value_parser = parse_client)]
        client: Client,
        /// Codex: the `codex` program that lists the handlers' trust (default: `codex` on PATH).
        #[arg(long, value_name = "PATH")]
        codex_bin: Option<PathBuf>,
        /// One JSON object: `{"summary", "checks": [{"name", "status", "message"}]}`.
        #[arg(long)]
        json: bool,
    },
    /// Show the decision log, oldest of the selection first.
    #[command(
        after_help = "Examples:\n  portcullis log --blocked -n 5\n  portcullis log --hook feedback-loop --full\n  portcullis log -f"
    )]
    Log {
        /// Only this session (a prefix is enough).
        #[arg(long)]
        session: Option<String>,
        /// Only this hook.
        #[arg(long)]
        hook: Option<String>,
        /// Only deny, block and ask verdicts.
        #[arg(long)]
        blocked: bool,
        /// The newest N entries.
        #[arg(short = 'n', default_value_t = 20)]
        n: usize,
        /// Print the raw JSON lines.
        #[arg(long)]
        json: bool,
        /// Every line of each reason, as written (default: wrapped, at most four lines).
        #[arg(long)]
        full: bool,
        /// Keep printing new entries as the hooks write them (Ctrl-C to stop).
        #[arg(long, short = 'f')]
        follow: bool,
        /// The project (default: the current one).
        #[arg(long, value_name = "DIR")]
        project: Option<PathBuf>,
    },
    /// Which domain each path is in, by which rule, which agent owns it and whether agent-first and
    /// feedback-loop act on it; with no path, the whole domain table with each domain's agents.
    #[command(
        after_help = "Examples:\n  portcullis domains\n  portcullis domains api/main.go web/src/App.tsx"
    )]
    Domains {
        /// Paths, relative to the current folder or absolute.
        paths: Vec<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// The project (default: the current one).
        #[arg(long, value_name = "DIR")]
        project: Option<PathBuf>,
    },
    /// The file claims workspace-guard keeps (`.claude/locks/`): which agent is writing which file, since
    /// when, and whether the claim is stale.
    #[command(after_help = "Examples:\n  portcullis locks\n  portcullis locks release --stale")]
    Locks {
        #[command(subcommand)]
        action: Option<LocksAction>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// The project (default: the current one).
        #[arg(long, value_name = "DIR", global = true)]
        project: Option<PathBuf>,
    },
    /// Check the agent and skill definitions (.claude/agents, .claude/skills, the skill library, enabled
    /// plugins): frontmatter, names, discovery triggers, length, tools, references. Exits 1 on an error.
    #[command(
        after_help = "Examples:\n  portcullis audit\n  portcullis audit --fix-hints .claude/agents\n  portcullis audit --json"
    )]
    Audit(AuditArgs),
    /// The skill library skill-gateway routes prompts to (.claude/skill-library, ~/.claude/skill-library,
    /// skills.libraries): `list` it, or `route` a prompt to see the scores.
    #[command(
        after_help = "Examples:\n  portcullis skills list\n  portcullis skills route \"add a login form\""
    )]
    Skills {
        #[command(subcommand)]
        action: SkillsCommand,
        /// Print JSON.
        #[arg(long, global = true)]
        json: bool,
        /// The project (default: the current one).
        #[arg(long, value_name = "DIR", global = true)]
        project: Option<PathBuf>,
    },
    /// The features in progress (.claude/.output/features/<id>/MANIFEST.yaml), which every session is
    /// told of at its start.
    #[command(
        after_help = "Examples:\n  portcullis progress start \"Login form\" --type small\n  portcullis progress phase implementation\n  portcullis progress status"
    )]
    Progress {
        #[command(subcommand)]
        action: ProgressCommand,
        /// The project (default: the current one).
        #[arg(long, value_name = "DIR", global = true)]
        project: Option<PathBuf>,
    },
    /// Run COMMAND with secrets in its environment only; its stdout and stderr come back with their
    /// values scrubbed, and its exit code is passed through (125 when a secret cannot be had: then
    /// nothing runs).
    #[command(
        after_help = "Examples:\n  portcullis run-with-secrets --env TOKEN=file:.env#API_TOKEN -- ./deploy.sh\n  portcullis run-with-secrets deploy -- make release"
    )]
    RunWithSecrets {
        /// A secret for the command: VAR=SOURCE, SOURCE being file:PATH#KEY (a dotenv file),
        /// op://VAULT/ITEM/FIELD (1Password CLI) or env:VAR.
        #[arg(long = "env", value_name = "VAR=SOURCE")]
        env: Vec<String>,
        /// Named secrets of the `secrets` config.
        #[arg(value_name = "NAME")]
        names: Vec<String>,
        /// The command and its arguments, after `--`.
        #[arg(last = true, required = true, value_name = "COMMAND")]
        command: Vec<String>,
        /// The project whose config names the secrets (default: the current one).
        #[arg(long, value_name = "DIR")]
        project: Option<PathBuf>,
    },
    /// Run one event (JSON on stdin) through every installed portcullis hook that matches it.
    #[command(
        after_help = "Examples:\n  portcullis explain < event.json\n  portcullis explain --project ~/src/shop < PreToolUse-Write.json"
    )]
    Explain {
        /// The project whose settings to read (default: from the event's cwd).
        #[arg(long, value_name = "DIR")]
        project: Option<PathBuf>,
    },
    /// Replay a recorded session through the hooks, as Claude Code would have fired them, and print a
    /// timeline of their verdicts. Hooks run with a throwaway state folder: the project's state and
    /// decision log are not touched.
    #[command(
        after_help = "Examples:\n  portcullis replay ~/.claude/projects/-home-me-shop/SESSION.jsonl\n  portcullis replay SESSION.jsonl --expect expected.timeline"
    )]
    Replay(ReplayArgs),
    /// What context-filter has saved: bytes before and after, per kind of output and per session.
    #[command(
        after_help = "Examples:\n  portcullis filter stats\n  portcullis filter stats --session 5e55 --json"
    )]
    Filter {
        #[command(subcommand)]
        action: FilterCommand,
        /// Only this session (a prefix is enough).
        #[arg(long, global = true)]
        session: Option<String>,
        /// Print JSON: {"total", "by_kind", "by_session"}, each {"outputs", "bytes_before", "bytes_after"}.
        #[arg(long, global = true)]
        json: bool,
        /// The project (default: the current one).
        #[arg(long, value_name = "DIR", global = true)]
        project: Option<PathBuf>,
    },
    /// Turn a gate that keeps blocking one agent type into a reviewed patch of its definition.
    #[command(
        after_help = "Reads the decision log for gates that blocked one agent type more than 3 times, diagnoses each \
from the agent's transcript, adds an Anti-patterns entry to its definition, checks the patch (audit, replay) \
and commits it on a new branch portcullis/anneal-<date>-<n>. The current branch and working tree are not touched.\n\n\
Examples:\n  portcullis anneal --dry-run\n  portcullis anneal --since 2026-12-01 --advisor"
    )]
    Anneal {
        /// Only blocks from this day on (YYYY-MM-DD).
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
        /// Print the diagnosis and the diff; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Also ask the advisor (escalation_advisor.command) to sum each diagnosis up in one paragraph.
        #[arg(long)]
        advisor: bool,
        /// The project (default: the current one).
        #[arg(long, value_name = "DIR")]
        project: Option<PathBuf>,
    },
    /// List a session's handoffs: each subagent's status and where handoff-router routed it.
    #[command(
        after_help = "Examples:\n  portcullis handoffs\n  portcullis handoffs --session 5e55 --json"
    )]
    Handoffs {
        /// This session (a prefix is enough; default: the latest that recorded one).
        #[arg(long)]
        session: Option<String>,
        /// Print JSON: {"session", "handoffs": [{"at", "prompt_id", "agent_id", "agent_type", "status", "reason", "route", "looped_from"?}]}.
        #[arg(long)]
        json: bool,
        /// The project (default: the current one).
        #[arg(long, value_name = "DIR")]
        project: Option<PathBuf>,
    },
    /// Print a completion script for SHELL.
    #[command(
        after_help = "Examples:\n  portcullis completions bash > ~/.local/share/bash-completion/completions/portcullis\n  portcullis completions zsh > \"${fpath[1]}/_portcullis\"\n  portcullis completions fish > ~/.config/fish/completions/portcullis.fish"
    )]
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print the plugin-format hooks.json generated from the registration table.
    #[command(hide = true)]
    HooksJson,
    /// Print the names of every binary of the suite, one per line (used by install.sh).
    #[command(hide = true)]
    Binaries,
}

#[derive(Debug, Subcommand)]
enum LocksAction {
    /// Free claims by hand: one file's, one agent's, or every stale one. Exits 1 when none matched.
    Release {
        /// The claimed file (relative to the current folder, or absolute).
        #[arg(required_unless_present_any = ["agent", "stale"], conflicts_with_all = ["agent", "stale"])]
        path: Option<String>,
        /// Every claim of this agent (an agent id, or `main` for main threads).
        #[arg(long, conflicts_with = "stale")]
        agent: Option<String>,
        /// Every stale claim.
        #[arg(long)]
        stale: bool,
    },
}

/// Runs the CLI with `args` (including the program name).
#[must_use]
pub fn main_with(args: Vec<OsString>) -> ExitCode {
    let mut args = args.into_iter();
    let program = args
        .next()
        .and_then(|p| p.into_string().ok())
        .unwrap_or_else(|| "portcullis".into());
    let cli = match parse_command::<Cli>(&program, args.collect()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let env = Env::Process;
    if let Command::RunWithSecrets {
        env: pairs,
        names,
        command,
        project,
    } = cli.command
    {
        // Not a report: the command's own output and exit code are the result.
        let project = absolute(project.unwrap_or_else(current_project));
        let request = commands::RunRequest {
            env: pairs,
            names,
            command,
        };
        return commands::run_with_secrets(&project, &request, &env);
    }
    let result = run::report(cli.command, &env);
    finish_command(
        "portcullis",
        result.map(|report| (report.text, u8::from(!report.ok))),
    )
}
