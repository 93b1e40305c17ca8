//! agent-first: the main thread may not edit a file whose domain has a developer agent; it is told to
//! spawn that agent instead. Subagents edit freely.
//!
//! - **Events**: `PreToolUse`, matcher `Write|Edit|MultiEdit|NotebookEdit|Bash`.
//! - **Decides**: for each file the call writes (Bash: see [`shell`]), resolved against the project root:
//!   its domain ([`portcullis_domains::DomainMap`]), unless exempt; whether the agent
//!   `agent_first.agent_pattern` (default `{domain}-developer`) is defined. If so: deny (`mode: enforce`) or
//!   allow with a reminder (`mode: warn`). Everything else is a silent allow.
//! - **Never constrained**: calls with `agent_id` (subagents); `--agent` main threads whose type is in
//!   `agent_first.exempt_agent_types`; paths outside the project; paths no domain claims.
//! - **`ON_ERROR`**: [`Failure::Open`]. A delegation guard that failed closed on a broken config would also
//!   stop the main thread from editing that config: fail open, with one stderr line the user sees.
//! - **Budget**: the common path reads stdin and returns before any config is loaded; the domain path
//!   compiles one globset and walks the agent folders once.
//! - **State**: none. Malformed agent files are noted in the decision log.

pub mod shell;

use globset::GlobSetBuilder;
use portcullis_core::config::{AgentFirstConfig, Mode};
use portcullis_core::event::ToolInput;
use portcullis_core::{Ctx, Event, EventName, Failure, Hook, Result, Verdict};
use portcullis_domains::{AgentCatalog, AgentDef, DomainMap, DomainMatch, Resolved, resolve};

/// The hook.
pub struct AgentFirst;

impl Hook for AgentFirst {
    const NAME: &'static str = "agent-first";
    const ON_ERROR: Failure = Failure::Open;

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
        let targets = write_targets(&input);
        if targets.is_empty() {
            return Ok(Verdict::allow());
        }
        let config = ctx.config()?;
        let rules = &config.agent_first;
        if rules.mode == Mode::Off || (is_shell && !rules.shell_writes) {
            return Ok(Verdict::allow());
        }
        if let Some(kind) = &event.agent_type {
            if rules.exempt_agent_types.iter().any(|t| t == kind) {
                return Ok(Verdict::allow());
            }
        }
        let domains = DomainMap::from_config(config)?;
        let mut catalog: Option<AgentCatalog> = None;
        let mut exempt: Option<globset::GlobSet> = None;
        for target in &targets {
            let Resolved::Inside(rel) = resolve(target, &ctx.cwd, &ctx.project) else {
                continue;
            };
            let Some(hit) = domains.classify(&rel) else {
                continue;
            };
            let exempt = match &mut exempt {
                Some(set) => set,
                slot @ None => slot.insert(compile_exempt(rules)?),
            };
            if exempt.is_match(&rel) {
                continue;
            }
            let agent_name = rules.agent_pattern.replace("{domain}", &hit.domain);
            let catalog = catalog.get_or_insert_with(|| {
                let c = AgentCatalog::discover(&ctx.project, ctx.env.claude_home().as_deref());
                for (path, why) in &c.skipped {
                    ctx.note(format!("agent file `{}` skipped: {why}", path.display()));
                }
                c
            });
            let Some(agent) = catalog.find_for_domain(&agent_name) else {
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

/// The files a call writes, as given: the path of an editing tool, or what a shell command plainly writes.
fn write_targets(input: &ToolInput) -> Vec<String> {
    match input {
        ToolInput::Bash(b) => shell::write_targets(b.command.as_deref().unwrap_or_default()),
        other => other
            .touched_paths()
            .into_iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect(),
    }
}

fn compile_exempt(rules: &AgentFirstConfig) -> Result<globset::GlobSet> {
    let mut b = GlobSetBuilder::new();
    for g in &rules.exempt {
        b.add(portcullis_domains::glob(g).map_err(|e| {
            portcullis_core::Error::Other(format!("agent_first.exempt: bad glob `{g}`: {e}"))
        })?);
    }
    b.build()
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
            "[agent-first] `{rel}` belongs to the `{domain}` domain (glob `{glob}`), and the agent `{name}` exists for it \
             ({file}). The main thread does not edit domain files itself (tool: {tool}): delegate this change. {spawn} \
             (Exemptions and the domain table are in .claude/portcullis.json: `agent_first`, `domains`.)",
            domain = hit.domain,
            glob = hit.glob,
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
    use portcullis_core::Config;
    use std::path::Path;

    fn event(json: &str) -> Event {
        Event::parse(json.as_bytes()).unwrap()
    }

    fn project_with_agent(dir: &Path, name: &str) {
        let agents = dir.join(".claude/agents");
        std::fs::create_dir_all(&agents).unwrap();
        std::fs::write(
            agents.join(format!("{name}.md")),
            format!("---\nname: {name}\n---\n"),
        )
        .unwrap();
    }

    fn write_event(path: &str, agent: Option<&str>) -> Event {
        let agent = agent
            .map(|a| format!(r#""agent_id":"a1","agent_type":"{a}","#))
            .unwrap_or_default();
        event(&format!(
            r#"{{"session_id":"s","hook_event_name":"PreToolUse",{agent}"tool_name":"Write","tool_input":{{"file_path":"{path}","content":"x"}}}}"#
        ))
    }

    #[test]
    fn main_thread_is_denied_and_subagent_allowed() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().canonicalize().unwrap();
        project_with_agent(&p, "backend-developer");
        let ctx = Ctx::for_test("agent-first", &p, Config::default());
        let file = format!("{}/api/x.go", p.display());
        let v = AgentFirst::decide(&write_event(&file, None), &ctx).unwrap();
        assert_eq!(v.decision, portcullis_core::Decision::Block);
        let reason = v.reason_text();
        assert!(
            reason.contains("`api/x.go`")
                && reason.contains("`backend`")
                && reason.contains("\"subagent_type\": \"backend-developer\""),
            "{reason}"
        );
        let v = AgentFirst::decide(&write_event(&file, Some("backend-developer")), &ctx).unwrap();
        assert!(v.is_silent());
    }

    #[test]
    fn no_agent_means_allow_and_warn_mode_adds_context() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().canonicalize().unwrap();
        let ctx = Ctx::for_test("agent-first", &p, Config::default());
        let file = format!("{}/api/x.go", p.display());
        assert!(
            AgentFirst::decide(&write_event(&file, None), &ctx)
                .unwrap()
                .is_silent()
        );
        project_with_agent(&p, "backend-developer");
        let mut c = Config::default();
        c.agent_first.mode = Mode::Warn;
        let v = AgentFirst::decide(
            &write_event(&file, None),
            &Ctx::for_test("agent-first", &p, c),
        )
        .unwrap();
        assert_eq!(v.decision, portcullis_core::Decision::Allow);
        assert!(v.context[0].contains("backend-developer"));
    }
}
