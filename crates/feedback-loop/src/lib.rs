//! feedback-loop: no turn ends with unreviewed, untested changes.
//!
//! - **Events**: `PostToolUse` (file-editing tools and Bash), `PostToolUseFailure` (Bash), `SubagentStop`,
//!   `Stop`.
//! - **Tracks**: an edit (main thread or subagent) marks its file's domain modified
//!   ([`portcullis_domains::DomainMap`], the same table agent-first uses) and sets its `review` and
//!   `testing` phases to pending.
//! - **Hears**: a reviewer or tester agent (`{domain}-reviewer`, `{domain}-tester`) finishing, through
//!   `SubagentStop`'s `last_assistant_message` ([`report`]); a Bash test command (`feedback_loop.test_commands`)
//!   passing (PostToolUse) or failing (PostToolUseFailure). A failed test resets every modified domain and
//!   counts a round (`ledger`).
//! - **Decides**: at the main thread's `Stop`, blocks while a modified domain lacks a required phase,
//!   naming per domain what is missing and which agent or command supplies it. A phase is required only
//!   when the project can supply it (`rules`). All passed → allow and start clean. Subagents still
//!   running → allow: the turn is not the end of the work. A reviewer or tester that finishes without a
//!   readable verdict is sent back once to give one.
//! - **Never traps**: past `feedback_loop.max_iterations` rounds it lets the turn end and tells the user
//!   what was left unverified; the chassis' stop chain ([`portcullis_core::stop_chain`]) does the same
//!   after `stop.max_consecutive_blocks` blocked stops in a row with no tool call between them; rounds with
//!   work between them (review, fix, test) are counted only by `max_iterations`.
//! - **`ON_ERROR`**: [`Failure::Open`]: a broken config or state file must not stop every turn.
//! - **State**: `sessions/<id>/feedback-loop.json` (`ledger::Ledger`), locked and atomic. A Bash call or
//!   a stop with nothing modified costs one failed file open. With the built-in domain table, a tracked
//!   edit also reads `agent-domains.json` (the agents that declare `owns:`, cached until an agent file
//!   changes).

mod cli;
mod config;
mod ledger;
/// The verdict grammar, shared with handoff-router (it lives in portcullis-domains).
pub use portcullis_domains::verdict as report;
mod rollout;
mod rules;
mod runners;
mod summary;

use std::ffi::OsString;
use std::process::ExitCode;

use portcullis_core::client::ClientSupport;
use portcullis_core::config::{Mode, SectionSpec};
use portcullis_core::event::{FILE_EDIT_TOOLS, ToolInput};
use portcullis_core::state::StateDir;
use portcullis_core::{
    Client, Ctx, Event, EventName, Failure, Hook, Registration, Result, Verdict,
};
use portcullis_domains::{
    AgentCatalog, DomainMap, DomainsConfig, FallbackDomain, Resolved, resolve,
};

pub use config::{FeedbackLoopConfig, TestCommand};
pub use rules::reviewer_and_tester;
pub use runners::{hints as test_hints, runner_of};

use crate::ledger::{Heard, Ledger, Outcome, Phase, Recorded};
use crate::rules::{DomainCheck, Rules};

/// The hook.
pub struct FeedbackLoop;

impl Hook for FeedbackLoop {
    const NAME: &'static str = "feedback-loop";
    const SUMMARY: &'static str = "Edits mark their domain modified; the turn may not end until every modified domain has passed review and testing.";
    const EVENTS: &'static [Registration] = &[
        Registration::matching("PostToolUse", "Write|Edit|MultiEdit|NotebookEdit|Bash"),
        Registration::matching("PostToolUseFailure", "Bash"),
        Registration::every("SubagentStop"),
        Registration::every("Stop"),
    ];
    const ON_ERROR: Failure = Failure::Open;
    const COPILOT: ClientSupport = ClientSupport::Partly(
        "the main thread's edits and test runs only: Copilot CLI 1.0.102 gives a subagent's tool calls the \
         subagent's id as their session, so its edits are not on the main thread's record",
    );
    const SECTIONS: &'static [SectionSpec] = &[
        SectionSpec::of::<FeedbackLoopConfig>(),
        SectionSpec::of::<DomainsConfig>(),
        SectionSpec::of::<FallbackDomain>(),
    ];

    fn decide(event: &Event, ctx: &Ctx) -> Result<Verdict> {
        match event.name() {
            EventName::PostToolUse | EventName::PostToolUseFailure => on_tool(event, ctx),
            EventName::SubagentStop => on_subagent_stop(event, ctx),
            EventName::Stop => on_stop(event, ctx),
            _ => Ok(Verdict::allow()),
        }
    }

    fn command(args: Vec<OsString>) -> ExitCode {
        cli::main_with(args)
    }
}

/// Whether feedback-loop tracks an edit of the project-relative `rel` in `domain` under `config`, and
/// why not when it does not (for `portcullis domains`).
pub fn tracks(
    config: &FeedbackLoopConfig,
    domain: &str,
    rel: &str,
) -> Result<std::result::Result<(), &'static str>> {
    if config.mode == Mode::Off {
        return Ok(Err("off (`feedback_loop.mode`)"));
    }
    if config.skip_domains.iter().any(|d| d == domain) {
        return Ok(Err("the domain is skipped (`feedback_loop.skip_domains`)"));
    }
    if !Rules::new(config)?.tracks(domain, rel) {
        return Ok(Err("the path is ignored (`feedback_loop.ignore`)"));
    }
    Ok(Ok(()))
}

fn session_state(event: &Event, ctx: &Ctx) -> Result<StateDir> {
    ctx.state().session(event.session()?)
}

fn mode(ctx: &Ctx) -> Result<Mode> {
    Ok(ctx.section::<FeedbackLoopConfig>()?.mode)
}

fn on_tool(event: &Event, ctx: &Ctx) -> Result<Verdict> {
    let Some(tool) = event.tool() else {
        return Ok(Verdict::allow());
    };
    if FILE_EDIT_TOOLS.contains(&tool) {
        // A failed edit changed nothing.
        if event.name() == EventName::PostToolUse {
            let paths = event.touched_paths()?;
            track_edits(
                event,
                ctx,
                paths.iter().map(|p| p.to_string_lossy().into_owned()),
            )?;
        }
        return Ok(Verdict::allow());
    }
    if tool == "Bash" {
        // What the command plainly wrote (`sed -i`, redirections, `cp` into a domain) is an edit like a
        // Write's, even when the command failed afterwards; then it may be a test run.
        if let ToolInput::Bash(bash) = event.tool_input()? {
            let written =
                portcullis_shell::write_targets(bash.command.as_deref().unwrap_or_default());
            if !written.is_empty() {
                track_edits(event, ctx, written.into_iter())?;
            }
        }
        return hear_test_run(event, ctx);
    }
    Ok(Verdict::allow())
}

fn track_edits(event: &Event, ctx: &Ctx, paths: impl Iterator<Item = String>) -> Result<()> {
    let paths: Vec<String> = paths.collect();
    if paths.is_empty() || mode(ctx)? == Mode::Off {
        return Ok(());
    }
    let rules = Rules::new(&*ctx.section::<FeedbackLoopConfig>()?)?;
    let table = ctx.section::<DomainsConfig>()?;
    let domains = DomainMap::from_config(&table, &*ctx.section::<FallbackDomain>()?)?;
    let mut catalog: Option<AgentCatalog> = None;
    let mut edits = Vec::new();
    for path in &paths {
        let Resolved::Inside(rel) = resolve(path, &ctx.cwd, &ctx.project) else {
            continue;
        };
        let Some(mut hit) = domains.classify_in(&ctx.project, &rel) else {
            continue;
        };
        // Domains agents declare (`owns:`) refine the built-in table, as in agent-first.
        if table.0.is_none() {
            let catalog = catalog.get_or_insert_with(|| {
                AgentCatalog::declaring_cached(
                    &ctx.project,
                    ctx.env.claude_home().as_deref(),
                    &ctx.state(),
                )
            });
            if let Some(declared) = catalog.declared_domain_of(&rel) {
                hit = declared;
            }
        }
        if rules.tracks(&hit.domain, &rel) {
            edits.push((hit.domain, rel));
        }
    }
    if edits.is_empty() {
        return Ok(());
    }
    let state = session_state(event, ctx)?;
    // Editing the same file again changes nothing on record: a plain read, no lock, no write.
    let (ledger, _) = state.load::<Ledger>()?;
    if edits.iter().all(|(d, f)| ledger.already_tracks(d, f)) {
        return Ok(());
    }
    state.update::<Ledger, _>(&ctx.deadline, |ledger| {
        for (domain, file) in &edits {
            ledger.track_edit(domain, file);
        }
    })
}

fn hear_test_run(event: &Event, ctx: &Ctx) -> Result<Verdict> {
    let ToolInput::Bash(bash) = event.tool_input()? else {
        return Ok(Verdict::allow());
    };
    // A background command's PostToolUse fires at launch, before any test has run.
    if bash.run_in_background == Some(true) {
        return Ok(Verdict::allow());
    }
    let Some(command) = bash.command.as_deref() else {
        return Ok(Verdict::allow());
    };
    let state = session_state(event, ctx)?;
    // In Codex a patch run through the shell is on record only once the rollout is read: a clean ledger
    // proves nothing there until then.
    let codex = event.client == Client::Codex;
    if (!codex && state.load::<Ledger>()?.0.is_clean()) || mode(ctx)? == Mode::Off {
        return Ok(Verdict::allow());
    }
    let rules = Rules::new(&*ctx.section::<FeedbackLoopConfig>()?)?;
    // The parsed command, not a pattern on its text: `echo 'x; cargo test'` runs no test.
    let Some(runs) = portcullis_shell::runs(command) else {
        return Ok(Verdict::allow());
    };
    let cwd = ctx
        .cwd
        .strip_prefix(&ctx.project)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Claude Code's `cwd` follows `cd`: a PostToolUse comes from where the command ended.
    let cd_persists = event.client == Client::ClaudeCode;
    let Some((coverage, decides)) = rules.test_run(&runs, &ctx.project, &cwd, cd_persists)? else {
        return Ok(Verdict::allow());
    };
    if codex {
        catch_up_with_rollout(event, event.transcript_path.as_deref(), ctx)?;
        if state.load::<Ledger>()?.0.is_clean() {
            return Ok(Verdict::allow());
        }
    }
    let exit_zero = event.name() == EventName::PostToolUse;
    // Codex reports no exit status (PROTOCOL-CODEX.md §1 item 6): there the summary always decides.
    let (passed, detail) = if decides && event.exit_status_known() {
        let detail = if exit_zero {
            "exit 0".into()
        } else {
            one_line(event.error.as_deref().unwrap_or("failed"), 200)
        };
        (exit_zero, detail)
    } else {
        let Some(passed) = summary::verdict(&event.tool_output_text()) else {
            let why = if event.exit_status_known() {
                "its exit status is not the tests' (a pipe, `||` or `;` after them)"
            } else {
                "the client reports no exit status"
            };
            ctx.note(format!(
                "`{}`: {why}, and the output shows no test summary: not recorded",
                one_line(command, 120)
            ));
            return Ok(Verdict::allow().with_context(format!(
                "[feedback-loop] `{}` was not recorded as a test run: {why}, and its output shows no \
                 test summary. Run the tests so that {}.",
                one_line(command, 120),
                if event.exit_status_known() {
                    "their exit status is the command's"
                } else {
                    "the runner prints its summary (not piped through `tail`, `grep` or `-q`)"
                }
            )));
        };
        (passed, "the runner's summary line".into())
    };
    let heard = Heard {
        by: format!("`{}`", one_line(command, 120)),
        at: ctx.now.to_rfc3339(),
        detail,
        ..Heard::default()
    };
    let tests = |d: &str, state: &ledger::DomainState| coverage.tests(d, state);
    // A run that tests none of the modified domains' files (another language, another folder) is no
    // result for them, and nothing is written.
    if !state
        .load::<Ledger>()?
        .0
        .domains
        .iter()
        .any(|(d, s)| tests(d, s).any())
    {
        return Ok(Verdict::allow());
    }
    let (recorded, round) = state.update::<Ledger, _>(&ctx.deadline, |ledger| {
        (
            ledger.record_test_run(&tests, passed, &heard),
            ledger.iteration,
        )
    })?;
    if recorded && !passed {
        return Ok(Verdict::allow().with_context(format!(
            "[feedback-loop] The test run failed, so every modified domain goes back to pending (round {} of {}): \
             fix the failure, then get review and testing again.",
            round + 1,
            rules.max_iterations
        )));
    }
    Ok(Verdict::allow())
}

fn on_subagent_stop(event: &Event, ctx: &Ctx) -> Result<Verdict> {
    if event.client == Client::Codex {
        // The subagent's patches run through the shell are in its own rollout, which the parent's Stop
        // does not read: they go on record now, before its report is weighed against them.
        catch_up_with_rollout(event, event.agent_transcript_path.as_deref(), ctx)?;
    }
    let Some(agent_type) = event.agent_type.as_deref() else {
        return Ok(Verdict::allow());
    };
    let state = session_state(event, ctx)?;
    let (ledger, _) = state.load::<Ledger>()?;
    if ledger.is_clean() || mode(ctx)? == Mode::Off {
        return Ok(Verdict::allow());
    }
    let rules = Rules::new(&*ctx.section::<FeedbackLoopConfig>()?)?;
    let table = ctx.section::<DomainsConfig>()?;
    let map = DomainMap::from_config(&table, &*ctx.section::<FallbackDomain>()?)?;
    let mut domains: Vec<&str> = map.names();
    domains.extend(ledger.domains.keys().map(String::as_str));
    // The description is read only when the name says nothing (the catalog is cached).
    let role = rules.role_of(agent_type, &domains, None).or_else(|| {
        let catalog = AgentCatalog::discover_cached(
            &ctx.project,
            ctx.env.claude_home().as_deref(),
            &ctx.state(),
        );
        let description = catalog
            .find_for_domain(agent_type)
            .and_then(|a| a.description.clone());
        rules.role_of(agent_type, &domains, description.as_deref())
    });
    let Some(role) = role else {
        return Ok(Verdict::allow());
    };
    // A reviewer or tester of every domain reports on each modified one.
    let targets: Vec<String> = if role.domain == "*" {
        ledger.domains.keys().cloned().collect()
    } else {
        vec![role.domain.clone()]
    };
    if !targets.iter().any(|d| ledger.domains.contains_key(d)) {
        ctx.note(format!(
            "`{agent_type}` finished, but the `{}` domain has no changes on record: nothing to record",
            role.domain
        ));
        return Ok(Verdict::allow());
    }
    let message = event.last_assistant_message.as_deref().unwrap_or_default();
    let found = report::parse(message);
    let (outcome, detail) = found
        .as_ref()
        .map_or((Outcome::NoVerdict, String::new()), |f| {
            let outcome = match f.outcome {
                report::Outcome::Pass => Outcome::Pass,
                report::Outcome::Fail => Outcome::Fail,
            };
            (outcome, f.excerpt.clone())
        });
    let heard = |domain: &str| Heard {
        domain: domain.to_owned(),
        by: format!("`{agent_type}`"),
        at: ctx.now.to_rfc3339(),
        detail: detail.clone(),
        phase: Some(role.phase),
    };
    let recorded = state.update::<Ledger, _>(&ctx.deadline, |ledger| {
        let mut recorded = Recorded::NotModified;
        for d in &targets {
            match ledger.record(role.phase, outcome, heard(d)) {
                // A failing test run resets every domain: once is enough.
                Recorded::ResetAll => return Recorded::ResetAll,
                Recorded::NotModified => {}
                other @ Recorded::Set => recorded = other,
            }
        }
        recorded
    })?;
    // Sent back once: a second answer without a verdict stays "no verdict" and the Stop reason says so.
    let sent_back_before = event.stop_hook_active.unwrap_or(false);
    if outcome == Outcome::NoVerdict
        && recorded == Recorded::Set
        && !sent_back_before
        && mode(ctx)? == Mode::Enforce
    {
        return Ok(Verdict::block(format!(
            "[feedback-loop] You are `{agent_type}`: your {phase} of the `{domain}` domain is recorded only from an \
             explicit verdict, and none could be read from your final message. Finish with your findings and \
             then {how}.",
            phase = role.phase,
            domain = role.domain,
            how = report::HOW_TO_REPORT
        )));
    }
    Ok(Verdict::allow())
}

fn on_stop(event: &Event, ctx: &Ctx) -> Result<Verdict> {
    if event.client == Client::Codex {
        catch_up_with_rollout(event, event.transcript_path.as_deref(), ctx)?;
    }
    let state = session_state(event, ctx)?;
    let (ledger, _) = state.load::<Ledger>()?;
    if ledger.is_clean() {
        return Ok(Verdict::allow());
    }
    let mode = mode(ctx)?;
    // Subagents still at work (reviewers, testers, developers) will end in a later turn's Stop.
    if mode == Mode::Off || event.has_running_background_tasks() {
        return Ok(Verdict::allow());
    }
    let rules = Rules::new(&*ctx.section::<FeedbackLoopConfig>()?)?;
    let catalog =
        AgentCatalog::discover_cached(&ctx.project, ctx.env.claude_home().as_deref(), &ctx.state());
    let checks = rules.check(&ledger, &catalog, &ctx.project)?;
    if checks.iter().all(|c| c.missing().is_empty()) {
        // Verified (or nothing the project can verify): the next task starts clean. Only the ledger that
        // was checked is cleared; an edit that landed meanwhile stays on record.
        state.update::<Ledger, _>(&ctx.deadline, |now| {
            if *now == ledger {
                now.clear();
            }
        })?;
        return Ok(Verdict::allow());
    }
    let reason = rules::missing_text(&ledger, &checks, rules.max_iterations);
    if ledger.iteration >= rules.max_iterations {
        return Ok(Verdict::allow().with_user_message(format!(
            "[feedback-loop] let the turn end after {} rounds of failed tests (feedback_loop.max_iterations). Left \
             unverified: {}. `feedback-loop reset` clears the record.",
            ledger.iteration,
            unverified(&checks)
        )));
    }
    if mode == Mode::Warn {
        return Ok(Verdict::allow().with_user_message(format!(
            "[feedback-loop] (warn mode) the turn ends with unverified changes: {}.",
            unverified(&checks)
        )));
    }
    Ok(Verdict::block(reason))
}

/// Codex: the files a thread's patches changed since the last look, read forward from the rollout at
/// `rollout` ([`rollout`]), go on record like any edit: a patch run through the shell gets no
/// `PostToolUse`, and this is where it is seen. Called before a test run is recorded, at `Stop` (the
/// thread's own rollout) and at `SubagentStop` (the subagent's), so an edit is on record before any test
/// run or report that came after it.
fn catch_up_with_rollout(event: &Event, rollout: Option<&str>, ctx: &Ctx) -> Result<()> {
    let Some(path) = rollout.filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let state = session_state(event, ctx)?;
    let (cursor, _) = state.load::<rollout::Cursor>()?;
    let from = cursor.offsets.get(path).copied().unwrap_or(0);
    let (paths, to) = match rollout::changes_since(std::path::Path::new(path), from) {
        Ok(read) => read,
        Err(e) => {
            ctx.note(format!(
                "the rollout `{path}` could not be read for the session's patches ({e})"
            ));
            return Ok(());
        }
    };
    if rollout::Cursor::moves(from, to, paths.len()) {
        // Each thread reads its own rollout (a subagent's events name the subagent's; its SubagentStop
        // comes after them all). Were two readers ever to race, the slower one would set the place back
        // and the next look would track the same files again, which changes nothing.
        state.update::<rollout::Cursor, _>(&ctx.deadline, |c| c.advance(path, to))?;
    }
    track_edits(event, ctx, paths.into_iter())
}

/// `backend: review, testing; frontend: testing`.
fn unverified(checks: &[DomainCheck]) -> String {
    checks
        .iter()
        .filter_map(|c| {
            let missing = c.missing();
            (!missing.is_empty()).then(|| {
                let phases: Vec<&str> = missing.iter().map(|p| Phase::as_str(*p)).collect();
                format!("{} ({})", c.domain, phases.join(", "))
            })
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The first line of `text`, at most `max` characters.
fn one_line(text: &str, max: usize) -> String {
    let line = text.lines().next().unwrap_or_default().trim();
    if line.chars().count() > max {
        let cut: String = line.chars().take(max).collect();
        format!("{cut}…")
    } else {
        line.to_owned()
    }
}

#[cfg(test)]
mod tests;
