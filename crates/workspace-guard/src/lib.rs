//! workspace-guard: writes stay inside the workspace, and two agents never write one file at once.
//!
//! One hook for both, because both ask one question of the same facts — may this agent write this path
//! now? — and a write tool call then costs one process, one parse of the command and one resolution of
//! each path, not two.
//!
//! - **Events**: `PreToolUse` (matcher `Write|Edit|MultiEdit|NotebookEdit|Bash|Read|Grep|Glob`) decides;
//!   `Stop`, `SubagentStop` and `SessionEnd` release claims; `DirectoryAdded` records a folder added
//!   with `/add-dir`.
//! - **Jail** (`workspace_guard.jail`, default `enforce`): every file a call writes (Bash: what
//!   `portcullis_shell` reads the command to write, `~` included) is resolved as the kernel would
//!   (`..`, symlinks). One that lands outside the project, the client's additional directories, the temp
//!   folder (`$TMPDIR`, else `/tmp`) and `workspace_guard.allow_write` is denied with the resolved target ([`jail`]). Devices
//!   (`/dev/null`) are not files and pass. `jail_reads` jails Read/Grep/Glob paths too. Agents may not
//!   write the claims themselves (`.claude/locks/`).
//! - **Claims** (`workspace_guard.claims`, default `enforce`): the first agent (the main thread, or a
//!   subagent by `agent_id`) to write a project file claims it; another live agent's write to it is
//!   denied with the holder and what to do ([`claims`]). A subagent takes over its own main thread's
//!   claim (it works on the main thread's behalf); the reverse is refused. Claims end at the holder's
//!   `SubagentStop`, the main thread's `Stop`, the session's `SessionEnd`, or when stale.
//! - **`ON_ERROR`**: [`Failure::Open`], with one stderr line: a guard that failed closed on a broken
//!   claims folder would stop every agent from writing anything.
//! - **Budget**: a call that writes nothing ends before config is read; a write inside the project reads
//!   config and makes (or refreshes) one claim file; only a write outside the project gathers the
//!   workspace's folders (settings files, the client's command line).

pub mod claims;
mod config;
pub mod jail;

use std::path::Path;
use std::time::{Duration, SystemTime};

use portcullis_core::config::{Mode, SectionSpec};
use portcullis_core::event::FILE_EDIT_TOOLS;
use portcullis_core::event::absolutize;
use portcullis_core::{Ctx, Event, EventName, Failure, Hook, Registration, Result, Verdict};
use portcullis_domains::{Resolved, resolve};
use serde_json::json;

pub use claims::{Acquired, Claim, Claims};
pub use config::WorkspaceGuardConfig;

/// The hook.
pub struct WorkspaceGuard;

impl Hook for WorkspaceGuard {
    const NAME: &'static str = "workspace-guard";
    const SUMMARY: &'static str = "Writes stay inside the workspace (project, added folders, temp), and two agents never write one file at once (file claims).";
    const EVENTS: &'static [Registration] = &[
        Registration::matching(
            "PreToolUse",
            "Write|Edit|MultiEdit|NotebookEdit|Bash|Read|Grep|Glob",
        ),
        Registration::every("Stop"),
        Registration::every("SubagentStop"),
        Registration::every("SessionEnd"),
        Registration::every("DirectoryAdded"),
    ];
    const ON_ERROR: Failure = Failure::Open;
    const SECTIONS: &'static [SectionSpec] = &[SectionSpec::of::<WorkspaceGuardConfig>()];
    const ENV_VARS: &'static [&'static str] = &["CLAUDE_PID", "TMPDIR"];

    fn decide(event: &Event, ctx: &Ctx) -> Result<Verdict> {
        match event.name() {
            EventName::PreToolUse => pre_tool_use(event, ctx),
            EventName::Stop | EventName::SubagentStop | EventName::SessionEnd => {
                release_for(event, ctx)
            }
            EventName::DirectoryAdded => {
                jail::record_added(event, ctx)?;
                Ok(Verdict::allow())
            }
            _ => Ok(Verdict::allow()),
        }
    }
}

/// The folder the suite keeps its own state in, and the claims: not files an agent claims.
const OWN_FOLDERS: &[&str] = &[".claude/portcullis/", claims::LOCKS_DIR];

fn pre_tool_use(event: &Event, ctx: &Ctx) -> Result<Verdict> {
    let tool = event.tool().unwrap_or_default();
    let reading = matches!(tool, "Read" | "Grep" | "Glob");
    let targets = if reading {
        read_target(event)
    } else if tool == "Bash" || FILE_EDIT_TOOLS.contains(&tool) {
        let input = event.tool_input()?;
        if let portcullis_core::ToolInput::Bash(b) = &input
            && let Some(refusal) = b.command.as_deref().and_then(own_command)
        {
            return Ok(rules_refusal(&refusal));
        }
        // Removing, moving away or resetting a file changes it as much as writing it does.
        portcullis_shell::files_changed(&input)
    } else {
        return Ok(Verdict::allow());
    };
    if targets.is_empty() {
        return Ok(Verdict::allow());
    }
    let resolved: Vec<(String, Resolved)> = targets
        .into_iter()
        .map(|t| {
            let r = resolve(&t, &ctx.cwd, &ctx.project);
            (t, r)
        })
        .collect();
    let outside = resolved
        .iter()
        .any(|(_, r)| matches!(r, Resolved::Outside(_)));
    if reading && !outside {
        return Ok(Verdict::allow());
    }
    if !reading
        && let Some(rel) = resolved.iter().find_map(|(_, r)| match r {
            Resolved::Inside(rel) => own_file(rel).then_some(rel.as_str()),
            Resolved::Outside(_) => None,
        })
    {
        return Ok(rules_refusal(&own_file_problem(rel)));
    }
    let rules = ctx.section::<WorkspaceGuardConfig>()?;
    let mut verdict = Verdict::allow();
    if rules.jail != Mode::Off && (!reading || rules.jail_reads) {
        verdict = verdict.merge(jail_verdict(event, ctx, &rules, &resolved, reading, tool));
        if reading || verdict.decision == portcullis_core::Decision::Block {
            return Ok(verdict);
        }
    }
    if rules.claims == Mode::Off || reading {
        return Ok(verdict);
    }
    // A folder (the whole tree for `git stash`) holds the files claimed below it; a file is claimed.
    let (folders, inside): (Vec<&str>, Vec<&str>) = resolved
        .iter()
        .filter_map(|(_, r)| match r {
            Resolved::Inside(rel) => Some(rel.as_str()),
            Resolved::Outside(_) => None,
        })
        .filter(|rel| !OWN_FOLDERS.iter().any(|f| rel.starts_with(f)))
        .partition(|rel| rel.is_empty() || ctx.project.join(rel).is_dir());
    if inside.is_empty() && folders.is_empty() {
        return Ok(verdict);
    }
    let held = held_below(event, ctx, &rules, &folders)?;
    let verdict = verdict.merge(claims_refusal(event, ctx, &rules, &held)?);
    if verdict.decision == portcullis_core::Decision::Block || inside.is_empty() {
        return Ok(verdict);
    }
    Ok(verdict.merge(claim_all(event, ctx, &rules, &inside)?))
}

/// The files that hold the rules portcullis enforces, or its own records: no agent writes them, so none
/// can widen its own jail, switch a gate off, reset a counter or free another agent's claim. Only the user
/// changes them (an agent is told to ask).
const OWN_FILES: &[&str] = &[
    ".claude/settings.json",
    ".claude/settings.local.json",
    ".claude/portcullis.json",
    ".codex/config.toml",
    ".codex/hooks.json",
];

/// Whether the project-relative `rel` is one of [`OWN_FILES`], the claims or the suite's state, or a
/// folder holding them (`rm -rf .claude`).
fn own_file(rel: &str) -> bool {
    let rel = rel.trim_end_matches('/');
    OWN_FILES.contains(&rel)
        || OWN_FOLDERS
            .iter()
            .any(|f| rel.starts_with(f) || f.trim_end_matches('/') == rel)
        || rel == ".claude"
        || rel == ".codex"
}

/// Why an agent may not write `rel`.
fn own_file_problem(rel: &str) -> String {
    if rel.starts_with(claims::LOCKS_DIR) || rel == ".claude" {
        format!(
            "`{rel}` holds the file claims, which portcullis keeps itself: a claim ends when its holder \
             stops, or when it goes stale. An agent may not free one; if the holder is gone, ask the user \
             to run `portcullis locks release PATH`."
        )
    } else if rel.starts_with(".claude/portcullis/") {
        format!(
            "`{rel}` is portcullis's own record of this session (gates, counters, claims); an agent may not \
             change it. If it is wrong, ask the user."
        )
    } else {
        format!(
            "`{rel}` holds the rules portcullis and the client enforce on agents (hooks, permissions, \
             folders, gates); an agent may not change the rules that bind it. If a rule is in the way, say \
             which and why, and ask the user to change it."
        )
    }
}

/// A shell command that changes portcullis's own rules or records (`portcullis locks release`, `install`,
/// `uninstall`): what it does, for the refusal.
fn own_command(command: &str) -> Option<String> {
    // Most commands never name portcullis: they are not parsed again here. Quotes and backslashes are
    // looked through (`portcu''llis`, `port\cullis` run portcullis all the same).
    let unquoted = command.chars().filter(|c| !matches!(c, '\'' | '"' | '\\'));
    if !unquoted.collect::<String>().contains("portcullis") {
        return None;
    }
    let runs = portcullis_shell::runs(command);
    let words: Vec<Vec<String>> = match runs {
        Some(runs) => runs
            .into_iter()
            .map(|r| r.words.into_iter().map(Option::unwrap_or_default).collect())
            .collect(),
        None => command
            .split(['\n', ';', '&', '|'])
            .map(|s| s.split_whitespace().map(str::to_owned).collect())
            .collect(),
    };
    words.iter().find_map(|w| {
        let at = w
            .iter()
            .position(|x| x.rsplit('/').next() == Some("portcullis"))?;
        let rest: Vec<&str> = w[at + 1..]
            .iter()
            .map(String::as_str)
            .filter(|x| !x.starts_with('-'))
            .collect();
        match rest.as_slice() {
            ["locks", "release", ..] => Some(
                "`portcullis locks release` frees file claims: only the user (or the holder's end) may. \
                 Work on other files meanwhile, or ask the user to free the claim if its holder is gone."
                    .to_owned(),
            ),
            ["install" | "uninstall", ..] => Some(format!(
                "`portcullis {}` changes which hooks run on agents; an agent may not change the rules that \
                 bind it. Ask the user to run it.",
                rest[0]
            )),
            _ => None,
        }
    })
}

/// The deny for a write of portcullis's own rules or records. Never switched off by a mode: a guard an
/// agent can turn off is no guard.
fn rules_refusal(problem: &str) -> Verdict {
    Verdict::deny(format!("[workspace-guard] {problem}"))
        .with_log_mark("deny", json!({"rule": "own-rules"}))
}

/// Live claims of other agents on files below `folders` (project-relative; `""` is the whole project).
fn held_below(
    event: &Event,
    ctx: &Ctx,
    rules: &WorkspaceGuardConfig,
    folders: &[&str],
) -> Result<Vec<Claim>> {
    if folders.is_empty() || !store(ctx, rules).dir().is_dir() {
        return Ok(Vec::new());
    }
    let session = event.session()?;
    let agent = event.agent_key();
    let now = SystemTime::from(ctx.now);
    let found = store(ctx, rules).list(now)?;
    Ok(found
        .into_iter()
        .filter(|f| f.stale.is_none())
        .filter_map(|f| f.claim)
        .filter(|c| !(c.session == session && c.agent == agent))
        .filter(|c| {
            folders.iter().any(|dir| {
                dir.is_empty()
                    || c.path
                        .starts_with(&format!("{}/", dir.trim_end_matches('/')))
            })
        })
        .collect())
}

/// The path a Read, Grep or Glob call reads (Grep and Glob default to the current folder).
fn read_target(event: &Event) -> Vec<String> {
    #[derive(serde::Deserialize, Default)]
    #[serde(default)]
    struct Paths {
        file_path: Option<String>,
        path: Option<String>,
    }
    let raw = event.tool_input.as_ref().map_or("{}", |r| r.get());
    let p: Paths = serde_json::from_str(raw).unwrap_or_default();
    p.file_path
        .or(p.path)
        .filter(|p| !p.is_empty())
        .into_iter()
        .collect()
}

fn jail_verdict(
    event: &Event,
    ctx: &Ctx,
    rules: &WorkspaceGuardConfig,
    resolved: &[(String, Resolved)],
    reading: bool,
    tool: &str,
) -> Verdict {
    let mut workspace = None;
    let mut verdict = Verdict::allow();
    for (raw, r) in resolved {
        let problem = match r {
            Resolved::Inside(_) => continue,
            // `/dev/stderr` is a link to the process's own descriptor: judged as written.
            Resolved::Outside(_) if jail::is_device(&absolutize(Path::new(raw), &ctx.cwd)) => {
                continue;
            }
            Resolved::Outside(real) => {
                let ws = workspace
                    .get_or_insert_with(|| jail::Workspace::gather(event, ctx, rules, reading));
                if ws.allows(real).is_some() {
                    continue;
                }
                let shown = if Path::new(raw) == real.as_path() {
                    format!("`{}`", real.display())
                } else {
                    format!("`{raw}`, which resolves to `{}`,", real.display())
                };
                let what = if reading { "reads" } else { "writes" };
                format!(
                    "{tool} {what} {shown} outside the workspace. Agents work inside the project (`{}`), \
                     the temp folder and the folders the client was given ({}). Use a path inside the \
                     project instead. If that folder should be open to agents, ask the user: they can add \
                     it to `permissions.additionalDirectories` in .claude/settings.json (or \
                     `workspace_guard.allow_write` in .claude/portcullis.json); agents may not change \
                     those files.",
                    ctx.project.display(),
                    ws.describe()
                )
            }
        };
        let target = match r {
            Resolved::Inside(rel) => rel.clone(),
            Resolved::Outside(real) => real.display().to_string(),
        };
        let mark = json!({"rule": "jail", "target": target});
        verdict = verdict.merge(match rules.jail {
            Mode::Enforce => {
                Verdict::deny(format!("[workspace-guard] {problem}")).with_log_mark("deny", mark)
            }
            _ => Verdict::allow()
                .with_context(format!("[workspace-guard] (warn mode) {problem}"))
                .with_log_mark("warn", mark),
        });
    }
    verdict
}

fn me(event: &Event, ctx: &Ctx, rel: &str) -> Result<Claim> {
    let client_pid: Option<u32> = ctx.env.var("CLAUDE_PID").and_then(|p| p.parse().ok());
    let session = event.session()?;
    // Not a path here, but `portcullis locks` prints it and the session's state folder is named by it.
    portcullis_core::state::check_id(session)?;
    Ok(Claim {
        path: rel.to_owned(),
        session: session.to_owned(),
        agent: event.agent_key().to_owned(),
        agent_type: event.agent_type.clone(),
        since: ctx.now,
        client_pid,
        client_start: client_pid.and_then(claims::process_start),
    })
}

fn store(ctx: &Ctx, rules: &WorkspaceGuardConfig) -> Claims {
    let stale = Duration::from_secs(rules.stale_minutes.saturating_mul(60));
    match ctx.env.var(portcullis_core::env_vars::PORTCULLIS_LOCKS_DIR) {
        Some(dir) => Claims::at(&ctx.project, dir.into(), stale),
        None => Claims::new(&ctx.project, stale),
    }
}

fn claim_all(
    event: &Event,
    ctx: &Ctx,
    rules: &WorkspaceGuardConfig,
    inside: &[&str],
) -> Result<Verdict> {
    let store = store(ctx, rules);
    let now = SystemTime::from(ctx.now);
    let mut made = Vec::new();
    let mut refused = Vec::new();
    for rel in inside {
        let me = me(event, ctx, rel)?;
        match store.acquire(&me, now, &ctx.deadline)? {
            Acquired::New => made.push(me),
            Acquired::Own => {}
            Acquired::TakenOver { previous, why } => {
                ctx.note(format!(
                    "claim on `{rel}` taken over from {}: {why}",
                    previous.holder_text(&me.session)
                ));
                made.push(me);
            }
            Acquired::Refused(holder) => refused.push(*holder),
        }
    }
    if refused.is_empty() {
        return Ok(Verdict::allow());
    }
    // The call will not run: the claims it just made would only block others.
    if rules.claims == Mode::Enforce && !made.is_empty() {
        let _ = store.release(|c| made.iter().any(|m| m == c), false, now, &ctx.deadline);
    }
    claims_refusal(event, ctx, rules, &refused)
}

/// The answer to a call that would change files other agents hold (nothing when `refused` is empty).
fn claims_refusal(
    event: &Event,
    ctx: &Ctx,
    rules: &WorkspaceGuardConfig,
    refused: &[Claim],
) -> Result<Verdict> {
    if refused.is_empty() {
        return Ok(Verdict::allow());
    }
    let session = event.session()?;
    let lines: Vec<String> = refused
        .iter()
        .map(|h| {
            let minutes = (ctx.now - h.since).num_minutes().max(0);
            format!(
                "`{}` is being written by {}, which claimed it at {} ({minutes} min ago)",
                h.path,
                h.holder_text(session),
                h.since.format("%H:%M:%S UTC")
            )
        })
        .collect();
    let first = &refused[0].path;
    let problem = format!(
        "{}. Two agents changing one file lose each other's work (this call would write, remove, move or \
         reset it). Wait until it is done (its claim ends when it stops), work on other files meanwhile, \
         or ask the orchestrator to sequence the work. Only the holder's end, or the user (`portcullis \
         locks release {first}`, if the holder is gone), frees a claim.",
        lines.join("; ")
    );
    let mark = json!({
        "rule": "claim",
        "target": first,
        "holder": {"session": refused[0].session, "agent": refused[0].agent},
    });
    Ok(match rules.claims {
        Mode::Enforce => {
            Verdict::deny(format!("[workspace-guard] {problem}")).with_log_mark("deny", mark)
        }
        _ => Verdict::allow()
            .with_context(format!("[workspace-guard] (warn mode) {problem}"))
            .with_log_mark("warn", mark),
    })
}

/// Releases the claims of whoever is ending (a subagent, the main thread's turn, the session): routine,
/// so silent. Stale claims of others are swept on the way, which is not routine: that is logged.
fn release_for(event: &Event, ctx: &Ctx) -> Result<Verdict> {
    let rules = ctx.section::<WorkspaceGuardConfig>()?;
    if !store(ctx, &rules).dir().is_dir() {
        return Ok(Verdict::allow());
    }
    let session = event.session()?.to_owned();
    let agent = event.agent_key().to_owned();
    let whole_session = event.name() == EventName::SessionEnd;
    let store = store(ctx, &rules);
    let now = SystemTime::from(ctx.now);
    store.release(
        |c| c.session == session && (whole_session || c.agent == agent),
        false,
        now,
        &ctx.deadline,
    )?;
    let stale = store.release(|_| false, true, now, &ctx.deadline)?;
    if stale.is_empty() {
        return Ok(Verdict::allow());
    }
    let paths: Vec<&str> = stale.iter().map(|c| c.path.as_str()).collect();
    Ok(Verdict::allow().with_log_mark("stale-claims-released", json!({"claims": paths})))
}

#[cfg(test)]
mod tests;
