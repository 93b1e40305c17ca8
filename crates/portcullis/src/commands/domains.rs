//! `portcullis domains [PATH...]`: for each path, its domain, the rule that decided it, the agent that
//! owns it and whether agent-first and feedback-loop act on it; with no path, the whole table with each
//! domain's agents. `--json` for scripts.

use std::fmt::Write as _;
use std::path::Path;

use agent_first::AgentFirstConfig;
use feedback_loop::FeedbackLoopConfig;
use portcullis_core::Env;
use portcullis_core::config::{Config, Schema};
use portcullis_domains::{AgentCatalog, DomainMap, DomainMatch, MatchKind, Resolved, resolve};
use serde_json::{Value, json};

use super::{CmdResult, Report};

/// What one path's domain means for the hooks.
struct PathReport {
    path: String,
    rel: Option<String>,
    hit: Option<DomainMatch>,
    agent: Option<String>,
    agent_first: String,
    feedback_loop: String,
}

/// `portcullis domains`.
pub fn domains(project: &Path, paths: &[String], json_out: bool, env: &Env) -> CmdResult {
    let sections = portcullis_suite::sections();
    let config = Config::load(env, project, Schema::suite(&sections)).map_err(|e| e.to_string())?;
    let map = DomainMap::from_config(
        &config.section().map_err(|e| e.to_string())?,
        &config.section().map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let af: AgentFirstConfig = config.section().map_err(|e| e.to_string())?;
    let fl: FeedbackLoopConfig = config.section().map_err(|e| e.to_string())?;
    let catalog = AgentCatalog::discover(project, env.claude_home().as_deref());
    if paths.is_empty() {
        return Ok(Report::ok(table(&map, &catalog, &af, &fl, json_out)));
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| project.to_path_buf());
    let mut reports = Vec::new();
    for path in paths {
        reports.push(one(project, &cwd, path, &map, &catalog, &af, &fl)?);
    }
    let text = if json_out {
        let v: Vec<Value> = reports
            .iter()
            .map(|r| {
                json!({
                    "path": r.path,
                    "relative": r.rel,
                    "domain": r.hit.as_ref().map(|h| h.domain.clone()),
                    "rule": r.hit.as_ref().map(|h| h.rule.clone()),
                    "kind": r.hit.as_ref().map(|h| kind(h.kind)),
                    "agent": r.agent,
                    "agent_first": r.agent_first,
                    "feedback_loop": r.feedback_loop,
                })
            })
            .collect();
        format!("{}\n", json!({ "paths": v }))
    } else {
        let mut t = String::new();
        for r in &reports {
            let _ = writeln!(t, "{}", r.rel.as_deref().unwrap_or(&r.path));
            let domain = r.hit.as_ref().map_or_else(
                || "none (not code, and no rule claims it)".to_owned(),
                |h| format!("{} ({})", h.domain, h.why()),
            );
            let _ = writeln!(t, "  domain:        {domain}");
            let _ = writeln!(t, "  agent:         {}", r.agent.as_deref().unwrap_or("-"));
            let _ = writeln!(t, "  agent-first:   {}", r.agent_first);
            let _ = writeln!(t, "  feedback-loop: {}", r.feedback_loop);
        }
        t
    };
    Ok(Report::ok(text))
}

fn kind(k: MatchKind) -> &'static str {
    match k {
        MatchKind::Glob => "glob",
        MatchKind::Manifest => "manifest",
        MatchKind::Fallback => "fallback",
        MatchKind::Declared => "declared",
    }
}

fn one(
    project: &Path,
    cwd: &Path,
    path: &str,
    map: &DomainMap,
    catalog: &AgentCatalog,
    af: &AgentFirstConfig,
    fl: &FeedbackLoopConfig,
) -> Result<PathReport, String> {
    let Resolved::Inside(rel) = resolve(path, cwd, project) else {
        return Ok(PathReport {
            path: path.to_owned(),
            rel: None,
            hit: None,
            agent: None,
            agent_first: "allows: outside the project".into(),
            feedback_loop: "does not track: outside the project".into(),
        });
    };
    let hit = map.classify_in(project, &rel);
    let agent = hit
        .as_ref()
        .and_then(|h| agent_first::developer_for(af, h, catalog))
        .map(|a| a.name.clone());
    let agent_first = match (&hit, &agent) {
        _ if af.mode == portcullis_core::Mode::Off => "off (`agent_first.mode`)".to_owned(),
        (None, _) => "allows: no domain".to_owned(),
        _ if agent_first::is_exempt(af, &rel).map_err(|e| e.to_string())? => {
            "allows: exempt (`agent_first.exempt`)".to_owned()
        }
        (Some(h), None) => format!(
            "allows: no developer agent for `{}` (`{}`)",
            h.domain,
            af.agent_pattern.replace("{domain}", &h.domain)
        ),
        (Some(_), Some(a)) => format!("sends the main thread's edits to `{a}`"),
    };
    let feedback_loop = match &hit {
        None => "does not track: no domain".to_owned(),
        Some(h) => match feedback_loop::tracks(fl, &h.domain, &rel).map_err(|e| e.to_string())? {
            Ok(()) => format!(
                "tracks edits: the turn waits for `{}` review and testing",
                h.domain
            ),
            Err(why) => format!("does not track: {why}"),
        },
    };
    Ok(PathReport {
        path: path.to_owned(),
        rel: Some(rel),
        hit,
        agent,
        agent_first,
        feedback_loop,
    })
}

/// The whole table: each domain's rules and agents.
fn table(
    map: &DomainMap,
    catalog: &AgentCatalog,
    af: &AgentFirstConfig,
    fl: &FeedbackLoopConfig,
    json_out: bool,
) -> String {
    let agent = |pattern: &str, domain: &str| {
        catalog
            .find_for_domain(&pattern.replace("{domain}", domain))
            .map(|a| a.name.clone())
    };
    let mut rows = Vec::new();
    let names = map.names();
    for domain in &names {
        let domain = *domain;
        let rules: Vec<&str> = map
            .rules()
            .filter(|(d, _)| *d == domain)
            .map(|(_, g)| g)
            .collect();
        // As feedback-loop finds them: by its patterns, or agents named or described as reviewers and
        // testers (`code-reviewer`, `test-runner`) for every domain.
        let (reviewer, tester) =
            feedback_loop::reviewer_and_tester(fl, catalog, domain, &names).unwrap_or((None, None));
        rows.push((
            domain.to_owned(),
            rules,
            agent(&af.agent_pattern, domain),
            reviewer,
            tester,
        ));
    }
    let manifest: Vec<&str> = map
        .rules()
        .filter(|(d, _)| *d == portcullis_domains::BY_MANIFEST)
        .map(|(_, g)| g)
        .collect();
    if json_out {
        let domains: Vec<Value> = rows
            .iter()
            .map(|(d, rules, dev, rev, test)| {
                json!({"domain": d, "rules": rules, "developer": dev, "reviewer": rev, "tester": test,
                       "fallback": map.fallback() == Some(d.as_str())})
            })
            .collect();
        return format!(
            "{}\n",
            json!({"domains": domains, "by_manifest": manifest, "fallback": map.fallback()})
        );
    }
    let mut t = String::new();
    for (d, rules, dev, rev, test) in &rows {
        let show = |a: &Option<String>| a.clone().unwrap_or_else(|| "-".into());
        let _ = writeln!(
            t,
            "{d}: developer {}, reviewer {}, tester {}",
            show(dev),
            show(rev),
            show(test)
        );
        if map.fallback() == Some(d.as_str()) && rules.is_empty() {
            let _ = writeln!(t, "  (fallback: source code no rule claims)");
        }
        for r in rules {
            let _ = writeln!(t, "  {r}");
        }
    }
    if !manifest.is_empty() {
        let _ = writeln!(
            t,
            "frontend or backend by the nearest package.json (else the fallback):\n  {}",
            manifest.join("\n  ")
        );
    }
    t
}
