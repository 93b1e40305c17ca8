//! Choosing a route for a stated status, and the words the main thread gets for it.

use std::path::Path;

use globset::Glob;
use portcullis_domains::{AgentCatalog, DomainMap};
use portcullis_domains::{AgentFirstConfig, developer_for};
use serde_json::json;

use crate::config::{Route, Target};
use crate::status::{Stated, Status};

/// Where a handoff goes, and why there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    /// The target, with `developer` and `architect` resolved to an agent.
    pub target: Target,
    /// The table's row (0-based), or `None` when the loop rule sent it to the user.
    pub row: Option<usize>,
    /// Why this agent, when the table named a role (`developer of the api domain, which … is in`).
    pub because: String,
}

/// What routing needs to know of the project.
pub struct Project<'a> {
    /// The project root.
    pub root: &'a Path,
    /// The domain table.
    pub domains: &'a DomainMap,
    /// agent-first's rules (which agent is a domain's developer).
    pub agent_first: &'a AgentFirstConfig,
    /// The agents defined.
    pub catalog: &'a AgentCatalog,
}

/// The first route of `table` that fits; `developer` and `architect` rows that resolve to no agent are
/// passed over. `None`: no row fits (the handoff is recorded, nothing is said).
#[must_use]
pub fn choose(
    stated: &Stated,
    agent_type: &str,
    table: &[Route],
    project: &Project<'_>,
) -> Option<Chosen> {
    for (row, route) in table.iter().enumerate() {
        if !route.status.is_empty() && !route.status.contains(&stated.status) {
            continue;
        }
        if !route.agents.is_empty()
            && !route
                .agents
                .iter()
                .any(|g| Glob::new(g).is_ok_and(|g| g.compile_matcher().is_match(agent_type)))
        {
            continue;
        }
        if let Some(re) = route.reason_regex() {
            let text = format!("{} {}", stated.reason, stated.needs.join(" ")).to_lowercase();
            if !re.is_ok_and(|re| re.is_match(&text)) {
                continue;
            }
        }
        let Ok(target) = Target::parse(&route.to) else {
            continue;
        };
        let (target, because) = match target {
            Target::Developer => match developer_named(stated, agent_type, project) {
                Some(found) => found,
                None => continue,
            },
            Target::Architect => match project
                .catalog
                .agents
                .iter()
                .find(|a| a.name.to_ascii_lowercase().contains("architect"))
            {
                Some(a) => (
                    Target::Agent(a.name.clone()),
                    "the project's architect".to_owned(),
                ),
                None => continue,
            },
            other => (other, String::new()),
        };
        return Some(Chosen {
            target,
            row: Some(row),
            because,
        });
    }
    None
}

/// The developer of the domain of a path the reason names, when that is not the blocked agent itself.
fn developer_named(
    stated: &Stated,
    agent_type: &str,
    project: &Project<'_>,
) -> Option<(Target, String)> {
    let text = format!("{} {}", stated.reason, stated.needs.join(" "));
    for word in text.split(|c: char| c.is_whitespace() || "`'\"(),;".contains(c)) {
        let word = word.trim_end_matches(['.', ':']);
        let word = word.strip_prefix("./").unwrap_or(word);
        let looks_like_path = word.contains('/')
            || word
                .rsplit_once('.')
                .is_some_and(|(stem, ext)| !stem.is_empty() && (1..=5).contains(&ext.len()));
        if !looks_like_path || word.starts_with("http") {
            continue;
        }
        let rel = word
            .strip_prefix(&format!("{}/", project.root.display()))
            .unwrap_or(word);
        let Some(hit) = project.domains.classify_in(project.root, rel) else {
            continue;
        };
        let Some(agent) = developer_for(project.agent_first, &hit, project.catalog) else {
            continue;
        };
        if agent.name == agent_type {
            continue;
        }
        return Some((
            Target::Agent(agent.name.clone()),
            format!(
                "the developer of the {} domain, which `{rel}` is in",
                hit.domain
            ),
        ));
    }
    None
}

/// The report without its status line or JSON handoff, cut to about `max` bytes in the middle: what the
/// blocked agent did, for the agent it is routed to.
#[must_use]
pub fn excerpt(report: &str, max: usize) -> String {
    let body: String = report
        .lines()
        .filter(|l| {
            !l.trim_start_matches(['>', '*', '_', '`', '#', '-', ' '])
                .to_ascii_lowercase()
                .starts_with("status")
        })
        .collect::<Vec<_>>()
        .join("\n");
    let body = body.trim();
    if body.len() <= max {
        return body.to_owned();
    }
    let mut head = max / 2;
    while !body.is_char_boundary(head) {
        head -= 1;
    }
    let mut tail = body.len() - max / 2;
    while !body.is_char_boundary(tail) {
        tail += 1;
    }
    format!("{} […] {}", &body[..head], &body[tail..])
}

/// What the main thread is told of a routed handoff, with the `Agent` call to make when it goes to an
/// agent.
#[must_use]
pub fn advice(
    agent_type: &str,
    stated: &Stated,
    chosen: &Chosen,
    report: &str,
    looped: bool,
) -> String {
    let who = if agent_type.is_empty() {
        "A subagent".to_owned()
    } else {
        format!("`{agent_type}`")
    };
    let reason = if stated.reason.is_empty() {
        "(no reason given)".to_owned()
    } else {
        stated.reason.trim_end_matches('.').to_owned()
    };
    let needs = if stated.needs.is_empty() {
        String::new()
    } else {
        format!(" It needs: {}.", stated.needs.join("; "))
    };
    let head = format!(
        "[handoff-router] {who} ended {}: {reason}.{needs}",
        stated.status.as_line()
    );
    let did = excerpt(report, 1200);
    match &chosen.target {
        Target::User => {
            let why = if looped {
                " It was routed the same way before in this request and is blocked again, so it goes to the user instead of round again."
            } else {
                ""
            };
            format!(
                "{head}{why} Route: the user. Ask the user this and wait for the answer; do not do the agent's work \
                 yourself or work around it: \"{reason}\"{}",
                if stated.needs.is_empty() {
                    String::new()
                } else {
                    format!(" (needed: {})", stated.needs.join("; "))
                }
            )
        }
        Target::Agent(name) => {
            let because = if chosen.because.is_empty() {
                String::new()
            } else {
                format!(" ({})", chosen.because)
            };
            let call = json!({
                "subagent_type": name,
                "description": format!("Unblock {}", if agent_type.is_empty() { "a subagent" } else { agent_type }),
                "prompt": format!(
                    "{who} is blocked: {reason}.{needs} What it reported:\n{did}\n\nResolve what blocks it, within your own domain, and report what you changed."
                ),
            });
            format!(
                "{head} Route: `{name}`{because}. Make this call: {call}. When it is done, give its result to {who} again."
            )
        }
        Target::Retry => {
            let call = json!({
                "subagent_type": agent_type,
                "description": "Continue with the context asked for",
                "prompt": format!(
                    "Continue the task you were given. You asked for: {}. Here it is: <the context, from the conversation or the files>.",
                    if stated.needs.is_empty() { reason.clone() } else { stated.needs.join("; ") }
                ),
            });
            format!(
                "{head} Route: back to {who} with the context it asked for. Find it (the conversation, the project's files), \
                 then make this call: {call}. If you cannot find it, ask the user."
            )
        }
        Target::Note => format!(
            "{head} Weigh this before you report the work as done{}.",
            if stated.status == Status::DoneWithConcerns {
                " (the agent finished, with these concerns)"
            } else {
                ""
            }
        ),
        Target::Advisor => format!(
            "{head} Route: the advisor, asked what to do; it says: \"{}\" Act on that if it fits what you know; \
             if it needs something only the user has, ask the user.",
            chosen.because
        ),
        // Resolved by `choose`.
        Target::Developer | Target::Architect => head,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_excerpt_drops_the_status_and_cuts_the_middle() {
        let report = format!("did a\n{}\nSTATUS: BLOCKED — x", "é".repeat(2000));
        let e = excerpt(&report, 100);
        assert!(e.starts_with("did a"), "{e}");
        assert!(e.contains("[…]") && !e.contains("STATUS"));
        assert!(e.len() < 120);
        assert_eq!(excerpt("only\n**Status:** DONE", 100), "only");
    }
}
