//! Running a parsed command: each subcommand's arguments turned into a request and its report.

use std::path::PathBuf;

use portcullis_core::{Client, Env};
use portcullis_suite::HOOKS;

use super::{
    AuditArgs, Cli, Command, FilterCommand, InitArgs, LocksAction, ProgressCommand, ReplayArgs,
    ScopeArgs, SkillsCommand,
};
use crate::commands::{self, CmdResult, LogFilter};
use crate::projects::{absolute, current_project, default_bin_dir, project_for};
use crate::settings::{self, Scope};

fn audit(a: AuditArgs, env: &Env) -> CmdResult {
    let request = commands::AuditRequest {
        paths: a.paths,
        json: a.json,
        hints: a.fix_hints,
        user: a.user,
    };
    commands::audit(&project_for(a.project, env)?, &request, env)
}

fn skills(action: SkillsCommand, json: bool, project: Option<PathBuf>, env: &Env) -> CmdResult {
    let request = match action {
        SkillsCommand::List => commands::SkillsRequest::List,
        SkillsCommand::Route { prompt } => commands::SkillsRequest::Route(prompt),
    };
    commands::skills(&project_for(project, env)?, &request, json, env)
}

fn progress(action: ProgressCommand, project: Option<PathBuf>, env: &Env) -> CmdResult {
    let action = match action {
        ProgressCommand::Start { title, work_type } => {
            commands::ProgressAction::Start { title, work_type }
        }
        ProgressCommand::Phase { phase, feature } => {
            commands::ProgressAction::Phase { phase, feature }
        }
        ProgressCommand::Note { text, feature } => commands::ProgressAction::Note { text, feature },
        ProgressCommand::Done { feature } => commands::ProgressAction::Done { feature },
        ProgressCommand::Status { json } => commands::ProgressAction::Status { json },
    };
    commands::progress(&project_for(project, env)?, action, env)
}

fn locks(
    action: Option<LocksAction>,
    json: bool,
    project: Option<PathBuf>,
    env: &Env,
) -> CmdResult {
    let project = &project_for(project, env)?;
    match action {
        None => commands::list_locks(project, json, env),
        Some(LocksAction::Release { path, agent, stale }) => {
            let what = match (path, agent, stale) {
                (Some(p), _, _) => commands::Release::Path(p),
                (None, Some(a), _) => commands::Release::Agent(a),
                (None, None, true) => commands::Release::Stale,
                (None, None, false) => {
                    return Err("say which claims: PATH, --agent ID or --stale".to_owned());
                }
            };
            commands::release_locks(project, &what, env)
        }
    }
}

fn scope(args: ScopeArgs, env: &Env) -> Result<Scope, String> {
    let client = args.client;
    if client != Client::ClaudeCode {
        if args.local {
            return Err(format!(
                "--local is Claude Code's .claude/settings.local.json; {} has no local hooks file",
                client.display_name()
            ));
        }
        if !args.user {
            let dir = absolute(args.project.unwrap_or_else(current_project));
            return Ok(match client {
                Client::Gemini => Scope::GeminiProject(dir),
                Client::Copilot => Scope::CopilotProject(dir),
                _ => Scope::CodexProject(dir),
            });
        }
        let (home, needs) = match client {
            Client::Gemini => (crate::gemini::gemini_home(env), "GEMINI_CLI_HOME or HOME"),
            Client::Copilot => (crate::copilot::copilot_home(env), "COPILOT_HOME or HOME"),
            _ => (crate::codex::codex_home(env), "CODEX_HOME or HOME"),
        };
        let home = home.ok_or_else(|| format!("--user needs {needs} to be set"))?;
        return Ok(match client {
            Client::Gemini => Scope::GeminiUser(home),
            Client::Copilot => Scope::CopilotUser(home),
            _ => Scope::CodexUser(home),
        });
    }
    if args.user {
        return env
            .claude_home()
            .map(Scope::User)
            .ok_or_else(|| "--user needs HOME (or CLAUDE_CONFIG_DIR) to be set".into());
    }
    let dir = absolute(args.project.unwrap_or_else(current_project));
    Ok(if args.local {
        Scope::ProjectLocal(dir)
    } else {
        Scope::Project(dir)
    })
}

fn doctor(
    project: Option<PathBuf>,
    bin_dir: Option<PathBuf>,
    client: Client,
    codex_bin: Option<PathBuf>,
    json: bool,
    env: &Env,
) -> CmdResult {
    commands::doctor(
        &project_for(project, env)?,
        &absolute(bin_dir.unwrap_or_else(default_bin_dir)),
        env,
        client,
        codex_bin.map(absolute).as_deref(),
        json,
    )
}

fn codex_options(codex_bin: Option<PathBuf>, no_trust: bool) -> commands::CodexOptions {
    commands::CodexOptions {
        binary: codex_bin.map(absolute),
        no_trust,
    }
}

fn install(
    s: ScopeArgs,
    dry_run: bool,
    bin_dir: Option<PathBuf>,
    codex: &commands::CodexOptions,
    env: &Env,
) -> CmdResult {
    let bin_dir = absolute(bin_dir.unwrap_or_else(default_bin_dir));
    scope(s, env).and_then(|s| commands::install(&s, &bin_dir, dry_run, codex, env))
}

fn replay(r: ReplayArgs, env: &Env) -> CmdResult {
    crate::replay::replay(
        &crate::replay::Options {
            transcript: r.transcript,
            hooks: r.hooks,
            project: r.project.map(absolute),
            bin_dir: absolute(r.bin_dir.unwrap_or_else(default_bin_dir)),
            json: r.json,
            expect: r.expect,
            bless: r.bless,
        },
        env,
    )
}

/// The completion script for `shell`, generated from the command line itself.
fn completions(shell: clap_complete::Shell) -> commands::Report {
    let mut script = Vec::new();
    clap_complete::generate(
        shell,
        &mut <Cli as clap::CommandFactory>::command(),
        "portcullis",
        &mut script,
    );
    commands::Report::ok(String::from_utf8_lossy(&script).into_owned())
}

fn log(project: Option<PathBuf>, filter: &LogFilter, follow: bool, env: &Env) -> CmdResult {
    let project = project_for(project, env)?;
    if follow {
        // Streams until interrupted: nothing is left to report.
        commands::follow_log(&project, env, filter)?;
        return Ok(commands::Report::ok(String::new()));
    }
    commands::show_log(&project, env, filter)
}

fn init(a: InitArgs, env: &Env) -> CmdResult {
    let project = absolute(a.project.unwrap_or_else(current_project));
    let request = commands::InitRequest {
        scope: if a.local {
            Scope::ProjectLocal(project.clone())
        } else {
            Scope::Project(project.clone())
        },
        bin_dir: absolute(a.bin_dir.unwrap_or_else(default_bin_dir)),
        dry_run: a.dry_run,
    };
    commands::init(&project, &request, env)
}

/// Runs a command whose result is a report (text and success).
pub(super) fn report(command: Command, env: &Env) -> CmdResult {
    match command {
        Command::Install {
            scope: s,
            dry_run,
            bin_dir,
            codex_bin,
            no_trust,
        } => install(
            s,
            dry_run,
            bin_dir,
            &codex_options(codex_bin, no_trust),
            env,
        ),
        Command::Init(a) => init(a, env),
        Command::Uninstall { scope: s, dry_run } => {
            scope(s, env).and_then(|s| commands::uninstall(&s, dry_run))
        }
        Command::Doctor {
            project,
            bin_dir,
            client,
            codex_bin,
            json,
        } => doctor(project, bin_dir, client, codex_bin, json, env),
        Command::Log {
            session,
            hook,
            blocked,
            n,
            json,
            full,
            follow,
            project,
        } => log(
            project,
            &LogFilter {
                session,
                hook,
                blocked,
                n,
                json,
                full,
            },
            follow,
            env,
        ),
        Command::Domains {
            paths,
            json,
            project,
        } => commands::domains(&project_for(project, env)?, &paths, json, env),
        Command::Locks {
            action,
            json,
            project,
        } => locks(action, json, project, env),
        Command::Explain { project } => commands::read_stdin()
            .and_then(|input| commands::explain(&input, project.as_deref(), env)),
        Command::Replay(r) => replay(r, env),
        Command::Audit(a) => audit(a, env),
        Command::Skills {
            action,
            json,
            project,
        } => skills(action, json, project, env),
        Command::Progress { action, project } => progress(action, project, env),
        Command::RunWithSecrets { .. } => Err("run-with-secrets is run above".into()),
        Command::Completions { shell } => Ok(completions(shell)),
        Command::Filter {
            action: FilterCommand::Stats,
            session,
            json,
            project,
        } => commands::filter_stats(&project_for(project, env)?, session.as_deref(), json, env),
        Command::Anneal {
            since,
            dry_run,
            advisor,
            project,
        } => anneal(since, dry_run, advisor, project, env),
        Command::Handoffs {
            session,
            json,
            project,
        } => commands::handoffs(&project_for(project, env)?, session.as_deref(), json, env),
        Command::Binaries => Ok(commands::Report {
            text: portcullis_suite::binaries().join("\n") + "\n",
            ok: true,
        }),
        Command::HooksJson => Ok(commands::Report {
            text: settings::plugin_hooks_json(HOOKS),
            ok: true,
        }),
    }
}

fn anneal(
    since: Option<String>,
    dry_run: bool,
    advisor: bool,
    project: Option<PathBuf>,
    env: &Env,
) -> CmdResult {
    commands::anneal(
        &commands::AnnealRequest {
            project: project_for(project, env)?,
            since,
            dry_run,
            advisor,
        },
        env,
    )
}
