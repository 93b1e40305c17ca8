//! `portcullis run-with-secrets [--env VAR=SOURCE]... [NAME]... -- COMMAND [ARGS...]`: COMMAND gets the
//! secrets in its environment only; its stdout and stderr come back with their values scrubbed, and its
//! exit code is passed through. Every source is resolved first: one that fails says which and why, and
//! nothing runs (exit 125, as `env` and container runners say "the wrapper failed"; 127 when the command
//! is not found, 126 when it cannot be run, as a shell says).

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use portcullis_core::Env;
use portcullis_core::config::{Config, Schema};
use secret_guard::SecretsConfig;
use secret_guard::run::{NotRun, Run, Source, check_env_name, execute};

/// The exit code when run-with-secrets itself fails (a source, a name); a command not found is 127, one
/// that cannot be run 126, as in a shell.
pub const WRAPPER_FAILED: u8 = 125;

/// What the command line asked for.
#[derive(Debug)]
pub struct RunRequest {
    /// `VAR=SOURCE` pairs.
    pub env: Vec<String>,
    /// Named secrets of the `secrets` config.
    pub names: Vec<String>,
    /// The command and its arguments.
    pub command: Vec<String>,
}

/// Resolves every secret of `request` (config from `project`), then runs the command.
#[must_use]
pub fn run_with_secrets(project: &Path, request: &RunRequest, env: &Env) -> ExitCode {
    let outcome = resolve(project, request, env)
        .map_err(|why| NotRun {
            code: WRAPPER_FAILED,
            why,
        })
        .and_then(|run| execute(&run));
    match outcome {
        Ok(code) => code,
        Err(NotRun { code, why }) => {
            let _ = writeln!(
                std::io::stderr().lock(),
                "portcullis run-with-secrets: {why}"
            );
            ExitCode::from(code)
        }
    }
}

fn resolve(project: &Path, request: &RunRequest, env: &Env) -> Result<Run, String> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| project.to_path_buf());
    let mut wanted: Vec<(String, Source)> = Vec::new();
    for pair in &request.env {
        let (var, source) = pair
            .split_once('=')
            .ok_or_else(|| format!("--env `{pair}`: expected VAR=SOURCE"))?;
        check_env_name(var).map_err(|e| format!("--env {pair}: {e}"))?;
        wanted.push((
            var.to_owned(),
            Source::parse(source).map_err(|e| format!("--env {var}: {e}"))?,
        ));
    }
    if !request.names.is_empty() {
        let sections = portcullis_suite::sections();
        let config =
            Config::load(env, project, Schema::suite(&sections)).map_err(|e| e.to_string())?;
        let named: SecretsConfig = config.section().map_err(|e| e.to_string())?;
        for name in &request.names {
            let s = named.0.get(name).ok_or_else(|| {
                let known: Vec<&str> = named.0.keys().map(String::as_str).collect();
                format!(
                    "no secret `{name}` in the `secrets` config (known: {})",
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                )
            })?;
            wanted.push((s.env.clone(), Source::parse(&s.source)?));
        }
    }
    if wanted.is_empty() {
        return Err("no secret given: --env VAR=SOURCE or a NAME from the `secrets` config".into());
    }
    let mut secrets = Vec::new();
    for (var, source) in wanted {
        let value = source
            .resolve(env, &cwd)
            .map_err(|e| format!("{var}: {e}"))?;
        secrets.push((var, value));
    }
    Ok(Run {
        secrets,
        command: request.command.clone(),
    })
}
