//! definition-audit: agent and skill definitions checked like code (seed 002 §6, the deterministic half
//! of the agent and skill audits).
//!
//! - **[`audit`]** is `portcullis audit`: every agent (`.claude/agents/**/*.md`), skill
//!   (`.claude/skills/**/SKILL.md`) and library skill (`audit.library`, default `.claude/skill-library`)
//!   of the project, of the plugins its settings enable, and with `--user` of `~/.claude/`, against the
//!   rules of [`Rule`]: frontmatter that loads, names and descriptions that are there, unique and
//!   discoverable, thin agents that either delegate or edit, tools that exist, no hard-coded library
//!   paths, and skills whose every referenced file and gateway route exists.
//! - **The hook** (`PostToolUse` of the file tools): when an agent writes a definition, that file's
//!   findings come back to it as context, never as a block, so it is fixed at once.
//! - **`ON_ERROR`**: [`Failure::Open`]: an audit is advice.
//! - **Budget**: a write of any other file ends after one look at its path; a definition write reads
//!   the definitions of its kind (names must be unique), about a millisecond per hundred files.

mod check;
mod config;
mod references;
mod rules;
mod sources;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use portcullis_core::config::SectionSpec;
use portcullis_core::hook::FILE_EDIT_MATCHER;
use portcullis_core::{Ctx, Event, EventName, Failure, Hook, Registration, Result, Verdict};
use serde_json::{Value, json};

pub use config::{AuditConfig, Level, Override};
pub use rules::{Finding, Rule, Severity};

use check::{Checked, Setting};
use sources::{Found, Kind, Roots};

/// Largest definition file read; a bigger one is reported, not read.
const MAX_FILE_BYTES: u64 = 1 << 20;

/// What to audit.
#[derive(Debug)]
pub struct Request<'a> {
    /// The project root.
    pub project: &'a Path,
    /// `~/.claude` (or `CLAUDE_CONFIG_DIR`): plugins, and the user's definitions with `user`.
    pub claude_home: Option<&'a Path>,
    /// Also the user's own agents and skills.
    pub user: bool,
    /// Report only on files under these (absolute) paths; definitions under them that the usual places
    /// miss (a plugin's source, a collection) are audited too. Empty: everything.
    pub only: &'a [PathBuf],
}

/// What an audit found.
#[derive(Debug, Default)]
pub struct Report {
    /// The findings, by file and line.
    pub findings: Vec<Finding>,
    /// Agent files looked at.
    pub agents: usize,
    /// Skill files looked at.
    pub skills: usize,
    /// Where the walk stopped short of everything (a limit reached): such an audit has not passed.
    pub incomplete: Vec<String>,
}

impl Report {
    /// Whether the audit passed: no error, and every place was walked whole.
    #[must_use]
    pub fn passed(&self) -> bool {
        self.errors() == 0 && self.incomplete.is_empty()
    }

    /// Errors among the findings.
    #[must_use]
    pub fn errors(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count()
    }

    /// The report as text: one line per finding (with its hint under it when `hints`), then a summary.
    #[must_use]
    pub fn to_text(&self, hints: bool) -> String {
        let mut out = String::new();
        for f in &self.findings {
            let _ = writeln!(out, "{}", f.headline());
            if hints {
                let _ = writeln!(out, "    fix: {}", f.hint);
            }
        }
        let errors = self.errors();
        let files = {
            let mut v: Vec<&Path> = self.findings.iter().map(|f| f.file.as_path()).collect();
            v.dedup();
            v.len()
        };
        let _ = writeln!(
            out,
            "{} error{}, {} warning{} in {files} file{} ({} agent{}, {} skill{} audited)",
            errors,
            plural(errors),
            self.findings.len() - errors,
            plural(self.findings.len() - errors),
            plural(files),
            self.agents,
            plural(self.agents),
            self.skills,
            plural(self.skills),
        );
        for why in &self.incomplete {
            let _ = writeln!(out, "incomplete: {why}");
        }
        out
    }

    /// The report as JSON: `{"findings": [{"file", "line", "rule", "severity", "message"}], ...}`, with
    /// `hint` on each finding when `hints`.
    #[must_use]
    pub fn to_json(&self, hints: bool) -> Value {
        let findings: Vec<Value> = self
            .findings
            .iter()
            .map(|f| {
                let mut v = json!({
                    "file": f.shown,
                    "line": f.line,
                    "rule": f.rule.id(),
                    "severity": f.severity.as_str(),
                    "message": f.message,
                });
                if hints {
                    v["hint"] = json!(f.hint);
                }
                v
            })
            .collect();
        json!({
            "findings": findings,
            "errors": self.errors(),
            "warnings": self.findings.len() - self.errors(),
            "agents": self.agents,
            "skills": self.skills,
            "incomplete": self.incomplete,
        })
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Audits the definitions `request` names under the rules and levels of `config`.
#[must_use]
pub fn audit(request: &Request<'_>, config: &AuditConfig) -> Report {
    let library = request.project.join(&config.library);
    let roots = Roots {
        project: request.project,
        claude_home: request.claude_home,
        user: request.user,
        library: &config.library,
    };
    let mut incomplete = Vec::new();
    let mut found = sources::discover(&roots, &mut incomplete);
    for p in request.only {
        let mut extra = Vec::new();
        sources::discover_in(p, &library, &mut extra, &mut incomplete);
        for f in extra {
            if !found.iter().any(|k| k.path == f.path) {
                found.push(f);
            }
        }
    }
    let setting = Setting {
        config,
        project: request.project,
        library: &library,
        seen: std::cell::RefCell::default(),
    };
    let in_scope =
        |f: &Found| request.only.is_empty() || request.only.iter().any(|o| f.path.starts_with(o));
    // Files outside a narrowed audit are read for their names only (names must be unique).
    let mut checked: Vec<Checked> = found
        .iter()
        .map(|f| match (read(&f.path), in_scope(f)) {
            (Ok(text), true) => check::check(f, &text, &setting),
            (Ok(text), false) => check::name_only(&text),
            (Err(why), _) => unreadable(&why),
        })
        .collect();
    let mut problems: Vec<(usize, check::Problem)> = checked
        .iter_mut()
        .enumerate()
        .flat_map(|(i, c)| {
            std::mem::take(&mut c.problems)
                .into_iter()
                .map(move |p| (i, p))
        })
        .collect();
    duplicates(&found, &checked, request, &mut problems);
    let levels = config::Levels::new(config);
    let mut findings: Vec<Finding> = problems
        .into_iter()
        .filter(|(i, _)| in_scope(&found[*i]))
        .filter_map(|(i, p)| {
            let file = found[i].path.clone();
            let shown = shown(&file, request.project, request.claude_home);
            let severity = levels.severity(p.rule, &shown)?;
            Some(Finding {
                file,
                shown,
                line: p.line,
                rule: p.rule,
                severity,
                message: p.message,
                hint: p.hint,
            })
        })
        .collect();
    findings.sort_by(|a, b| (&a.shown, a.line, a.rule).cmp(&(&b.shown, b.line, b.rule)));
    let audited = |skill: bool| {
        found
            .iter()
            .filter(|f| in_scope(f) && f.kind.is_skill() == skill)
            .count()
    };
    Report {
        findings,
        agents: audited(false),
        skills: audited(true),
        incomplete,
    }
}

/// Checks one definition's text on its own, as an agent (`agent`) or a `SKILL.md`: every rule that needs
/// no other file (names are not compared, and referenced files resolve in a project that does not
/// exist). The rule and 1-based line of each problem: the fuzzer's entry point.
#[must_use]
pub fn check_text(text: &str, agent: bool) -> Vec<(Rule, usize)> {
    let project = Path::new("/nonexistent-portcullis-project");
    let (path, kind) = if agent {
        (project.join(".claude/agents/fuzz.md"), Kind::Agent)
    } else {
        (project.join(".claude/skills/fuzz/SKILL.md"), Kind::Skill)
    };
    let config = AuditConfig::default();
    let library = project.join(&config.library);
    let setting = Setting {
        config: &config,
        project,
        library: &library,
        seen: std::cell::RefCell::default(),
    };
    let found = Found {
        path,
        kind,
        origin: sources::Origin::Project,
    };
    check::check(&found, text, &setting)
        .problems
        .iter()
        .map(|p| (p.rule, p.line))
        .collect()
}

/// Names shared within one source (agents with agents, skills with library skills): each file after
/// the first is reported, naming the first. "First" is discovery order: registered skills before the
/// library, and by path within each folder.
fn duplicates(
    found: &[Found],
    checked: &[Checked],
    request: &Request<'_>,
    problems: &mut Vec<(usize, check::Problem)>,
) {
    let mut seen: std::collections::HashMap<(&sources::Origin, bool, &str), usize> =
        std::collections::HashMap::new();
    for (i, (f, c)) in found.iter().zip(checked).enumerate() {
        let Some((name, line)) = &c.name else {
            continue;
        };
        match seen.get(&(&f.origin, f.kind.is_skill(), name.as_str())) {
            Some(&first) => {
                let other = shown(&found[first].path, request.project, request.claude_home);
                let what = if f.kind.is_skill() { "skill" } else { "agent" };
                problems.push((
                    i,
                    check::Problem {
                        rule: Rule::NameDuplicate,
                        line: *line,
                        message: format!(
                            "the {what} name `{name}` is also the name of `{other}`; Claude Code loads only one of them"
                        ),
                        hint: "give one of them another name, or delete the copy".to_string(),
                    },
                ));
            }
            None => {
                seen.insert((&f.origin, f.kind.is_skill(), name.as_str()), i);
            }
        }
    }
}

fn unreadable(why: &str) -> Checked {
    let mut c = Checked::default();
    c.problems.push(check::Problem {
        rule: Rule::FrontmatterSyntax,
        line: 1,
        message: format!("the file cannot be read: {why}"),
        hint: "make it a regular UTF-8 text file under 1 MiB".into(),
    });
    c
}

/// A definition's text: a regular file (never a FIFO or device), at most [`MAX_FILE_BYTES`], UTF-8.
fn read(path: &Path) -> std::result::Result<String, String> {
    use std::io::Read as _;
    let file = portcullis_core::files::open_regular(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format!("it is larger than {} KiB", MAX_FILE_BYTES / 1024));
    }
    String::from_utf8(bytes).map_err(|_| "it is not UTF-8 text".to_string())
}

/// A path as shown: project-relative inside the project, `~/.claude/...` in the user's folder.
fn shown(path: &Path, project: &Path, claude_home: Option<&Path>) -> String {
    if let Ok(rel) = path.strip_prefix(project) {
        return rel.to_string_lossy().into_owned();
    }
    if let Some(rel) = claude_home.and_then(|h| path.strip_prefix(h).ok()) {
        return format!("~/.claude/{}", rel.to_string_lossy());
    }
    path.to_string_lossy().into_owned()
}

/// The hook.
pub struct DefinitionAudit;

impl Hook for DefinitionAudit {
    const NAME: &'static str = "definition-audit";
    const SUMMARY: &'static str = "An agent or skill definition an agent writes is audited at once; its findings come back as context, never a block.";
    const EVENTS: &'static [Registration] =
        &[Registration::matching("PostToolUse", FILE_EDIT_MATCHER)];
    const ON_ERROR: Failure = Failure::Open;
    const SECTIONS: &'static [SectionSpec] = &[SectionSpec::of::<AuditConfig>()];

    fn decide(event: &Event, ctx: &Ctx) -> Result<Verdict> {
        if event.name() != EventName::PostToolUse {
            return Ok(Verdict::allow());
        }
        let home = ctx.env.claude_home();
        let written: Vec<PathBuf> = event
            .touched_paths()?
            .into_iter()
            .filter(|p| is_definition(p, ctx, home.as_deref()))
            .collect();
        if written.is_empty() {
            return Ok(Verdict::allow());
        }
        let config = ctx.section::<AuditConfig>()?;
        if !config.hook {
            return Ok(Verdict::allow());
        }
        let user = home
            .as_deref()
            .is_some_and(|h| written.iter().any(|p| p.starts_with(h)));
        let report = audit(
            &Request {
                project: &ctx.project,
                claude_home: home.as_deref(),
                user,
                only: &written,
            },
            &config,
        );
        if report.findings.is_empty() {
            return Ok(Verdict::allow());
        }
        let mut text = format!(
            "[definition-audit] the definition just written has {} problem{} (portcullis audit); fix {} now:\n",
            report.findings.len(),
            plural(report.findings.len()),
            if report.findings.len() == 1 {
                "it"
            } else {
                "them"
            }
        );
        for f in &report.findings {
            let _ = writeln!(text, "- {} Fix: {}", f.headline(), f.hint);
        }
        let rules: Vec<&str> = report.findings.iter().map(|f| f.rule.id()).collect();
        Ok(Verdict::allow()
            .with_context(text.trim_end().to_string())
            .with_log_mark(
                "audit",
                json!({"files": report.findings.iter().map(|f| f.shown.as_str()).collect::<std::collections::BTreeSet<_>>(), "rules": rules, "errors": report.errors()}),
            ))
    }
}

/// A written file that is a definition: a `SKILL.md`, or a Markdown file under the project's or the
/// user's `.claude/agents/`.
fn is_definition(path: &Path, ctx: &Ctx, home: Option<&Path>) -> bool {
    if path.file_name().is_some_and(|n| n == "SKILL.md") {
        return true;
    }
    let is_md = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("md"));
    is_md
        && (path.starts_with(ctx.project.join(".claude/agents"))
            || home.is_some_and(|h| path.starts_with(h.join("agents"))))
        && sources::kind_of(path, Path::new("/nonexistent")) == Some(Kind::Agent)
}

#[cfg(test)]
mod tests;
