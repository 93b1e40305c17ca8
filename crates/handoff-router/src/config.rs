//! The `handoff` config section: which agents must end with a status, and the routing table.

use globset::Glob;
use portcullis_core::Mode;
use portcullis_core::config::{Config, Section};
use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::status::Status;

/// Where a routed handoff goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The user: the reason verbatim, and the question to answer.
    User,
    /// Another agent type, given the reason and what the blocked agent reported.
    Agent(String),
    /// The developer (agent-first's `agent_pattern`) of the domain of a path the reason names; when the
    /// reason names no path of a domain with a developer, the next route is tried.
    Developer,
    /// An agent whose name holds `architect`; when the project has none, the next route is tried.
    Architect,
    /// The advisor (escalation-advisor's `escalation_advisor.command`), asked what to do; its hint goes to
    /// the main thread. When it gives none, the handoff goes to the user.
    Advisor,
    /// The same agent type again, with the context it asked for.
    Retry,
    /// Nothing to do but know: the status and reason go to the main thread as a note.
    Note,
}

impl Target {
    /// Reads `user`, `agent:<type>`, `developer`, `architect`, `advisor` (or `escalation-advisor`), `retry`
    /// or `note`.
    ///
    /// # Errors
    /// Any other text, with the forms it may take.
    pub fn parse(text: &str) -> Result<Self, String> {
        Ok(match text {
            "user" => Self::User,
            "developer" => Self::Developer,
            "architect" => Self::Architect,
            "advisor" | "escalation-advisor" => Self::Advisor,
            "retry" => Self::Retry,
            "note" => Self::Note,
            _ => match text.strip_prefix("agent:") {
                Some(name) if !name.trim().is_empty() => Self::Agent(name.trim().to_owned()),
                _ => {
                    return Err(format!(
                        "`{text}` is no route target: `user`, `agent:<type>`, `developer`, `architect`, `advisor`, `retry` or `note`"
                    ));
                }
            },
        })
    }

    /// The name as written in config and in the decision log.
    #[must_use]
    pub fn as_string(&self) -> String {
        match self {
            Self::User => "user".into(),
            Self::Agent(name) => format!("agent:{name}"),
            Self::Developer => "developer".into(),
            Self::Architect => "architect".into(),
            Self::Advisor => "advisor".into(),
            Self::Retry => "retry".into(),
            Self::Note => "note".into(),
        }
    }
}

/// One row of the routing table: a handoff matching every condition given goes to `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// Statuses it matches (`blocked`, `needs_context`, `done_with_concerns`, `done`); empty: any.
    #[serde(default)]
    pub status: Vec<Status>,
    /// Globs over agent types (`*-developer`); empty: any.
    #[serde(default)]
    pub agents: Vec<String>,
    /// A regex the reason (and a JSON handoff's `needs`) must match, matched against them in lower case;
    /// absent: any reason.
    #[serde(default)]
    pub reason: Option<String>,
    /// `user`, `agent:<type>`, `developer`, `architect`, `advisor`, `retry` or `note`.
    pub to: String,
}

impl Route {
    fn new(status: &[Status], reason: Option<&str>, to: &str) -> Self {
        Self {
            status: status.to_vec(),
            agents: Vec::new(),
            reason: reason.map(str::to_owned),
            to: to.to_owned(),
        }
    }

    /// The reason's regex (applied to the lower-cased reason: the suite's regex engine is built without
    /// Unicode case folding, which `(?i)` over a non-ASCII pattern needs).
    pub(crate) fn reason_regex(&self) -> Option<Result<Regex, regex::Error>> {
        self.reason.as_deref().map(Regex::new)
    }
}

/// `handoff`: the handoff-router hook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HandoffConfig {
    /// `enforce`: an agent that must give a status and gave none is sent back once to give it, and routes
    /// go to the main thread; `warn`: routes go to the main thread, nobody is sent back; `off`.
    pub mode: Mode,
    /// Globs over the agent types that must end with a status. `null` (the default): every agent defined
    /// in the project's `.claude/agents/`; `["*"]`: every agent, built-in ones too; `[]`: none.
    pub required: Option<Vec<String>>,
    /// The routing table, in order, the first match winning; `null` is the default table.
    pub routes: Option<Vec<Route>>,
}

impl Default for HandoffConfig {
    fn default() -> Self {
        Self {
            mode: Mode::Enforce,
            required: None,
            routes: None,
        }
    }
}

impl HandoffConfig {
    /// The routing table in force: the configured one, or [`default_routes`].
    #[must_use]
    pub fn table(&self) -> Vec<Route> {
        self.routes.clone().unwrap_or_else(default_routes)
    }
}

/// The table that ships: what needs a person (credentials, permissions, a missing or unclear requirement)
/// goes to the user; a failing test goes to the developer of the domain it names; a design conflict to
/// an architect agent when the project has one; a request for context back to the same agent type with
/// it; any other block to the user; concerns to the main thread as a note.
#[must_use]
pub fn default_routes() -> Vec<Route> {
    use Status::{Blocked, DoneWithConcerns, NeedsContext};
    vec![
        Route::new(
            &[Blocked, NeedsContext],
            Some(
                r"password|credential|secret|token|api[ _-]?key|permission|access|log ?in|sign[ -]?in|2fa|approv|licen[cs]e|account",
            ),
            "user",
        ),
        Route::new(
            &[Blocked, NeedsContext],
            Some(
                r"requirement|spec(?-u:\b)|specification|unclear|ambiguous|which (one|option|approach|behaviou?r)|decide|decision|product owner|stakeholder",
            ),
            "user",
        ),
        Route::new(
            &[Blocked],
            // No counted repetition of a Unicode class: `.{0,80}` alone made the automaton cost 1.5 ms to
            // build at every stop.
            Some(
                r"(?-u:\b)tests?(?-u:\b)[^.;\n]*(?-u:\b)fail|(?-u:\b)fail(s|ed|ing|ures?)?(?-u:\b)[^.;\n]*(?-u:\b)tests?(?-u:\b)",
            ),
            "developer",
        ),
        Route::new(
            &[Blocked],
            Some(r"design|architect|conflict|interface|contract|schema"),
            "architect",
        ),
        Route::new(&[NeedsContext], None, "retry"),
        Route::new(&[Blocked], None, "user"),
        Route::new(&[DoneWithConcerns], None, "note"),
    ]
}

impl Section for HandoffConfig {
    const KEY: &'static str = "handoff";

    fn validate(&self, _config: &Config) -> Result<(), String> {
        for g in self.required.iter().flatten() {
            Glob::new(g).map_err(|e| format!("handoff.required: `{g}`: {e}"))?;
        }
        // The default table is checked by this crate's tests; only a user's table is compiled here, at
        // every event that reads the section.
        for (i, route) in self.routes.iter().flatten().enumerate() {
            Target::parse(&route.to).map_err(|e| format!("handoff.routes[{i}].to: {e}"))?;
            for g in &route.agents {
                Glob::new(g).map_err(|e| format!("handoff.routes[{i}].agents: `{g}`: {e}"))?;
            }
            if let Some(Err(e)) = route.reason_regex() {
                return Err(format!("handoff.routes[{i}].reason: {e}"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_table_is_valid_and_targets_parse() {
        HandoffConfig {
            routes: Some(default_routes()),
            ..HandoffConfig::default()
        }
        .validate(&Config::default())
        .unwrap();
        for r in default_routes() {
            assert_eq!(Target::parse(&r.to).unwrap().as_string(), r.to);
        }
        assert_eq!(
            Target::parse("agent:db-admin").unwrap(),
            Target::Agent("db-admin".into())
        );
        assert!(Target::parse("agent:").is_err());
        assert_eq!(
            Target::parse("escalation-advisor").unwrap(),
            Target::Advisor
        );
        assert!(Target::parse("the boss").is_err());
    }

    #[test]
    fn a_bad_route_is_refused_with_where_it_is() {
        let bad = |route: Route| {
            HandoffConfig {
                routes: Some(vec![route]),
                ..HandoffConfig::default()
            }
            .validate(&Config::default())
            .unwrap_err()
        };
        let mut r = Route::new(&[], None, "boss");
        assert!(bad(r.clone()).starts_with("handoff.routes[0].to:"));
        r.to = "user".into();
        r.reason = Some("(".into());
        assert!(bad(r.clone()).starts_with("handoff.routes[0].reason:"));
        r.reason = None;
        r.agents = vec!["[".into()];
        assert!(bad(r).starts_with("handoff.routes[0].agents:"));
    }
}
