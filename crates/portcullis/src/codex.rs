//! Codex CLI's side of install and doctor: where its files are, and hook trust (PROTOCOL-CODEX.md §2).
//!
//! Codex runs a hook handler only when `$CODEX_HOME/config.toml` records its hash as trusted
//! (`[hooks.state."<file>:<event>:<group>:<handler>"] trusted_hash = "sha256:…"`); an untrusted handler is
//! skipped without a word. The hash is Codex's to compute, so portcullis asks Codex: `codex app-server`
//! answers the JSON-RPC method `hooks/list` with every handler's key, `currentHash` and `trustStatus`.
//! Install records the hashes of our handlers only; foreign handlers keep whatever trust the user gave.
//!
//! A project's `.codex/hooks.json` is read only in a trusted project. Trusting a project grants far more
//! than our hooks (its whole `.codex/` config), so install does not do it: it lists the project's handlers
//! as Codex would once trusted, records trust for ours, and says how to trust the project.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use portcullis_core::Env;
use serde_json::{Value, json};

use crate::settings;

/// How long `codex app-server` may take to answer `hooks/list`.
const APP_SERVER_TIMEOUT: Duration = Duration::from_secs(30);

/// `$CODEX_HOME`, else `~/.codex`.
#[must_use]
pub fn codex_home(env: &Env) -> Option<PathBuf> {
    env.var("CODEX_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            env.var("HOME")
                .filter(|h| !h.is_empty())
                .map(|h| Path::new(&h).join(".codex"))
        })
}

/// Codex's hook files for `project`, most specific first: the project's `.codex/hooks.json`, then
/// `$CODEX_HOME/hooks.json`.
#[must_use]
pub fn hook_files(project: &Path, env: &Env) -> Vec<PathBuf> {
    let mut files = vec![project.join(".codex/hooks.json")];
    files.extend(codex_home(env).map(|h| h.join("hooks.json")));
    files
}

/// The `codex` program: `explicit`, else `codex` on `PATH`.
#[must_use]
pub fn find_codex(explicit: Option<&Path>, env: &Env) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return Some(p.to_path_buf());
    }
    let path = env.var("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("codex"))
        .find(|p| crate::commands::is_executable(p))
}

/// One handler as `hooks/list` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedHook {
    /// `<source file>:<event>:<group>:<handler>`.
    pub key: String,
    /// The handler's shell command.
    pub command: String,
    /// `sha256:…`.
    pub hash: String,
    /// `trusted`, `untrusted`, `modified`, …
    pub trust: String,
    /// The file it comes from.
    pub source_path: PathBuf,
}

impl ListedHook {
    /// True for one of our handlers.
    #[must_use]
    pub fn is_ours(&self) -> bool {
        settings::is_ours(&self.command)
    }

    /// True when Codex will run it.
    #[must_use]
    pub fn is_trusted(&self) -> bool {
        self.trust == "trusted"
    }
}

/// Asks `codex app-server` for the handlers Codex sees in `project` with `codex_home`; with
/// `as_trusted_project`, as if the project were trusted (so its `.codex/hooks.json` is listed).
pub fn list_hooks(
    codex: &Path,
    codex_home: &Path,
    project: &Path,
    as_trusted_project: bool,
) -> Result<Vec<ListedHook>, String> {
    // Codex refuses to start without its home folder.
    std::fs::create_dir_all(codex_home)
        .map_err(|e| format!("creating `{}`: {e}", codex_home.display()))?;
    let mut cmd = Command::new(codex);
    cmd.arg("app-server");
    if as_trusted_project {
        let quoted = serde_json::to_string(&project.display().to_string()).unwrap_or_default();
        cmd.arg("-c")
            .arg(format!("projects={{{quoted}={{trust_level=\"trusted\"}}}}"));
    }
    let mut child = cmd
        .env("CODEX_HOME", codex_home)
        .current_dir(project)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting `{} app-server`: {e}", codex.display()))?;
    let requests = [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
               "params": {"clientInfo": {"name": "portcullis", "version": env!("CARGO_PKG_VERSION")}}}),
        json!({"jsonrpc": "2.0", "method": "initialized"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "hooks/list",
               "params": {"cwds": [project.display().to_string()]}}),
    ];
    let mut stdin = child.stdin.take().ok_or("no stdin for codex app-server")?;
    for r in &requests {
        writeln!(stdin, "{r}").map_err(|e| format!("talking to codex app-server: {e}"))?;
    }
    let stdout = child
        .stdout
        .take()
        .ok_or("no stdout for codex app-server")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let Ok(v) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if v["id"] == 2 {
                let _ = tx.send(v);
                return;
            }
        }
    });
    let answer = rx.recv_timeout(APP_SERVER_TIMEOUT);
    drop(stdin);
    let _ = child.kill();
    let _ = child.wait();
    let answer = answer.map_err(|e| match e {
        mpsc::RecvTimeoutError::Timeout => format!(
            "`{} app-server` did not answer hooks/list within {} s",
            codex.display(),
            APP_SERVER_TIMEOUT.as_secs()
        ),
        mpsc::RecvTimeoutError::Disconnected => format!(
            "`{} app-server` ended without answering hooks/list",
            codex.display()
        ),
    })?;
    if let Some(err) = answer.get("error") {
        return Err(format!("codex app-server refused hooks/list: {err}"));
    }
    Ok(parse_hooks_list(&answer["result"]))
}

/// The handlers of a `hooks/list` result.
fn parse_hooks_list(result: &Value) -> Vec<ListedHook> {
    let text = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().to_owned();
    result["data"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|cwd| cwd["hooks"].as_array().into_iter().flatten())
        .map(|h| ListedHook {
            key: text(h, "key"),
            command: text(h, "command"),
            hash: text(h, "currentHash"),
            trust: text(h, "trustStatus"),
            source_path: PathBuf::from(text(h, "sourcePath")),
        })
        .filter(|h| !h.key.is_empty() && !h.hash.is_empty())
        .collect()
}

/// `config.toml` with `trusted_hash` recorded for each `(key, hash)`, everything else kept as written.
pub fn with_trust(config_text: &str, entries: &[(&str, &str)]) -> Result<String, String> {
    let mut doc: toml_edit::DocumentMut = config_text
        .parse()
        .map_err(|e| format!("config.toml does not parse ({e}); left untouched"))?;
    let hooks = doc
        .entry("hooks")
        .or_insert_with(implicit_table)
        .as_table_mut()
        .ok_or("config.toml: `hooks` is not a table; left untouched")?;
    let state = hooks
        .entry("state")
        .or_insert_with(implicit_table)
        .as_table_mut()
        .ok_or("config.toml: `hooks.state` is not a table; left untouched")?;
    for (key, hash) in entries {
        let table = state
            .entry(key)
            .or_insert_with(|| toml_edit::Item::Table(toml_edit::Table::new()))
            .as_table_mut()
            .ok_or_else(|| format!("config.toml: `hooks.state.\"{key}\"` is not a table"))?;
        table["trusted_hash"] = toml_edit::value(*hash);
    }
    Ok(doc.to_string())
}

fn implicit_table() -> toml_edit::Item {
    let mut t = toml_edit::Table::new();
    t.set_implicit(true);
    toml_edit::Item::Table(t)
}

/// What trusting our handlers did.
#[derive(Debug, Default)]
pub struct Trusted {
    /// Handlers newly trusted.
    pub newly: usize,
    /// Ours found in total.
    pub ours: usize,
}

/// Records trust for our handlers in `hooks_file` (as `codex app-server` lists them) in
/// `$CODEX_HOME/config.toml`.
pub fn trust_ours(
    codex: &Path,
    codex_home: &Path,
    project: &Path,
    hooks_file: &Path,
) -> Result<Trusted, String> {
    let project_scope = !hooks_file.starts_with(codex_home);
    let listed = list_hooks(codex, codex_home, project, project_scope)?;
    let hooks_file = hooks_file
        .canonicalize()
        .unwrap_or_else(|_| hooks_file.to_path_buf());
    let ours: Vec<&ListedHook> = listed
        .iter()
        .filter(|h| h.is_ours())
        .filter(|h| {
            h.source_path
                .canonicalize()
                .unwrap_or_else(|_| h.source_path.clone())
                == hooks_file
        })
        .collect();
    let untrusted: Vec<(&str, &str)> = ours
        .iter()
        .filter(|h| !h.is_trusted())
        .map(|h| (h.key.as_str(), h.hash.as_str()))
        .collect();
    if !untrusted.is_empty() {
        let path = codex_home.join("config.toml");
        let before = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(format!("reading `{}`: {e}", path.display())),
        };
        let after = with_trust(&before, &untrusted)?;
        std::fs::create_dir_all(codex_home)
            .map_err(|e| format!("creating `{}`: {e}", codex_home.display()))?;
        portcullis_core::state::write_atomic(&path, after.as_bytes())
            .map_err(|e| format!("writing `{}`: {e}", path.display()))?;
    }
    Ok(Trusted {
        newly: untrusted.len(),
        ours: ours.len(),
    })
}

/// Whether `config.toml` in `codex_home` marks `project` trusted.
#[must_use]
pub fn project_trusted(codex_home: &Path, project: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(codex_home.join("config.toml")) else {
        return false;
    };
    let Ok(doc) = text.parse::<toml_edit::DocumentMut>() else {
        return false;
    };
    let key = project.display().to_string();
    doc.get("projects")
        .and_then(|p| p.get(&key))
        .and_then(|p| p.get("trust_level"))
        .and_then(|t| t.as_str())
        == Some("trusted")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_is_recorded_beside_everything_else() {
        let before = "# mine\nmodel = \"gpt-5.5\"\n\n[hooks.state.\"/h/hooks.json:stop:0:0\"]\ntrusted_hash = \"sha256:old\"\n";
        let after = with_trust(
            before,
            &[
                ("/h/hooks.json:stop:0:0", "sha256:new"),
                ("/h/hooks.json:pre_tool_use:1:0", "sha256:b"),
            ],
        )
        .unwrap();
        assert!(
            after.starts_with("# mine\nmodel = \"gpt-5.5\"\n"),
            "{after}"
        );
        let doc: toml_edit::DocumentMut = after.parse().unwrap();
        let state = &doc["hooks"]["state"];
        assert_eq!(
            state["/h/hooks.json:stop:0:0"]["trusted_hash"].as_str(),
            Some("sha256:new")
        );
        assert_eq!(
            state["/h/hooks.json:pre_tool_use:1:0"]["trusted_hash"].as_str(),
            Some("sha256:b")
        );
        assert!(with_trust("hooks = 3\n", &[("k", "h")]).is_err());
        assert!(with_trust("not [toml", &[("k", "h")]).is_err());
    }

    #[test]
    fn a_hooks_list_answer_is_read() {
        let result = json!({"data": [{"cwd": "/p", "hooks": [
            {"key": "/h/hooks.json:stop:0:0", "command": "/b/loop-detect --client codex", "currentHash": "sha256:a", "trustStatus": "untrusted", "sourcePath": "/h/hooks.json"},
            {"key": "/h/hooks.json:stop:0:1", "command": "/bin/true", "currentHash": "sha256:b", "trustStatus": "trusted", "sourcePath": "/h/hooks.json"},
            {"key": "", "currentHash": "sha256:c"}
        ]}]});
        let hooks = parse_hooks_list(&result);
        assert_eq!(hooks.len(), 2);
        assert!(hooks[0].is_ours() && !hooks[0].is_trusted());
        assert!(!hooks[1].is_ours() && hooks[1].is_trusted());
    }
}
