//! The checks of one definition file.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

use crate::config::AuditConfig;
use crate::rules::Rule;
use crate::sources::{Found, Kind};
use portcullis_frontmatter::{self as frontmatter, Fields, Parsed};

/// Claude Code 2.1.329's tools (its `BUILTIN_TOOL_NAMES` and the tools it lists beside them).
const TOOLS: &[&str] = &[
    "Agent",
    "AskUserQuestion",
    "Bash",
    "BashOutput",
    "Edit",
    "EnterPlanMode",
    "EnterWorktree",
    "ExitPlanMode",
    "ExitWorktree",
    "Glob",
    "Grep",
    "JavaScript",
    "KillShell",
    "LSP",
    "ListMcpResourcesTool",
    "Monitor",
    "NotebookEdit",
    "REPL",
    "Read",
    "ReadMcpResourceTool",
    "SendMessage",
    "SendUserMessage",
    "Skill",
    "Task",
    "TaskCreate",
    "TaskGet",
    "TaskList",
    "TaskOutput",
    "TaskStop",
    "TaskUpdate",
    "TeamCreate",
    "TeamDelete",
    "TodoWrite",
    "ToolSearch",
    "WebFetch",
    "WebSearch",
    "Write",
];

/// Tools older clients had, with what replaced them.
const RETIRED: &[(&str, &str)] = &[
    ("MultiEdit", "Edit"),
    ("LS", "Glob or Bash `ls`"),
    ("NotebookRead", "Read"),
    ("KillBash", "KillShell"),
    ("SlashCommand", "Skill"),
];

const DELEGATION: &[&str] = &["Agent", "Task"];
const EDITING: &[&str] = &["Edit", "Write", "MultiEdit", "NotebookEdit"];

/// "Use when ...", "... when building UI", "Use this agent when ...", "Use PROACTIVELY for ...", "Use at
/// the end of a session", "Invoke after ...", "Triggers: ...".
static TRIGGER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(when|whenever)\b|\b(use|used|invoke|call|spawn|delegate|trigger|run|apply|load)\b[^.\n]{0,80}?\b(for|if|after|before|proactively|during|on|at|to)\b|\btriggers?:",
    )
    .expect("valid regex")
});

static NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z0-9]+(-[a-z0-9]+)*$").expect("valid regex"));

/// What checking one file gives.
#[derive(Debug, Default)]
pub(crate) struct Checked {
    /// The name, when there is one (for the uniqueness check).
    pub(crate) name: Option<(String, usize)>,
    /// Rule, line, message, hint.
    pub(crate) problems: Vec<Problem>,
}

/// One problem before its severity is looked up.
#[derive(Debug)]
pub(crate) struct Problem {
    pub(crate) rule: Rule,
    pub(crate) line: usize,
    pub(crate) message: String,
    pub(crate) hint: String,
}

impl Checked {
    pub(crate) fn add(
        &mut self,
        rule: Rule,
        line: usize,
        message: String,
        hint: impl Into<String>,
    ) {
        self.problems.push(Problem {
            rule,
            line,
            message,
            hint: hint.into(),
        });
    }
}

/// What a check needs besides the file.
pub(crate) struct Setting<'a> {
    pub(crate) config: &'a AuditConfig,
    pub(crate) project: &'a Path,
    pub(crate) library: &'a Path,
    /// Paths already looked up: hundreds of skills link the same few files.
    pub(crate) seen: std::cell::RefCell<std::collections::HashMap<PathBuf, bool>>,
}

impl Setting<'_> {
    /// Whether `path` exists, each path looked up once per audit.
    pub(crate) fn exists(&self, path: &Path) -> bool {
        if let Some(known) = self.seen.borrow().get(path) {
            return *known;
        }
        let found = path.exists();
        self.seen.borrow_mut().insert(path.to_path_buf(), found);
        found
    }
}

/// Only the name of a definition (and its line): what the uniqueness check needs of the files outside a
/// narrowed audit.
pub(crate) fn name_only(text: &str) -> Checked {
    let mut out = Checked::default();
    if let Ok(split) = frontmatter::split(text)
        && let Parsed::Strict(fields) | Parsed::Lenient(fields, ..) = frontmatter::parse(&split)
    {
        out.name = frontmatter::text(&fields, "name")
            .filter(|n| !n.trim().is_empty())
            .map(|n| (n, key_line(split.yaml, split.yaml_line, "name")));
    }
    out
}

/// Checks one definition whose text is `text`.
pub(crate) fn check(found: &Found, text: &str, s: &Setting<'_>) -> Checked {
    let mut out = Checked::default();
    let what = if found.kind == Kind::Agent {
        "agent"
    } else {
        "skill"
    };
    let split = match frontmatter::split(text) {
        Ok(split) => split,
        Err(missing) => {
            let message = match missing {
                frontmatter::Missing::NoOpening => {
                    format!("this {what} file has no frontmatter, so Claude Code cannot load it")
                }
                frontmatter::Missing::Unclosed => {
                    "the frontmatter opened by `---` is never closed".to_string()
                }
            };
            out.add(
                Rule::FrontmatterMissing,
                1,
                message,
                "start the file with `---`, then `name: ...` and `description: ...`, then a line `---`",
            );
            return out;
        }
    };
    let fields = match frontmatter::parse(&split) {
        Parsed::Strict(f) => f,
        Parsed::Lenient(f, why, line) => {
            out.add(
                Rule::FrontmatterLenient,
                line,
                format!(
                    "the frontmatter is not valid YAML ({why}); Claude Code reads it only by quoting values itself"
                ),
                "quote the value (a `: ` or ` #` inside a plain value breaks YAML), or use `description: >-` and indent the text below",
            );
            f
        }
        Parsed::Broken(why, line) => {
            out.add(
                Rule::FrontmatterSyntax,
                line,
                format!("the frontmatter cannot be read: {why}"),
                "fix the YAML between the `---` lines: one `key: value` per line, lists as `[a, b]` or `- a` lines",
            );
            return out;
        }
    };
    let line_of = |key: &str| key_line(split.yaml, split.yaml_line, key);
    let name = frontmatter::text(&fields, "name").filter(|n| !n.trim().is_empty());
    let description = frontmatter::text(&fields, "description").filter(|d| !d.trim().is_empty());
    check_name(
        &mut out,
        found,
        name.as_deref(),
        line_of("name"),
        split.yaml_line,
    );
    match &description {
        None => out.add(
            Rule::FieldMissing,
            split.yaml_line,
            format!("the {what} has no `description`"),
            format!(
                "add `description: <what it does>. Use when <situation>.`: Claude picks {what}s by it"
            ),
        ),
        Some(d) if !TRIGGER.is_match(d) => out.add(
            Rule::DescriptionTrigger,
            line_of("description"),
            format!("the description does not say when to use this {what}"),
            "end it with `Use when <the situations it is for>.`, so Claude knows when to pick it",
        ),
        Some(_) => {}
    }
    let lines = text.lines().count();
    if found.kind == Kind::Agent {
        check_agent(&mut out, &fields, &split, name.as_deref(), lines, s);
    } else {
        let max = s.config.skill_max_lines;
        if lines > max {
            out.add(
                Rule::SkillLength,
                max + 1,
                format!("the skill is {lines} lines; at most {max}"),
                "move detail into reference files beside SKILL.md and link them, or split the skill",
            );
        }
        crate::references::check(&mut out, found, &split, name.as_deref(), s);
    }
    out
}

/// The name is there, well-formed, and its file's (or folder's).
fn check_name(out: &mut Checked, found: &Found, name: Option<&str>, line: usize, first: usize) {
    let what = if found.kind == Kind::Agent {
        "agent"
    } else {
        "skill"
    };
    let expected = expected_name(found);
    let Some(n) = name else {
        out.add(
            Rule::FieldMissing,
            first,
            format!("the {what} has no `name`"),
            format!(
                "add `name: {}`",
                expected.as_deref().unwrap_or("lowercase-with-hyphens")
            ),
        );
        return;
    };
    out.name = Some((n.to_string(), line));
    if !NAME.is_match(n) || n.len() > 64 {
        out.add(
            Rule::NameFormat,
            line,
            format!("the name `{n}` is not lowercase letters, digits and hyphens (at most 64)"),
            format!("rename it `{}`", suggest_name(n)),
        );
    }
    // An agent's name may carry a namespace before its file's name (`team-code-reviewer` in
    // `code-reviewer.md`): plugins prefix names on purpose so they do not collide.
    let namespaced = |e: &str| found.kind == Kind::Agent && n.ends_with(&format!("-{e}"));
    if let Some(e) = expected.as_deref().filter(|e| *e != n && !namespaced(e)) {
        let (thing, fix) = if found.kind == Kind::Agent {
            (
                "file",
                format!("rename the file `{n}.md`, or the agent `{e}`"),
            )
        } else {
            (
                "folder",
                format!("rename the folder `{n}`, or the skill `{e}`"),
            )
        };
        out.add(
            Rule::NameMismatch,
            line,
            format!("the name `{n}` is not its {thing}'s name `{e}`"),
            fix,
        );
    }
}

fn check_agent(
    out: &mut Checked,
    fields: &Fields,
    split: &frontmatter::Split<'_>,
    name: Option<&str>,
    lines: usize,
    s: &Setting<'_>,
) {
    let lead = name.is_some_and(|n| {
        s.config
            .lead_suffixes
            .iter()
            .any(|x| n.ends_with(x.as_str()))
    });
    let max = if lead {
        s.config.lead_max_lines
    } else {
        s.config.agent_max_lines
    };
    if lines > max {
        out.add(
            Rule::AgentLength,
            max + 1,
            format!(
                "the agent is {lines} lines; at most {max}{}",
                if lead { " for a lead or architect" } else { "" }
            ),
            "keep the agent thin: move knowledge into skills it loads through its gateway",
        );
    }
    check_tools(out, fields, split, s);
    let library = format!("{}/", s.config.library.trim_end_matches('/'));
    for (i, line) in split.body.lines().enumerate() {
        if line.contains(&library) {
            out.add(
                Rule::LibraryPath,
                split.body_line + i,
                format!("the agent reads a library skill by its path (`{library}...`)"),
                format!(
                    "invoke the domain's gateway skill (`{}<domain>`) and let it route to the library",
                    s.config.gateway_prefix
                ),
            );
        }
    }
}

/// Every tool named exists, none is retired, and the agent does not both delegate and edit.
fn check_tools(
    out: &mut Checked,
    fields: &Fields,
    split: &frontmatter::Split<'_>,
    s: &Setting<'_>,
) {
    for key in ["tools", "disallowedTools"] {
        let Some(tools) = frontmatter::list(fields, key) else {
            continue;
        };
        let line = key_line(split.yaml, split.yaml_line, key);
        for tool in &tools {
            let base = tool.split('(').next().unwrap_or(tool).trim();
            if base == "*"
                || base.starts_with("mcp__")
                || TOOLS.contains(&base)
                || s.config.extra_tools.iter().any(|t| t == base)
            {
                continue;
            }
            if let Some((_, instead)) = RETIRED.iter().find(|(t, _)| *t == base) {
                out.add(
                    Rule::ToolRetired,
                    line,
                    format!("`{base}` is no longer a Claude Code tool"),
                    format!("use {instead} instead"),
                );
                continue;
            }
            let near = TOOLS
                .iter()
                .map(|t| {
                    (
                        strsim::levenshtein(&t.to_lowercase(), &base.to_lowercase()),
                        t,
                    )
                })
                .min()
                .filter(|(d, _)| *d <= 2)
                .map_or_else(
                    || {
                        "name one of Claude Code's tools, or an MCP tool as `mcp__server__tool`"
                            .to_string()
                    },
                    |(_, t)| format!("did you mean `{t}`?"),
                );
            out.add(
                Rule::ToolUnknown,
                line,
                format!("`{base}` in `{key}` is not a tool, so the agent silently goes without it"),
                near,
            );
        }
        if key == "tools" {
            let has = |set: &[&str]| {
                tools.iter().find(|t| {
                    let base = t.split('(').next().unwrap_or(t).trim();
                    set.contains(&base)
                })
            };
            if let (Some(d), Some(e)) = (has(DELEGATION), has(EDITING)) {
                out.add(
                    Rule::DelegatesAndEdits,
                    line,
                    format!(
                        "the agent can both delegate (`{d}`) and edit (`{e}`); an agent coordinates or executes, never both"
                    ),
                    "split it: a coordinator with Agent and Read, and an executor with Edit and Write",
                );
            }
        }
    }
}

/// The name the file's place gives: an agent's file stem, a skill's folder.
fn expected_name(found: &Found) -> Option<String> {
    let p = if found.kind.is_skill() {
        found.path.parent()?.file_name()?
    } else {
        found.path.file_stem()?
    };
    p.to_str().map(str::to_string)
}

fn suggest_name(n: &str) -> String {
    let mut s = String::new();
    for c in n.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('-') && !s.is_empty() {
            s.push('-');
        }
    }
    s.trim_end_matches('-').chars().take(64).collect()
}

/// The 1-based file line of top-level `key:` in the frontmatter, else the frontmatter's first line.
fn key_line(yaml: &str, first: usize, key: &str) -> usize {
    yaml.lines()
        .position(|l| {
            l.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
        })
        .map_or(first, |i| first + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triggers_in_the_forms_collections_use() {
        for d in [
            "Reviews code. Use when a change is ready for review.",
            "Use this agent when you need a plan.",
            "Expert in Go. Use PROACTIVELY for refactoring.",
            "Invoke after any edit to tests.",
            "Triggers: deploy, release",
            "Helps when the user asks about billing",
            "Guidance for visual design when building new UI.",
            "Use at the end of every work session.",
            "Use this agent to update drifted docs.",
        ] {
            assert!(TRIGGER.is_match(d), "{d}");
        }
        for d in [
            "Reviews code.",
            "A Python expert",
            "Useful helper for things",
        ] {
            assert!(!TRIGGER.is_match(d), "{d}");
        }
    }

    #[test]
    fn names_are_suggested_in_the_allowed_form() {
        assert_eq!(suggest_name("My Agent_v2"), "my-agent-v2");
        assert!(NAME.is_match("go-dev2"));
        assert!(!NAME.is_match("Go-dev") && !NAME.is_match("a--b") && !NAME.is_match("plugin:x"));
    }
}
