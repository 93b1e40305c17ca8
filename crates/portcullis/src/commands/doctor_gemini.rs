//! `portcullis doctor --client gemini`: our handlers in Gemini CLI's settings files, and whether Gemini will
//! run them: a project's file only in a trusted folder, and none of them switched off by `hooksConfig`
//! (`enabled: false`, or its name in `disabled`). Gemini skips them without a word in both cases.

use std::path::Path;

use portcullis_core::Env;
use portcullis_suite::HOOKS;

use super::is_executable;
use crate::{gemini, settings};

/// Every hook that works in Gemini registered with the right matcher in one of Gemini's settings files;
/// the commands exist. `Ok` names the files.
pub(crate) fn check_registered(project: &Path, env: &Env) -> Result<String, String> {
    let found = super::doctor::registered_in(&gemini::settings_files(project, env))?;
    let mut problems = Vec::new();
    for hook in HOOKS {
        for reg in gemini::registrations(hook) {
            let hit = found.iter().find(|(e, m, c, _)| {
                e == reg.event && *m == reg.matcher && settings::program_name(c) == hook.name
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
            "{} (run `portcullis install --client gemini --user`, or `--project {}`)",
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
