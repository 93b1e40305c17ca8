//! agent-first: the main thread may not edit a file whose domain has a developer agent; it is told to
//! spawn that agent instead. Subagents edit freely.
//!
//! - **Events**: `PreToolUse`, matcher `Write|Edit|MultiEdit|NotebookEdit|Bash`.
//! - **Decides**: for each file the call writes (Bash: what `portcullis_shell` reads the command to write), resolved against the project root:
//!   its domain ([`portcullis_domains::DomainMap`]), unless exempt; whether the agent
//!   `agent_first.agent_pattern` (default `{domain}-developer`) is defined. If so: deny (`mode: enforce`) or
//!   allow with a reminder (`mode: warn`). Everything else is a silent allow.
//! - **Never constrained**: calls with `agent_id` (subagents); `--agent` main threads whose type is in
//!   `agent_first.exempt_agent_types`; paths outside the project; paths no domain claims.
//! - **`ON_ERROR`**: [`Failure::Open`]. A delegation guard that failed closed on a broken config would also
//!   stop the main thread from editing that config: fail open, with one stderr line the user sees.
//! - **Budget**: the common path reads stdin and returns before any config is loaded; the domain path
//!   tests the table and the exemptions directly where their globs have common shapes (compiling a
//!   matcher only for the others) and reads the agent catalogue from its cache.
//! - **State**: `agent-catalog.json`, the agent catalog cached until an agent file changes (shared with
//!   feedback-loop). Malformed agent files are noted in the decision log.

use portcullis_core::client::ClientSupport;
use portcullis_core::config::{Mode, SectionSpec};
use portcullis_core::event::ToolInput;
use portcullis_core::{Ctx, Event, EventName, Failure, Hook, Registration, Result, Verdict};
use portcullis_domains::{
    AgentCatalog, AgentDef, DomainMap, DomainMatch, DomainsConfig, FallbackDomain, GlobList,
    Resolved, resolve,
};

pub use portcullis_domains::{AgentFirstConfig, developer_for};

/// The hook.
pub struct AgentFirst;

impl Hook for AgentFirst {
    const NAME: &'static str = "agent-first";
    const SUMMARY: &'static str = "The main thread may not edit a file whose domain has a developer agent: it is told to spawn that agent.";
    const EVENTS: &'static [Registration] = &[Registration::matching(
        "PreToolUse",
        "Write|Edit|MultiEdit|NotebookEdit|Bash",
    )];
    const ON_ERROR: Failure = Failure::Open;
    const CODEX: ClientSupport = ClientSupport::No(
        "Codex 0.169's subagents take their roles from its own config.toml `[agents]`, not from \
         `.claude/agents/<domain>-developer.md`, and report them as `agent_type` only on their own events: \
         there is no named domain developer to delegate to",
    );
    const GEMINI: ClientSupport = ClientSupport::No(
        "Gemini CLI 0.61 gives a subagent's tool calls the parent's session and no agent id, so the main \
         thread's edits cannot be told from the delegated developer's: denying them would deny the developer too",
    );
    const COPILOT: ClientSupport = ClientSupport::No(
        "Copilot CLI 1.0.102's task tool spawns its own agent types (general-purpose, explore, task), not \
         `.claude/agents/<domain>-developer.md`: there is no named domain developer to delegate to",
    );
    const SECTIONS: &'static [SectionSpec] = &[
        SectionSpec::of::<AgentFirstConfig>(),
        SectionSpec::of::<DomainsConfig>(),
        SectionSpec::of::<FallbackDomain>(),
    ];

    fn decide(event: &Event, ctx: &Ctx) -> Result<Verdict> {
        if event.name() != EventName::PreToolUse || event.is_subagent() {
            return Ok(Verdict::allow());
        }
        // Cheapest rejection first: only editing tools and Bash can matter, and what they write is known
        // without config. Most Bash commands write no file and end here, before any config is read.
        if !matches!(
            event.tool(),
            Some("Write" | "Edit" | "MultiEdit" | "NotebookEdit" | "Bash")
        ) {
            return Ok(Verdict::allow());
        }
        let input = event.tool_input()?;
        let is_shell = matches!(input, ToolInput::Bash(_));
        let targets = portcullis_shell::files_written(&input);
        if targets.is_empty() {
            return Ok(Verdict::allow());
        }
        let rules = &ctx.section::<AgentFirstConfig>()?;
        if rules.mode == Mode::Off || (is_shell && !rules.shell_writes) {
            return Ok(Verdict::allow());
        }
        if let Some(kind) = &event.agent_type
            && rules.exempt_agent_types.iter().any(|t| t == kind)
        {
            return Ok(Verdict::allow());
        }
        let table = ctx.section::<DomainsConfig>()?;
        let domains = DomainMap::from_config(&table, &*ctx.section::<FallbackDomain>()?)?;
        let mut catalog: Option<AgentCatalog> = None;
        let mut exempt: Option<GlobList> = None;
        for target in &targets {
            let Resolved::Inside(rel) = resolve(target, &ctx.cwd, &ctx.project) else {
                continue;
            };
            let Some(mut hit) = domains.classify_in(&ctx.project, &rel) else {
                continue;
            };
            let exempt = match &mut exempt {
                Some(set) => set,
                slot @ None => slot.insert(compile_exempt(rules)?),
            };
            if exempt.is_match(&rel) {
                continue;
            }
            let catalog = catalog.get_or_insert_with(|| {
                let c = AgentCatalog::discover_cached(
                    &ctx.project,
                    ctx.env.claude_home().as_deref(),
                    &ctx.state(),
                );
                if let Some((path, why)) = c.skipped.first() {
                    // One line however many: a folder of junk must not flood the decision log.
                    ctx.note(format!(
                        "{} agent file(s) or folder(s) skipped; the first, `{}`: {why} \
                         (`portcullis doctor` lists them all)",
                        c.skipped.len(),
                        path.display()
                    ));
                }
                c
            });
            // Domains agents declare (`owns:`) refine the built-in table; the config's table wins.
            if table.0.is_none()
                && let Some(declared) = catalog.declared_domain_of(&rel)
            {
                hit = declared;
            }
            let Some(agent) = developer_for(rules, &hit, catalog) else {
                continue;
            };
            let file = agent
                .path
                .strip_prefix(&ctx.project)
                .unwrap_or(&agent.path)
                .display()
                .to_string();
            return Ok(verdict(
                rules,
                &rel,
                &hit,
                agent,
                &file,
                event.tool().unwrap_or_default(),
            ));
        }
        Ok(Verdict::allow())
    }
}

/// Whether the project-relative `rel` is exempt from delegation (`agent_first.exempt`).
pub fn is_exempt(rules: &AgentFirstConfig, rel: &str) -> Result<bool> {
    Ok(compile_exempt(rules)?.is_match(rel))
}

fn compile_exempt(rules: &AgentFirstConfig) -> Result<GlobList> {
    GlobList::new(&rules.exempt)
        .map_err(|e| portcullis_core::Error::Other(format!("agent_first.exempt: {e}")))
}

fn verdict(
    rules: &AgentFirstConfig,
    rel: &str,
    hit: &DomainMatch,
    agent: &AgentDef,
    file: &str,
    tool: &str,
) -> Verdict {
    let spawn = format!(
        "Spawn it with the Agent tool: {{\"subagent_type\": \"{name}\", \"description\": \"<short task title>\", \
         \"prompt\": \"<what to change in {rel}, why, and how to verify it>\"}}.",
        name = agent.name
    );
    match rules.mode {
        Mode::Enforce => Verdict::deny(format!(
            "[agent-first] `{rel}` belongs to the `{domain}` domain ({why}), and the agent `{name}` exists for it \
             ({file}). The main thread does not edit domain files itself (tool: {tool}): delegate this change. {spawn} \
             (Exemptions and the domain table are in .claude/portcullis.json: `agent_first`, `domains`.)",
            domain = hit.domain,
            why = hit.why(),
            name = agent.name,
        )),
        Mode::Warn => Verdict::allow().with_context(format!(
            "[agent-first] `{rel}` belongs to the `{domain}` domain, which has the agent `{name}`. Prefer delegating \
             domain changes to it. {spawn}",
            domain = hit.domain,
            name = agent.name,
        )),
        Mode::Off => Verdict::allow(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_core::Decision;
    use portcullis_testkit::decide::TestProject;
    use serde_json::{Value, json};

    /// The captured main-thread Write of `rel`, or a subagent's when `agent` is given.
    fn write(p: &TestProject, rel: &str, agent: Option<&str>) -> Event {
        let mut changes = json!({"tool_input": {"file_path": p.path(rel), "content": "x"}});
        if let Some(a) = agent {
            changes["agent_id"] = json!("a1");
            changes["agent_type"] = json!(a);
        }
        p.event("PreToolUse-Write", &changes)
    }

    fn decide(p: &TestProject, event: &Event, config: &Value) -> Verdict {
        AgentFirst::decide(event, &p.ctx::<AgentFirst>().config(config).build()).unwrap()
    }

    #[test]
    fn main_thread_is_denied_and_subagent_allowed() {
        let p = TestProject::new();
        p.agent("backend-developer");
        let v = decide(&p, &write(&p, "api/x.go", None), &json!({}));
        assert_eq!(v.decision, Decision::Block);
        let reason = v.reason_text();
        assert!(
            reason.contains("`api/x.go`")
                && reason.contains("`backend`")
                && reason.contains("\"subagent_type\": \"backend-developer\""),
            "{reason}"
        );
        let v = decide(
            &p,
            &write(&p, "api/x.go", Some("backend-developer")),
            &json!({}),
        );
        assert!(v.is_silent());
    }

    #[test]
    fn no_agent_means_allow_and_warn_mode_adds_context() {
        let p = TestProject::new();
        let event = write(&p, "api/x.go", None);
        assert!(decide(&p, &event, &json!({})).is_silent());
        p.agent("backend-developer");
        let v = decide(&p, &event, &json!({"agent_first": {"mode": "warn"}}));
        assert_eq!(v.decision, Decision::Allow);
        assert!(v.context[0].contains("backend-developer"));
    }

    #[test]
    fn exemptions_and_mode_off_allow() {
        let p = TestProject::new();
        p.agent("backend-developer");
        let event = write(&p, "api/x.go", None);
        assert!(decide(&p, &event, &json!({"agent_first": {"mode": "off"}})).is_silent());
        assert!(decide(&p, &event, &json!({"agent_first": {"exempt": ["api/**"]}})).is_silent());
        let typed = p.event(
            "PreToolUse-Write",
            &json!({"agent_type": "lead", "tool_input": {"file_path": p.path("api/x.go")}}),
        );
        assert!(
            decide(
                &p,
                &typed,
                &json!({"agent_first": {"exempt_agent_types": ["lead"]}})
            )
            .is_silent()
        );
        assert_eq!(decide(&p, &typed, &json!({})).decision, Decision::Block);
    }

    #[test]
    fn the_domain_table_comes_from_config() {
        let p = TestProject::new();
        p.agent("web-developer");
        let event = write(&p, "site/x.go", None);
        assert!(
            decide(&p, &event, &json!({})).is_silent(),
            "no built-in domain has `site/`"
        );
        let v = decide(&p, &event, &json!({"domains": {"web": ["site/**"]}}));
        assert_eq!(v.decision, Decision::Block);
        assert!(v.reason_text().contains("web-developer"));
    }

    #[test]
    fn unclaimed_code_goes_to_the_only_developer_else_backend() {
        let p = TestProject::new();
        p.agent("web-developer");
        let v = decide(&p, &write(&p, "src/x.elm", None), &json!({}));
        assert!(
            v.reason_text()
                .contains("\"subagent_type\": \"web-developer\""),
            "{v:?}"
        );
        assert!(
            v.reason_text().contains("the `code` domain (fallback:"),
            "{v:?}"
        );
        p.agent("frontend-developer");
        assert!(
            decide(&p, &write(&p, "src/x.elm", None), &json!({})).is_silent(),
            "two, no backend"
        );
        p.agent("backend-developer");
        let v = decide(&p, &write(&p, "src/x.elm", None), &json!({}));
        assert!(v.reason_text().contains("backend-developer"), "{v:?}");
        p.agent("code-developer");
        let v = decide(&p, &write(&p, "src/x.elm", None), &json!({}));
        assert!(
            v.reason_text()
                .contains("\"subagent_type\": \"code-developer\""),
            "{v:?}"
        );
        let off = json!({"fallback_domain": {"enabled": false}});
        assert!(decide(&p, &write(&p, "src/x.elm", None), &off).is_silent());
    }

    #[test]
    fn shell_writes_are_checked_unless_switched_off() {
        let p = TestProject::new();
        p.agent("backend-developer");
        let bash = p.event(
            "PreToolUse-Bash",
            &json!({"tool_input": {"command": "echo x > api/x.go"}}),
        );
        assert_eq!(decide(&p, &bash, &json!({})).decision, Decision::Block);
        assert!(decide(&p, &bash, &json!({"agent_first": {"shell_writes": false}})).is_silent());
    }
}
