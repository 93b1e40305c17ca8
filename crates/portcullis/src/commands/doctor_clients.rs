//! `portcullis doctor --client gemini|copilot`: our handlers in the client's hook files, and whether it
//! will run them. Gemini: a project's file only in a trusted folder, and none switched off by
//! `hooksConfig` (`enabled: false`, or its name in `disabled`). Copilot: no `disableAllHooks`, and a
//! repository's file only in a trusted folder. Both skip them without a word otherwise.

use std::path::Path;

use portcullis_core::{Client, Env};
use portcullis_suite::HOOKS;

use super::is_executable;
use crate::{copilot, gemini, settings};

/// Every hook that works in `client` (Gemini or Copilot) registered with the right matcher in one of its
/// hook files; the commands exist. `Ok` names the files.
pub(crate) fn check_registered(
    project: &Path,
    env: &Env,
    client: Client,
) -> Result<String, String> {
    let files = if client == Client::Gemini {
        gemini::settings_files(project, env)
    } else {
        copilot::hook_files(project, env)
    };
    let expected = HOOKS.iter().flat_map(|hook| {
        crate::registrations::registrations(hook, client)
            .into_iter()
            .map(|r| (hook.name, r.event, r.matcher))
    });
    check_expected(&files, expected, project, client)
}

/// The registrations a client's hook files must hold, `(hook, event, matcher)`, each found with a command
/// that exists; `Ok` names the files. Shared by every client whose files doctor reads in its own terms.
pub(crate) fn check_expected(
    files: &[std::path::PathBuf],
    expected: impl Iterator<Item = (&'static str, &'static str, Option<String>)>,
    project: &Path,
    client: Client,
) -> Result<String, String> {
    let found = super::doctor::registered_in(files)?;
    let mut problems = Vec::new();
    for (hook, event, matcher) in expected {
        let hit = found
            .iter()
            .find(|(e, m, c, _)| e == event && *m == matcher && settings::program_name(c) == hook);
        match hit {
            None => problems.push(format!("{hook} is not registered for {event}")),
            Some((_, _, c, f)) if !is_executable(Path::new(&settings::program(c))) => {
                problems.push(format!(
                    "`{}` registers `{c}`, which does not exist",
                    f.display()
                ));
            }
            Some(_) => {}
        }
    }
    problems.dedup();
    if !problems.is_empty() {
        return Err(format!(
            "{} (run `portcullis install --client {client} --user`, or `--project {}`)",
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

/// Whether Copilot will run our handlers: no `disableAllHooks` in a file that holds them, and a
/// repository's file only where repository hooks load.
pub(crate) fn check_copilot_enabled(project: &Path, env: &Env) -> Result<String, String> {
    let mut in_repository = false;
    for file in copilot::hook_files(project, env) {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let Some(value) = gemini::read_jsonc(&text) else {
            continue;
        };
        if copilot::all_disabled(&value) {
            return Err(format!(
                "`{}` sets `disableAllHooks: true`: Copilot runs no hook from it",
                file.display()
            ));
        }
        in_repository |= file.starts_with(project) && text.contains("--client copilot");
    }
    Ok(if !in_repository {
        "on (user settings need no trust)".to_owned()
    } else if copilot::repository_hooks_trusted(env) {
        "on (COPILOT_ALLOW_ALL=true loads the repository's hooks)".to_owned()
    } else {
        // Not a failure: the folder is trusted per run (`--trust-folder`), which doctor cannot see.
        format!(
            "the repository's hooks load only in a trusted folder: start Copilot in `{}` with `--trust-folder`, \
             or set COPILOT_ALLOW_ALL=true; without either it skips them without a word",
            project.display()
        )
    })
}

/// Whether Gemini will run our handlers: not switched off by `hooksConfig` in any settings file, and a
/// project's own file only in a trusted folder.
pub(crate) fn check_enabled(project: &Path, env: &Env) -> Result<String, String> {
    let home = gemini::gemini_home(env).ok_or("neither GEMINI_CLI_HOME nor HOME is set")?;
    for file in gemini::settings_files(project, env) {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let Some(value) = gemini::read_jsonc(&text) else {
            continue;
        };
        let (off, names) = gemini::disabled(&value);
        if off {
            return Err(format!(
                "`{}` sets `hooksConfig.enabled: false`: Gemini runs no hook at all",
                file.display()
            ));
        }
        if !names.is_empty() {
            return Err(format!(
                "`{}` switches off {} in `hooksConfig.disabled`",
                file.display(),
                names.join(", ")
            ));
        }
    }
    let project_file = project.join(".gemini/settings.json");
    let in_project =
        std::fs::read_to_string(&project_file).is_ok_and(|t| t.contains("--client gemini"));
    if in_project && !gemini::project_trusted(&home, project, env) {
        return Err(format!(
            "`{}` holds portcullis hooks, but Gemini runs a project's hooks only in a trusted folder: trust \
             `{}` when Gemini asks (or with `/permissions`), or install with `--user` instead",
            project_file.display(),
            project.display()
        ));
    }
    Ok(if in_project {
        format!("on, and `{}` is a trusted folder", project.display())
    } else {
        "on (user settings need no trust)".to_owned()
    })
}
