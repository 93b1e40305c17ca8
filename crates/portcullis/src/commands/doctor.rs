//! `portcullis doctor`: config (checked against every section of the suite), binaries, registration, the
//! state folder, and each hook's own notes.

use std::fs;
use std::path::{Path, PathBuf};

use portcullis_core::client::ClientSupport;
use portcullis_core::config::{Config, Schema};
use portcullis_core::state::StateDir;
use portcullis_core::{Client, Env};
use portcullis_suite::HOOKS;

use super::{CmdResult, Report, doctor_clients, doctor_codex, is_executable, settings_files};
use crate::settings;

/// One line of the report.
#[derive(Debug, serde::Serialize)]
struct Check {
    name: String,
    /// `ok`, `note`, `warn` or `fail`.
    status: &'static str,
    message: String,
}

/// The checks so far.
#[derive(Default)]
struct Checks(Vec<Check>);

impl Checks {
    fn push(&mut self, name: &str, status: &'static str, message: impl Into<String>) {
        self.0.push(Check {
            name: name.to_owned(),
            status,
            message: message.into(),
        });
    }

    fn result(&mut self, name: &str, result: Result<String, String>) {
        match result {
            Ok(m) => self.push(name, "ok", m),
            Err(m) => self.push(name, "fail", m),
        }
    }

    fn count(&self, status: &str) -> usize {
        self.0.iter().filter(|c| c.status == status).count()
    }
}

/// `portcullis doctor`: for Claude Code, or with `client` Codex, for Codex CLI (its hook files and their
/// trust, through `codex_bin` or `codex` on PATH). A summary line first, then one line per check: `ok`,
/// `note`, `warn` (a gate that would enforce nothing, with why and what to do) or `FAIL`; with `json`,
/// `{"summary", "checks": [{"name", "status", "message"}]}`. Exit 1 when a check fails.
pub fn doctor(
    project: &Path,
    bin_dir: &Path,
    env: &Env,
    client: Client,
    codex_bin: Option<&Path>,
    json: bool,
) -> CmdResult {
    let mut checks = Checks::default();
    let files: Vec<String> = Config::paths(env, project)
        .into_iter()
        .filter(|p| p.exists())
        .map(|p| p.display().to_string())
        .collect();
    let config = Config::load(env, project, Schema::suite(&portcullis_suite::sections()));
    checks.result(
        "config",
        config
            .as_ref()
            .map(|_| {
                if files.is_empty() {
                    "no config files; defaults apply".into()
                } else {
                    format!("parsed {}", files.join(", "))
                }
            })
            .map_err(ToString::to_string),
    );

    let missing: Vec<&str> = portcullis_suite::binaries()
        .into_iter()
        .filter(|n| !is_executable(&bin_dir.join(n)))
        .collect();
    checks.result(
        "binaries",
        if missing.is_empty() {
            Ok(format!(
                "{} binaries in `{}`",
                portcullis_suite::binaries().len(),
                bin_dir.display()
            ))
        } else {
            Err(format!(
                "missing from `{}`: {}",
                bin_dir.display(),
                missing.join(", ")
            ))
        },
    );

    let registered = client_checks(&mut checks, project, env, client, codex_bin);

    checks.result("state", state_check(env, project));
    if let Ok(config) = &config {
        // A gate the client does not run enforces nothing there: said once, below, instead.
        let not_run = |name: &str| {
            HOOKS
                .iter()
                .any(|h| h.name == name && !h.support(client).is_registered())
        };
        crate::commands::doctor_gates::check(config, project, env, &mut |name, status, message| {
            if !not_run(name) {
                checks.push(name, status, message);
            }
        });
        for hook in HOOKS {
            match hook.support(client) {
                ClientSupport::Yes => {}
                ClientSupport::Partly(why) => checks.push(
                    hook.name,
                    "note",
                    format!("partly in {}: {why}", client.display_name()),
                ),
                ClientSupport::No(why) => checks.push(
                    hook.name,
                    "note",
                    format!("not run in {}: {why}", client.display_name()),
                ),
            }
        }
        // The user's own domain table and the domains agents declare: rules that can never win.
        for note in domain_notes(config, project, env) {
            checks.push("domains", "note", note);
        }
    }
    // Agent files the catalog skips, each named (the hooks log only a count and the first).
    let catalog = portcullis_domains::AgentCatalog::discover(project, env.claude_home().as_deref());
    for (path, why) in &catalog.skipped {
        checks.push(
            "agents",
            "note",
            format!("`{}` skipped: {why}", path.display()),
        );
    }
    // Each hook's own lines (a program it needs, ...): notes, never failures.
    if let Ok(config) = &config {
        for hook in HOOKS {
            if let Some(note) = (hook.doctor)(config, env) {
                checks.push(
                    note.label,
                    if note.ok { "ok" } else { "note" },
                    note.message,
                );
            }
        }
    }
    Ok(render(&checks, registered, project, json))
}

/// The report: a summary line, then the checks (or all of it as JSON).
fn render(checks: &Checks, registered: Option<usize>, project: &Path, json: bool) -> Report {
    use std::fmt::Write as _;
    let fails = checks.count("fail");
    let warns = checks.count("warn");
    let mut summary = match registered {
        Some(n) => format!("{n} of {} hooks registered", HOOKS.len()),
        None => format!("{} hooks", HOOKS.len()),
    };
    let _ = write!(
        summary,
        "; {fails} check{} failed, {warns} warning{}",
        if fails == 1 { "" } else { "s" },
        if warns == 1 { "" } else { "s" }
    );
    if registered == Some(0) {
        let _ = write!(
            summary,
            "; run `portcullis install --project {}` (or `--local`)",
            project.display()
        );
    }
    let ok = fails == 0;
    if json {
        let value = serde_json::json!({"summary": summary, "checks": checks.0});
        return Report {
            text: format!("{value}\n"),
            ok,
        };
    }
    let paint = portcullis_core::cli::Paint::stdout();
    let mut text = format!("doctor: {}\n", paint.bold(&summary));
    for c in &checks.0 {
        // Padded before it is painted, so the columns stay aligned on a terminal.
        let status = format!("{:<5}", if c.status == "fail" { "FAIL" } else { c.status });
        let status = match c.status {
            "fail" => paint.red(&status),
            "warn" => paint.yellow(&status),
            "ok" => paint.green(&status),
            _ => status,
        };
        let _ = writeln!(text, "{status} {}: {}", c.name, c.message);
    }
    Report { text, ok }
}

/// The state folder, looked at and never made or written (the hooks make it on first use).
fn state_check(env: &Env, project: &Path) -> Result<String, String> {
    let state = StateDir::for_project(env, project);
    let folder = state.path();
    let judged = folder
        .ancestors()
        .find(|d| d.exists())
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let writable = fs::metadata(&judged).is_ok_and(|m| m.is_dir() && !m.permissions().readonly());
    match (folder.is_dir(), writable) {
        (true, true) => Ok(format!("`{}` is writable", folder.display())),
        (false, true) => Ok(format!(
            "`{}` is made on first use (`{}` is writable)",
            folder.display(),
            judged.display()
        )),
        _ => Err(format!("`{}` is not writable", judged.display())),
    }
}

/// Shadowed rules of the configured `domains` table (the built-in one shadows on purpose), or, with the
/// built-in table, overlaps between the domains agents declare (`owns:`).
fn domain_notes(config: &Config, project: &Path, env: &Env) -> Vec<String> {
    use portcullis_domains::{AgentCatalog, DomainMap, DomainTable, DomainsConfig};
    let Ok(table) = config.section::<DomainsConfig>() else {
        return Vec::new();
    };
    if let Some(DomainTable(rows)) = &table.0 {
        let rows = rows
            .iter()
            .map(|(d, g)| (d.as_str(), g.iter().map(String::as_str)));
        return DomainMap::new(rows)
            .map(|m| m.shadowed())
            .unwrap_or_default();
    }
    let catalog = AgentCatalog::discover(project, env.claude_home().as_deref());
    let declared: Vec<(String, Vec<String>)> = catalog
        .agents
        .iter()
        .filter_map(|a| Some((a.declared_domain()?, a.owns.clone())))
        .collect();
    let rows = declared
        .iter()
        .map(|(d, g)| (d.as_str(), g.iter().map(String::as_str)));
    DomainMap::new(rows).map_or_else(
        |e| vec![format!("an agent's `owns:` does not parse: {e}")],
        |m| m.shadowed(),
    )
}

/// One of our handlers found in a hook file: event, matcher, command, and the file.
pub(super) type Found = (String, Option<String>, String, PathBuf);

/// The checks of `client`'s own hook files: how many hooks Claude Code's settings register (`None` for the
/// other clients, whose files are checked here in their own terms).
fn client_checks(
    checks: &mut Checks,
    project: &Path,
    env: &Env,
    client: Client,
    codex_bin: Option<&Path>,
) -> Option<usize> {
    match client {
        Client::ClaudeCode => {
            let (result, registered) = check_registered(project, env);
            checks.result("settings", result);
            Some(registered)
        }
        Client::Codex => {
            checks.result("codex hooks", doctor_codex::check_registered(project, env));
            checks.result(
                "codex trust",
                doctor_codex::check_trust(project, env, codex_bin),
            );
            None
        }
        Client::Gemini => {
            checks.result(
                "gemini hooks",
                doctor_clients::check_registered(project, env, client),
            );
            checks.result(
                "gemini enabled",
                doctor_clients::check_enabled(project, env),
            );
            None
        }
        Client::Copilot => {
            checks.result(
                "copilot hooks",
                doctor_clients::check_registered(project, env, client),
            );
            checks.result(
                "copilot enabled",
                doctor_clients::check_copilot_enabled(project, env),
            );
            None
        }
    }
}

/// Our handlers in each of `files` that exists; a file that is not valid JSON is an error naming it.
pub(super) fn registered_in(files: &[PathBuf]) -> Result<Vec<Found>, String> {
    let mut found = Vec::new();
    for file in files {
        let Ok(text) = fs::read_to_string(file) else {
            continue;
        };
        let value = settings::check_json(file, &text).map_err(|e| e.0)?;
        for (e, m, c) in settings::registered(&value) {
            found.push((e, m, c, file.clone()));
        }
    }
    Ok(found)
}

/// Whether every hook is registered (and each registered binary exists), and how many hooks are.
fn check_registered(project: &Path, env: &Env) -> (Result<String, String>, usize) {
    let looked = settings_files(project, env);
    let found = match registered_in(&looked) {
        Ok(f) => f,
        Err(e) => return (Err(e), 0),
    };
    let mut unregistered: Vec<&str> = Vec::new();
    let mut broken = Vec::new();
    let mut complete = 0;
    for hook in HOOKS {
        let mut whole = true;
        for reg in hook.registrations {
            let hit = found.iter().find(|(e, m, c, _)| {
                e == reg.event
                    && m.as_deref() == reg.matcher
                    && Path::new(c).file_name().is_some_and(|n| n == hook.name)
            });
            match hit {
                None => whole = false,
                Some((_, _, c, f)) if !runnable(c, env) => {
                    broken.push(format!(
                        "`{}` registers `{c}`, which is not there",
                        f.display()
                    ));
                }
                Some(_) => {}
            }
        }
        if whole {
            complete += 1;
        } else {
            unregistered.push(hook.name);
        }
    }
    let shown = |files: &[PathBuf]| {
        files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if unregistered.is_empty() && broken.is_empty() {
        let files: std::collections::BTreeSet<String> =
            found.iter().map(|f| f.3.display().to_string()).collect();
        return (
            Ok(format!(
                "{} registrations found in {}",
                found.len(),
                files.into_iter().collect::<Vec<_>>().join(", ")
            )),
            complete,
        );
    }
    broken.dedup();
    let mut problems = Vec::new();
    if unregistered.len() == HOOKS.len() {
        problems.push(format!(
            "no hook is registered (looked in {})",
            shown(&looked)
        ));
    } else if !unregistered.is_empty() {
        problems.push(format!(
            "not (fully) registered: {}",
            unregistered.join(", ")
        ));
    }
    problems.extend(broken);
    (
        Err(format!(
            "{}; run `portcullis install --project {}`",
            problems.join("; "),
            project.display()
        )),
        complete,
    )
}

/// Whether a registered command runs: an absolute or relative path that is an executable, or a bare name
/// found on PATH (the committed settings of a team name the hooks so).
fn runnable(command: &str, env: &Env) -> bool {
    if command.contains('/') {
        return is_executable(Path::new(command));
    }
    env.var("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|d| is_executable(&d.join(command))))
}
