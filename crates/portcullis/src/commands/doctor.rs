//! `portcullis doctor`: config (checked against every section of the suite), binaries, registration, the
//! state folder, and each hook's own notes.

use std::fs;
use std::path::{Path, PathBuf};

use portcullis_core::config::{Config, Schema};
use portcullis_core::state::StateDir;
use portcullis_core::{Client, Env};
use portcullis_suite::HOOKS;

use super::{CmdResult, Report, doctor_codex, is_executable, settings_files};
use crate::settings;

/// `portcullis doctor`: for Claude Code, or with `client` Codex, for Codex CLI (its hook files and their
/// trust, through `codex_bin` or `codex` on PATH).
pub fn doctor(
    project: &Path,
    bin_dir: &Path,
    env: &Env,
    client: Client,
    codex_bin: Option<&Path>,
) -> CmdResult {
    let mut lines = Vec::new();
    let mut ok = true;
    let mut check = |name: &str, result: Result<String, String>| match result {
        Ok(m) => lines.push(format!("ok    {name}: {m}")),
        Err(m) => {
            ok = false;
            lines.push(format!("FAIL  {name}: {m}"));
        }
    };

    let files: Vec<String> = Config::paths(env, project)
        .into_iter()
        .filter(|p| p.exists())
        .map(|p| p.display().to_string())
        .collect();
    check(
        "config",
        Config::load(env, project, Schema::suite(&portcullis_suite::sections()))
            .map(|_| {
                if files.is_empty() {
                    "no config files; defaults apply".into()
                } else {
                    format!("parsed {}", files.join(", "))
                }
            })
            .map_err(|e| e.to_string()),
    );

    let missing: Vec<&str> = portcullis_suite::binaries()
        .into_iter()
        .filter(|n| !is_executable(&bin_dir.join(n)))
        .collect();
    check(
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

    match client {
        Client::ClaudeCode => check("settings", check_registered(project, env)),
        Client::Codex => {
            check("codex hooks", doctor_codex::check_registered(project, env));
            check(
                "codex trust",
                doctor_codex::check_trust(project, env, codex_bin),
            );
        }
    }

    // Read-only: the state folder is looked at, never made or written (the hooks make it on first use).
    let state = StateDir::for_project(env, project);
    let folder = state.path();
    let judged = folder
        .ancestors()
        .find(|d| d.exists())
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let writable = fs::metadata(&judged).is_ok_and(|m| m.is_dir() && !m.permissions().readonly());
    check(
        "state",
        match (folder.is_dir(), writable) {
            (true, true) => Ok(format!("`{}` is writable", folder.display())),
            (false, true) => Ok(format!(
                "`{}` is made on first use (`{}` is writable)",
                folder.display(),
                judged.display()
            )),
            _ => Err(format!("`{}` is not writable", judged.display())),
        },
    );
    // The user's own domain table and the domains agents declare: rules that can never win.
    if let Ok(config) = Config::load(env, project, Schema::suite(&portcullis_suite::sections())) {
        for note in domain_notes(&config, project, env) {
            lines.push(format!("note  domains: {note}"));
        }
    }
    // Agent files the catalog skips, each named (the hooks log only a count and the first).
    let catalog = portcullis_domains::AgentCatalog::discover(project, env.claude_home().as_deref());
    for (path, why) in &catalog.skipped {
        lines.push(format!("note  agents: `{}` skipped: {why}", path.display()));
    }
    // Each hook's own lines (a program it needs, ...): notes, never failures.
    if let Ok(config) = Config::load(env, project, Schema::suite(&portcullis_suite::sections())) {
        for hook in HOOKS {
            if let Some(note) = (hook.doctor)(&config, env) {
                let status = if note.ok { "ok   " } else { "note " };
                lines.push(format!("{status} {}: {}", note.label, note.message));
            }
        }
    }
    let mut text = lines.join("\n");
    text.push('\n');
    Ok(Report { text, ok })
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

fn check_registered(project: &Path, env: &Env) -> Result<String, String> {
    let found = registered_in(&settings_files(project, env))?;
    let mut problems = Vec::new();
    for hook in HOOKS {
        for reg in hook.registrations {
            let hit = found.iter().find(|(e, m, c, _)| {
                e == reg.event
                    && m.as_deref() == reg.matcher
                    && Path::new(c).file_name().is_some_and(|n| n == hook.name)
            });
            match hit {
                None => problems.push(format!("{} is not registered for {}", hook.name, reg.event)),
                Some((_, _, c, f)) if !is_executable(Path::new(c)) => {
                    problems.push(format!(
                        "`{}` registers `{c}`, which does not exist",
                        f.display()
                    ));
                }
                Some(_) => {}
            }
        }
    }
    if problems.is_empty() {
        let files: std::collections::BTreeSet<String> =
            found.iter().map(|f| f.3.display().to_string()).collect();
        Ok(format!(
            "{} registrations found in {}",
            found.len(),
            if files.is_empty() {
                "no settings file".into()
            } else {
                files.into_iter().collect::<Vec<_>>().join(", ")
            }
        ))
    } else {
        problems.dedup();
        Err(format!(
            "{} (run `portcullis install --project {}`)",
            problems.join("; "),
            project.display()
        ))
    }
}
