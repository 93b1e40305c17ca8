//! `portcullis doctor --client codex`: our handlers in Codex's hook files, and whether Codex will run them
//! (hook trust, project trust). Codex skips an untrusted handler without a word, so a hook that is
//! registered but untrusted is a failure here, with the command that fixes it.

use std::fs;
use std::path::Path;

use portcullis_core::{Client, Env};
use portcullis_suite::HOOKS;

use super::is_executable;
use crate::{codex, settings};

/// Every hook registered for Codex, with the right matcher, in one of Codex's hook files; the commands
/// exist. `Ok` names the files.
pub(crate) fn check_registered(project: &Path, env: &Env) -> Result<String, String> {
    let found = super::doctor::registered_in(&codex::hook_files(project, env))?;
    let mut problems = Vec::new();
    for hook in HOOKS {
        for reg in hook.registrations_for(Client::Codex) {
            let matcher = match reg.matcher {
                Some(m) => match settings::codex_registration_matcher(reg.event, m) {
                    Some(m) => Some(m),
                    None => continue,
                },
                None => None,
            };
            let hit = found.iter().find(|(e, m, c, _)| {
                e == reg.event && *m == matcher && settings::program_name(c) == hook.name
            });
            match hit {
                None => problems.push(format!("{} is not registered for {}", hook.name, reg.event)),
                Some((_, _, c, f)) if !is_executable(Path::new(&settings::program(c))) => {
                    problems.push(format!(
                        "`{}` registers `{c}`, which does not exist",
                        f.display()
                    ));
                }
                Some(_) => {}
            }
        }
    }
    problems.dedup();
    if !problems.is_empty() {
        return Err(format!(
            "{} (run `portcullis install --client codex --user`, or `--project {}`)",
            problems.join("; "),
            project.display()
        ));
    }
    let files: std::collections::BTreeSet<String> =
        found.iter().map(|f| f.3.display().to_string()).collect();
    Ok(format!(
        "{} registrations found in {}",
        found.len(),
        files.into_iter().collect::<Vec<_>>().join(", ")
    ))
}

/// Whether Codex will run our handlers: each trusted, and a project's own file in a trusted project.
pub(crate) fn check_trust(
    project: &Path,
    env: &Env,
    codex_bin: Option<&Path>,
) -> Result<String, String> {
    let home = codex::codex_home(env).ok_or("neither CODEX_HOME nor HOME is set")?;
    let project_file = project.join(".codex/hooks.json");
    let in_project = fs::read_to_string(&project_file).is_ok_and(|t| t.contains("--client codex"));
    if in_project && !codex::project_trusted(&home, project) {
        return Err(format!(
            "`{}` holds portcullis hooks, but Codex reads it only in a trusted project: trust `{}` when Codex \
             asks, or run `codex exec --trust` in it once",
            project_file.display(),
            project.display()
        ));
    }
    let Some(binary) = codex::find_codex(codex_bin, env) else {
        return Err(
            "`codex` is not on PATH, so hook trust cannot be checked (pass --codex-bin)".into(),
        );
    };
    let listed = codex::list_hooks(&binary, &home, project, false)?;
    let ours: Vec<&codex::ListedHook> = listed.iter().filter(|h| h.is_ours()).collect();
    let untrusted: Vec<&str> = ours
        .iter()
        .filter(|h| !h.is_trusted())
        .map(|h| h.key.as_str())
        .collect();
    if ours.is_empty() {
        return Err("Codex lists none of our handlers".into());
    }
    if !untrusted.is_empty() {
        return Err(format!(
            "Codex skips {} of our {} handlers as untrusted ({}…): run `portcullis install --client codex {}` \
             again to record their trust",
            untrusted.len(),
            ours.len(),
            untrusted[0],
            if in_project {
                format!("--project {}", project.display())
            } else {
                "--user".into()
            }
        ));
    }
    Ok(format!("all {} of our handlers are trusted", ours.len()))
}
