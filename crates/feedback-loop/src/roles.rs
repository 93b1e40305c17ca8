//! Who reviews and who tests: the configured agent patterns, and agents named or described as reviewers
//! and testers are (issue 36: `code-reviewer` and `test-runner` were ignored).

use portcullis_core::Result;
use portcullis_domains::AgentCatalog;

use crate::config::FeedbackLoopConfig;

use super::{Role, Rules};
use crate::ledger::Phase;

/// `{domain}-reviewer` both ways: a domain's agent name, and the domain of an agent type. A pattern
/// without `{domain}` (`code-reviewer`) names one agent that serves every domain.
#[derive(Debug)]
pub(super) struct AgentPattern {
    text: String,
    /// The text around `{domain}`; `None` for a pattern without it.
    parts: Option<(String, String)>,
}

impl AgentPattern {
    pub(super) fn new(text: &str) -> Self {
        Self {
            text: text.to_owned(),
            parts: text
                .split_once("{domain}")
                .map(|(p, s)| (p.to_owned(), s.to_owned())),
        }
    }

    pub(super) fn name_for(&self, domain: &str) -> String {
        self.text.replace("{domain}", domain)
    }

    /// The domain an agent type stands for (`*`: every domain); a plugin's `plugin:name` is read by its
    /// name.
    fn domain_of<'a>(&self, agent_type: &'a str) -> Option<&'a str> {
        let name = plain_name(agent_type);
        let Some((prefix, suffix)) = &self.parts else {
            return (name == self.text).then_some("*");
        };
        name.strip_prefix(prefix.as_str())?
            .strip_suffix(suffix.as_str())
            .filter(|d| !d.is_empty())
    }
}

/// An agent type's own name: a plugin's `plugin:name` is `name`.
fn plain_name(agent_type: &str) -> &str {
    agent_type.rsplit_once(':').map_or(agent_type, |(_, n)| n)
}

/// Checks the agent patterns a user may set: one function for the hook and for `portcullis doctor`
/// (through the section's validation), so a pattern doctor accepts is one the hook reads.
pub(crate) fn check_pattern(key: &str, text: &str) -> std::result::Result<(), String> {
    let ok = !text.trim().is_empty()
        && text.matches("{domain}").count() <= 1
        && text
            .replace("{domain}", "x")
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`feedback_loop.{key}` is an agent name, with `{{domain}}` at most once where the domain goes \
             (`{{domain}}-reviewer`, or `code-reviewer` for one that serves every domain); found `{text}`"
        ))
    }
}

/// What people call a reviewer or a tester that serves every domain: the whole name, or (after a
/// domain, as in `backend-code-reviewer`) its ending.
const REVIEWER_NAMES: &[&str] = &[
    "reviewer",
    "code-reviewer",
    "code-review",
    "pr-reviewer",
    "review",
    "senior-reviewer",
];
const TESTER_NAMES: &[&str] = &[
    "tester",
    "test-runner",
    "test-engineer",
    "test-writer",
    "qa",
    "qa-engineer",
    "qa-tester",
    "quality-assurance",
    "tests",
];

/// The phase an agent's name says it serves, by what people call reviewers and testers
/// ([`REVIEWER_NAMES`], [`TESTER_NAMES`], and any name ending in `-reviewer` or `-tester`).
fn phase_by_name(name: &str) -> Option<Phase> {
    let name = name.to_ascii_lowercase().replace('_', "-");
    if REVIEWER_NAMES.contains(&name.as_str()) || name.ends_with("-reviewer") {
        return Some(Phase::Review);
    }
    if TESTER_NAMES.contains(&name.as_str())
        || name.ends_with("-tester")
        || name.ends_with("-test-runner")
        || name.ends_with("-qa")
    {
        return Some(Phase::Testing);
    }
    None
}

/// The phase an agent's description says it serves: it reviews, or it runs or writes tests.
fn phase_by_description(description: &str) -> Option<Phase> {
    let d = description.to_ascii_lowercase();
    if d.contains("review") {
        return Some(Phase::Review);
    }
    let tests = [
        "run the tests",
        "runs tests",
        "run tests",
        "runs the tests",
        "test suite",
        "writes tests",
        "write tests",
        "qa ",
    ];
    tests
        .iter()
        .any(|t| d.contains(t))
        .then_some(Phase::Testing)
}

/// The reviewer and the tester feedback-loop would ask for `domain` of a project with `domains` (`None`
/// where there is none): what `portcullis domains` and `doctor` show, found as the hook finds them.
///
/// # Errors
/// A config the hook would refuse (a bad agent pattern).
pub fn reviewer_and_tester(
    config: &FeedbackLoopConfig,
    catalog: &AgentCatalog,
    domain: &str,
    domains: &[&str],
) -> Result<(Option<String>, Option<String>)> {
    let rules = Rules::new(config)?;
    Ok((
        rules.agent_for(Phase::Review, domain, catalog, domains),
        rules.agent_for(Phase::Testing, domain, catalog, domains),
    ))
}

impl Rules {
    /// The phase and domain an agent type reports on, if it is a reviewer or tester (`*`: every domain),
    /// given the project's domains: a common reviewer's or tester's name, which serves every domain
    /// (`code-reviewer`, `test-runner`, `qa`); the configured patterns (`{domain}-reviewer` of a known
    /// domain); a domain and such a name (`backend-code-reviewer`, `web-test-runner`); any name ending in
    /// `-reviewer` or `-tester` (every domain); then, for an agent whose name says nothing, its
    /// description (`description` when known).
    #[must_use]
    pub(crate) fn role_of(
        &self,
        agent_type: &str,
        domains: &[&str],
        description: Option<&str>,
    ) -> Option<Role> {
        let role = |phase, domain: &str| {
            Some(Role {
                phase,
                domain: domain.to_owned(),
            })
        };
        let name = plain_name(agent_type);
        // The common names first: `code-reviewer` is everyone's reviewer, even beside the fallback
        // domain `code`.
        let lower = name.to_ascii_lowercase().replace('_', "-");
        if REVIEWER_NAMES.contains(&lower.as_str()) {
            return role(Phase::Review, "*");
        }
        if TESTER_NAMES.contains(&lower.as_str()) {
            return role(Phase::Testing, "*");
        }
        for (pattern, phase) in [
            (&self.reviewer, Phase::Review),
            (&self.tester, Phase::Testing),
        ] {
            if let Some(d) = pattern.domain_of(agent_type)
                && (d == "*" || domains.contains(&d))
            {
                return role(phase, d);
            }
        }
        for d in domains {
            if let Some(rest) = name
                .strip_prefix(d)
                .and_then(|r| r.strip_prefix(['-', '_']))
                && let Some(phase) = phase_by_name(rest)
            {
                return role(phase, d);
            }
        }
        if let Some(phase) = phase_by_name(name) {
            return role(phase, "*");
        }
        // A pattern's domain that is no domain of the project (`security-reviewer`): every domain.
        for (pattern, phase) in [
            (&self.reviewer, Phase::Review),
            (&self.tester, Phase::Testing),
        ] {
            if pattern.domain_of(agent_type).is_some() {
                return role(phase, "*");
            }
        }
        description
            .and_then(phase_by_description)
            .and_then(|phase| role(phase, "*"))
    }

    /// The agent to spawn for `phase` of `domain`: the configured pattern's, else any agent of the
    /// catalog whose role serves that domain (its own, or every domain).
    pub(crate) fn agent_for(
        &self,
        phase: Phase,
        domain: &str,
        catalog: &AgentCatalog,
        domains: &[&str],
    ) -> Option<String> {
        let pattern = match phase {
            Phase::Review => &self.reviewer,
            Phase::Testing => &self.tester,
        };
        let named = pattern.name_for(domain);
        if catalog.find_for_domain(&named).is_some() {
            return Some(named);
        }
        // One pass over the catalog, and only over the agents whose name or description can say reviewer
        // or tester (a project has dozens of developers, and this runs at every blocked stop).
        let mut every_domain = None;
        for a in catalog
            .agents
            .iter()
            .filter(|a| may_serve(&a.name) || a.description.as_deref().is_some_and(may_serve))
        {
            match self.role_of(&a.name, domains, a.description.as_deref()) {
                Some(r) if r.phase == phase && r.domain == domain => {
                    return Some(plain_name(&a.name).to_owned());
                }
                Some(r) if r.phase == phase && r.domain == "*" && every_domain.is_none() => {
                    every_domain = Some(plain_name(&a.name).to_owned());
                }
                _ => {}
            }
        }
        every_domain
    }
}

/// Whether `text` holds a word that names a reviewer or a tester (ASCII, any case): the agents worth
/// asking [`Rules::role_of`] about beyond the configured patterns.
fn may_serve(text: &str) -> bool {
    let bytes = text.as_bytes();
    ["review", "test", "qa", "quality"].iter().any(|w| {
        bytes
            .windows(w.len())
            .any(|window| window.eq_ignore_ascii_case(w.as_bytes()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FeedbackLoopConfig;

    fn rules() -> Rules {
        Rules::new(&FeedbackLoopConfig::default()).unwrap()
    }

    #[test]
    fn agent_types_map_to_roles() {
        let r = rules();
        let domains = ["backend", "frontend"];
        assert_eq!(
            r.role_of("backend-reviewer", &domains, None),
            Some(Role {
                phase: Phase::Review,
                domain: "backend".into()
            })
        );
        assert_eq!(
            r.role_of("my-plugin:frontend-tester", &domains, None)
                .unwrap()
                .domain,
            "frontend"
        );
        assert_eq!(r.role_of("backend-developer", &domains, None), None);
        assert_eq!(r.role_of("general-purpose", &domains, None), None);
    }

    /// Issue 36, item 1: reviewers and testers named as people name them serve every domain, or their own
    /// when a domain comes first; an agent whose name says nothing is known by its description.
    #[test]
    fn reviewers_and_testers_by_the_names_people_give_them() {
        let r = rules();
        let domains = ["backend", "frontend", "scripts"];
        let role = |name: &str| r.role_of(name, &domains, None).map(|x| (x.phase, x.domain));
        for name in [
            "code-reviewer",
            "reviewer",
            "security-reviewer",
            "pr-reviewer",
            "Code_Reviewer",
        ] {
            assert_eq!(role(name), Some((Phase::Review, "*".into())), "{name}");
        }
        for name in [
            "test-runner",
            "tester",
            "qa",
            "qa-engineer",
            "test-engineer",
            "e2e-tester",
        ] {
            assert_eq!(role(name), Some((Phase::Testing, "*".into())), "{name}");
        }
        assert_eq!(
            role("backend-code-reviewer"),
            Some((Phase::Review, "backend".into()))
        );
        assert_eq!(
            role("frontend-test-runner"),
            Some((Phase::Testing, "frontend".into()))
        );
        assert_eq!(role("scripts-qa"), Some((Phase::Testing, "scripts".into())));
        assert_eq!(role("planner"), None);
        assert_eq!(
            r.role_of(
                "sentinel",
                &domains,
                Some("Reviews every change for bugs and style")
            )
            .map(|x| x.phase),
            Some(Phase::Review)
        );
        assert_eq!(
            r.role_of(
                "runner",
                &domains,
                Some("Runs the tests and reports failures")
            )
            .map(|x| x.phase),
            Some(Phase::Testing)
        );
        // A configured pattern without `{domain}` names the one agent of every domain.
        let custom = Rules::new(&FeedbackLoopConfig {
            reviewer_pattern: "gatekeeper".into(),
            ..FeedbackLoopConfig::default()
        })
        .unwrap();
        assert_eq!(
            custom
                .role_of("gatekeeper", &domains, None)
                .map(|x| x.domain),
            Some("*".into())
        );
        // What doctor and the hook both refuse.
        for bad in ["", "{domain}-{domain}", "has space", "a/b"] {
            assert!(check_pattern("reviewer_pattern", bad).is_err(), "{bad:?}");
        }
    }
}
