//! What the gates will enforce on this project, told truthfully: a gate that would enforce nothing is a
//! warning that says why and what to do (issue 36: with no agents, with an `agent_pattern` that names no
//! agent, or with a test command that cannot compile, doctor said all was well), and which subagents
//! handoff-router asks for a status.

use std::path::Path;

use agent_first::AgentFirstConfig;
use feedback_loop::FeedbackLoopConfig;
use handoff_router::HandoffConfig;
use portcullis_core::Env;
use portcullis_core::Mode;
use portcullis_core::config::Config;
use portcullis_domains::{AgentCatalog, AgentSource, DomainMap, DomainsConfig, FallbackDomain};

/// Adds a line per gate to the report through `push(name, status, message)`.
pub(super) fn check(
    config: &Config,
    project: &Path,
    env: &Env,
    push: &mut dyn FnMut(&str, &'static str, String),
) {
    let home = env.claude_home();
    let catalog = AgentCatalog::discover(project, home.as_deref());
    let mut looked = vec![project.join(".claude/agents").display().to_string()];
    if let Some(h) = &home {
        looked.push(h.join("agents").display().to_string());
    }
    let looked = format!("looked in {} and enabled plugins", looked.join(", "));
    let domains = match (
        config.section::<DomainsConfig>(),
        config.section::<FallbackDomain>(),
    ) {
        (Ok(t), Ok(f)) => DomainMap::from_config(&t, &f).ok(),
        _ => None,
    };
    let names: Vec<&str> = domains.as_ref().map(DomainMap::names).unwrap_or_default();

    if let Ok(af) = config.section::<AgentFirstConfig>() {
        let developers: Vec<String> = names
            .iter()
            .filter_map(|d| {
                catalog
                    .find_for_domain(&af.agent_pattern.replace("{domain}", d))
                    .map(|a| format!("{d} → {}", a.name))
            })
            .collect();
        if developers.is_empty() {
            push(
                "agent-first",
                "warn",
                format!(
                    "enforces nothing: no domain has a developer agent named by `agent_first.agent_pattern` \
                     (`{}`, {} agents found; {looked}). Add `.claude/agents/<domain>-developer.md` for \
                     the domains you want delegated (`portcullis domains` lists them), or set the pattern to \
                     your agents' names",
                    af.agent_pattern,
                    catalog.agents.len()
                ),
            );
        } else {
            push(
                "agent-first",
                "ok",
                format!("delegates {}", developers.join(", ")),
            );
        }
    }

    if let Ok(fl) = config.section::<FeedbackLoopConfig>() {
        feedback_loop_check(&fl, &catalog, &names, &looked, push);
    }
    if let Ok(h) = config.section::<HandoffConfig>() {
        handoff_check(&h, &catalog, &looked, push);
    }
}

/// Which subagents handoff-router will ask for a status, and by which table it routes.
fn handoff_check(
    h: &HandoffConfig,
    catalog: &AgentCatalog,
    looked: &str,
    push: &mut dyn FnMut(&str, &'static str, String),
) {
    if h.mode == Mode::Off {
        return;
    }
    let table = match &h.routes {
        Some(rows) => format!("routes by your table ({} rows)", rows.len()),
        None => "routes by the default table".to_owned(),
    };
    match &h.required {
        Some(globs) if globs.is_empty() => push(
            "handoff-router",
            "warn",
            format!(
                "asks no subagent for a status (`handoff.required` is empty); it {table} only the reports \
                 that state one"
            ),
        ),
        Some(globs) => push(
            "handoff-router",
            "ok",
            format!(
                "asks a status of agent types matching {}; {table}",
                globs.join(", ")
            ),
        ),
        None => {
            let required: Vec<&str> = catalog
                .agents
                .iter()
                .filter(|a| a.source == AgentSource::Project)
                .map(|a| a.name.as_str())
                .collect();
            if required.is_empty() {
                push(
                    "handoff-router",
                    "warn",
                    format!(
                        "asks no subagent for a status: none is defined in the project's .claude/agents/ \
                         ({looked}); it {table} only the reports that state one. Define your agents there, \
                         or set `handoff.required` to their types"
                    ),
                );
            } else {
                push(
                    "handoff-router",
                    "ok",
                    format!("asks a status of {}; {table}", required.join(", ")),
                );
            }
        }
    }
}

/// What feedback-loop will require: review when a reviewer is found, testing when a tester or a test
/// runner's project file is, and a configured test command that compiles.
fn feedback_loop_check(
    fl: &FeedbackLoopConfig,
    catalog: &AgentCatalog,
    names: &[&str],
    looked: &str,
    push: &mut dyn FnMut(&str, &'static str, String),
) {
    for (i, t) in fl.test_commands.iter().enumerate() {
        if let Err(e) = regex::Regex::new(&t.pattern) {
            push(
                "feedback-loop",
                "fail",
                format!(
                    "`feedback_loop.test_commands[{i}].pattern` is no regular expression ({e}): every \
                     Stop that needs it fails; fix or remove it"
                ),
            );
        }
    }
    let mut reviewers = Vec::new();
    let mut testers = Vec::new();
    for d in names {
        if let Ok((reviewer, tester)) = feedback_loop::reviewer_and_tester(fl, catalog, d, names) {
            reviewers.extend(reviewer);
            testers.extend(tester);
        }
    }
    reviewers.sort();
    reviewers.dedup();
    testers.sort();
    testers.dedup();
    if reviewers.is_empty() {
        push(
            "feedback-loop",
            "warn",
            format!(
                "no review is required: no reviewer agent is found (`{}`, or one named or described as \
                 a reviewer, such as `code-reviewer`; {looked}); add one to have edits reviewed",
                fl.reviewer_pattern
            ),
        );
    } else {
        push(
            "feedback-loop",
            "ok",
            format!("reviews by {}", reviewers.join(", ")),
        );
    }
    if testers.is_empty() {
        push(
            "feedback-loop",
            "note",
            "no tester agent: testing is required where a test runner's project file is (`Cargo.toml`, \
             `go.mod`, `package.json`, `pyproject.toml`, `requirements.txt`, …), and a test run of the \
             edited files' language clears it"
                .to_owned(),
        );
    } else {
        push(
            "feedback-loop",
            "ok",
            format!("tests by {}", testers.join(", ")),
        );
    }
}
