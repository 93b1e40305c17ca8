//! `portcullis doctor --client codex`: our handlers in Codex's hook files, and whether Codex will run them
//! (hook trust, project trust). Codex skips an untrusted handler without a word, so a hook that is
//! registered but untrusted is a failure here, with the command that fixes it.

use std::fs;
use std::path::Path;

use portcullis_core::{Client, Env};
use portcullis_suite::HOOKS;

use crate::{codex, settings};

/// Every hook registered for Codex, with the right matcher, in one of Codex's hook files; the commands
/// exist. `Ok` names the files.
pub(crate) fn check_registered(project: &Path, env: &Env) -> Result<String, String> {
    let expected = HOOKS.iter().flat_map(|hook| {
        hook.registrations_for(Client::Codex).filter_map(|reg| {
            let matcher = match reg.matcher {
                Some(m) => Some(settings::codex_registration_matcher(reg.event, m)?),
                None => None,
            };
            Some((hook.name, reg.event, matcher))
        })
    });
    super::doctor_clients::check_expected(
        &codex::hook_files(project, env),
        expected,
        project,
        Client::Codex,
    )
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
