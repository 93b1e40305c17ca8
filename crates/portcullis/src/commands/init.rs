//! `portcullis init`: the five-minute start (issue 36). It reads the project (its code, by the domain
//! table), writes a thin developer agent for each code domain and a reviewer and a tester when the project
//! has none (never over a file that exists), registers the hooks, and ends with a table of what is now
//! enforced and what is not, and why.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use agent_first::AgentFirstConfig;
use feedback_loop::FeedbackLoopConfig;
use portcullis_core::Env;
use portcullis_core::config::{Config, Mode, Schema};
use portcullis_domains::{AgentCatalog, DomainMap, is_source};

use super::{CmdResult, CodexOptions, Report};
use crate::settings::Scope;

/// The most entries the survey looks at (a home folder opened as a project must not take minutes).
const MAX_WALK_ENTRIES: usize = 100_000;

/// Folders that hold what tools make or fetch, not the project's own code: never walked.
const NOT_CODE: &[&str] = &[
    "node_modules",
    "target",
    "dist",
    "build",
    "out",
    "vendor",
    "venv",
    "__pycache__",
    "site-packages",
    "coverage",
];

/// The domain that holds prose: no developer is proposed for it.
const PROSE_DOMAIN: &str = "docs";

/// The reviewer and the tester init writes when the project has none; both serve every domain.
const REVIEWER: &str = "code-reviewer";
const TESTER: &str = "test-runner";

/// What `portcullis init` is asked to do.
#[derive(Debug)]
pub struct InitRequest {
    /// Where the hooks are registered: the project's `settings.json` or `settings.local.json`.
    pub scope: Scope,
    /// Where the hook binaries are.
    pub bin_dir: PathBuf,
    /// Show what would be written; write nothing.
    pub dry_run: bool,
}

/// One code domain as the survey found it.
#[derive(Debug, Default)]
struct DomainSurvey {
    files: usize,
    /// Top-level folders (`.` for files at the root).
    folders: BTreeSet<String>,
    /// Languages, by file extension.
    languages: BTreeSet<&'static str>,
    /// One file per folder and extension: what the test hints are worked out from.
    samples: BTreeMap<(String, String), String>,
}

/// The project's code by domain, and whether the walk stopped short.
#[derive(Debug, Default)]
struct Survey {
    domains: BTreeMap<String, DomainSurvey>,
    walked: usize,
    cut_short: bool,
}

/// An agent definition init writes, or one of the project's own that it keeps.
#[derive(Debug)]
struct AgentPlan {
    name: String,
    /// Why it is there: `develops frontend`, `reviews every domain`.
    role: String,
    /// `None`: the project has it already (or a file of that name is there).
    text: Option<String>,
}

/// `portcullis init`.
pub fn init(project: &Path, request: &InitRequest, env: &Env) -> CmdResult {
    refuse_non_project(project, env)?;
    let config = Config::load(env, project, Schema::suite(&portcullis_suite::sections()))
        .map_err(|e| format!("{e} (fix the config first: `portcullis doctor` shows it)"))?;
    let domains = DomainMap::from_config(
        &config.section().map_err(|e| e.to_string())?,
        &config.section().map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let af: AgentFirstConfig = config.section().map_err(|e| e.to_string())?;
    let fl: FeedbackLoopConfig = config.section().map_err(|e| e.to_string())?;
    // The registration is checked before anything is written: missing binaries stop init whole.
    let registration = super::install(
        &request.scope,
        &request.bin_dir,
        true,
        &CodexOptions::default(),
        env,
    )?;

    let survey = survey(project, &domains);
    let catalog = AgentCatalog::discover(project, env.claude_home().as_deref());
    let names: Vec<&str> = domains.names();
    let code_domains: Vec<&str> = survey
        .domains
        .keys()
        .map(String::as_str)
        .filter(|d| *d != PROSE_DOMAIN)
        .collect();
    let plans = plan_agents(project, &survey, &code_domains, &catalog, &af, &fl, &names);

    let mut out = String::new();
    let verb = if request.dry_run {
        "would write"
    } else {
        "wrote"
    };
    let _ = writeln!(out, "portcullis init: {}", project.display());
    write_survey(&mut out, &survey, &code_domains);
    if !plans.is_empty() {
        let _ = writeln!(out, "\nAgents (.claude/agents/):");
    }
    let agents_dir = project.join(".claude/agents");
    for plan in &plans {
        let file = format!("{}.md", plan.name);
        let done = match &plan.text {
            None => "kept".to_owned(),
            Some(_) if request.dry_run => verb.to_owned(),
            Some(text) => {
                write_new(&agents_dir.join(&file), text)?;
                verb.to_owned()
            }
        };
        let _ = writeln!(out, "  {done:<12} {file:<28} {}", plan.role);
    }

    let registration = if request.dry_run {
        registration
    } else {
        super::install(
            &request.scope,
            &request.bin_dir,
            false,
            &CodexOptions::default(),
            env,
        )?
    };
    let _ = writeln!(
        out,
        "\nHooks ({}):",
        request.scope.settings_path().display()
    );
    for line in registration_lines(&registration.text, request) {
        let _ = writeln!(out, "  {line}");
    }
    write_enforcement(&mut out, project, &survey, &code_domains, &plans, &af, &fl);
    if request.dry_run {
        let _ = writeln!(out, "\nDry run: nothing was written.");
    } else {
        let _ = writeln!(
            out,
            "\nNext: `portcullis doctor` checks the set-up; `portcullis domains PATH` explains one file's domain."
        );
    }
    Ok(Report::ok(out))
}

/// Install's report, with a dry run's diff told in one line (`install --dry-run` shows it whole).
fn registration_lines(text: &str, request: &InitRequest) -> Vec<String> {
    let mut lines = Vec::new();
    if text.lines().any(|l| l.starts_with("+++ ")) {
        let mut command = String::from("portcullis install --dry-run");
        if matches!(request.scope, Scope::ProjectLocal(_)) {
            command.push_str(" --local");
        }
        lines.push(format!(
            "would register the suite's {} hooks (`{command}` shows the change)",
            portcullis_suite::HOOKS.len()
        ));
    }
    lines.extend(
        text.lines()
            .filter(|l| {
                !l.trim().is_empty()
                    && !l.starts_with("--- ")
                    && !l.starts_with("+++ ")
                    && !l.starts_with("@@")
                    && !l.starts_with(['+', '-', ' '])
            })
            .map(str::to_owned),
    );
    lines
}

/// `/` and the home folder are not projects: init there would make every folder below one.
fn refuse_non_project(project: &Path, env: &Env) -> Result<(), String> {
    let home = env.var("HOME").map(PathBuf::from);
    if project.parent().is_none() || home.is_some_and(|h| h == project) {
        return Err(format!(
            "`{}` is not a project folder: run init in your project, or pass --project DIR",
            project.display()
        ));
    }
    if !project.is_dir() {
        return Err(format!("`{}` is not a folder", project.display()));
    }
    Ok(())
}

/// The project's code files by domain: hidden folders, dependencies and builds are skipped.
fn survey(project: &Path, domains: &DomainMap) -> Survey {
    let mut survey = Survey::default();
    let walk = walkdir::WalkDir::new(project)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            e.depth() == 0
                || !e.file_type().is_dir()
                || !(e
                    .file_name()
                    .to_str()
                    .is_none_or(|n| n.starts_with('.') || NOT_CODE.contains(&n))
                    || e.path().join("pyvenv.cfg").is_file())
        });
    for entry in walk.filter_map(Result::ok) {
        survey.walked += 1;
        if survey.walked > MAX_WALK_ENTRIES {
            survey.cut_short = true;
            break;
        }
        if !entry.file_type().is_file() {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(project) else {
            continue;
        };
        let Some(rel) = rel.to_str() else {
            continue;
        };
        let Some(hit) = domains.classify_in(project, rel) else {
            continue;
        };
        // Code counts for its domain; of other files, only prose is counted (a `package.json` is in
        // `web/`'s domain but says nothing about its code).
        if !is_source(rel) && hit.domain != PROSE_DOMAIN {
            continue;
        }
        let d = survey.domains.entry(hit.domain).or_default();
        d.files += 1;
        let (folder, parent) = match rel.split_once('/') {
            Some((top, _)) => (top.to_owned(), rel.rsplit_once('/').map_or("", |p| p.0)),
            None => (".".to_owned(), ""),
        };
        d.folders.insert(folder);
        let ext = Path::new(rel)
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_owned();
        d.languages.insert(language(&ext));
        d.samples
            .entry((parent.to_owned(), ext))
            .or_insert_with(|| rel.to_owned());
    }
    survey
}

/// A language's name by file extension, for the table.
fn language(ext: &str) -> &'static str {
    match ext {
        "ts" | "tsx" | "mts" | "cts" => "TypeScript",
        "js" | "jsx" | "mjs" | "cjs" => "JavaScript",
        "go" => "Go",
        "py" | "pyi" => "Python",
        "rs" => "Rust",
        "rb" => "Ruby",
        "java" => "Java",
        "kt" | "kts" => "Kotlin",
        "swift" => "Swift",
        "c" | "h" => "C",
        "cc" | "cpp" | "cxx" | "hpp" | "hh" | "hxx" => "C++",
        "cs" => "C#",
        "php" => "PHP",
        "css" | "scss" | "sass" | "less" => "CSS",
        "html" | "htm" => "HTML",
        "vue" => "Vue",
        "svelte" => "Svelte",
        "sh" | "bash" | "zsh" => "shell",
        "tf" | "hcl" => "Terraform",
        "sql" => "SQL",
        "md" | "mdx" | "rst" | "adoc" | "txt" => "prose",
        _ => "other",
    }
}

fn folders_text(d: &DomainSurvey) -> String {
    const SHOWN: usize = 4;
    let mut shown: Vec<String> = d
        .folders
        .iter()
        .take(SHOWN)
        .map(|f| {
            if f == "." {
                "(root)".into()
            } else {
                format!("{f}/")
            }
        })
        .collect();
    if d.folders.len() > SHOWN {
        shown.push(format!("{} more", d.folders.len() - SHOWN));
    }
    shown.join(", ")
}

fn write_survey(out: &mut String, survey: &Survey, code_domains: &[&str]) {
    let _ = writeln!(
        out,
        "\nCode by domain ({} files and folders looked at{}):",
        survey.walked.min(MAX_WALK_ENTRIES),
        if survey.cut_short {
            "; stopped there, so a domain may be missing"
        } else {
            ""
        }
    );
    if survey.domains.is_empty() {
        let _ = writeln!(
            out,
            "  none found: no source file here that a domain claims (`portcullis domains` shows the table)"
        );
    }
    for (name, d) in &survey.domains {
        let languages: Vec<&str> = d.languages.iter().copied().collect();
        let note = if code_domains.contains(&name.as_str()) {
            ""
        } else {
            "  (prose: no developer)"
        };
        let _ = writeln!(
            out,
            "  {name:<12} {:>6} files  {} ({}){note}",
            d.files,
            folders_text(d),
            languages.join(", ")
        );
    }
}

/// The developer of each code domain, and a reviewer and a tester, each either the project's own or a new
/// definition.
fn plan_agents(
    project: &Path,
    survey: &Survey,
    code_domains: &[&str],
    catalog: &AgentCatalog,
    af: &AgentFirstConfig,
    fl: &FeedbackLoopConfig,
    names: &[&str],
) -> Vec<AgentPlan> {
    let agents_dir = project.join(".claude/agents");
    let taken = |name: &str| {
        catalog.find_for_domain(name).is_some() || agents_dir.join(format!("{name}.md")).exists()
    };
    let mut plans = Vec::new();
    for domain in code_domains {
        let name = af.agent_pattern.replace("{domain}", domain);
        let text = (!taken(&name)).then(|| developer_text(&name, domain, &survey.domains[*domain]));
        plans.push(AgentPlan {
            name,
            role: format!("develops {domain}"),
            text,
        });
    }
    if code_domains.is_empty() {
        return plans;
    }
    let mut reviewers = BTreeSet::new();
    let mut testers = BTreeSet::new();
    for domain in code_domains {
        if let Ok((r, t)) = feedback_loop::reviewer_and_tester(fl, catalog, domain, names) {
            reviewers.extend(r);
            testers.extend(t);
        }
    }
    for (found, name, role, text) in [
        (reviewers, REVIEWER, "reviews", REVIEWER_TEXT),
        (testers, TESTER, "tests", TESTER_TEXT),
    ] {
        if found.is_empty() {
            plans.push(AgentPlan {
                name: name.to_owned(),
                role: format!("{role} every domain"),
                text: (!taken(name)).then(|| text.to_owned()),
            });
        } else {
            for name in found {
                plans.push(AgentPlan {
                    role: format!("{role} (the project's own)"),
                    name,
                    text: None,
                });
            }
        }
    }
    plans
}

fn developer_text(name: &str, domain: &str, d: &DomainSurvey) -> String {
    let languages: Vec<&str> = d.languages.iter().copied().collect();
    let folders = folders_text(d);
    format!(
        "---\n\
         name: {name}\n\
         description: Use when code of the {domain} domain ({folders}) is to be written or changed. \
         Implements features and fixes there, and only there.\n\
         tools: Read, Edit, Write, Bash, Grep, Glob\n\
         ---\n\
         \n\
         You are the {domain} developer of this project. You change the code of the {domain} domain \
         ({folders}; {}) and nothing else: `portcullis domains PATH` tells which domain a file is in.\n\
         \n\
         - Read the code around a change before making it; keep changes small and in the project's style.\n\
         - Run the tests of what you changed before you report.\n\
         - A file of another domain belongs to that domain's developer: say what it needs instead of \
         editing it.\n\
         - End with what you changed, file by file, and how you checked it, then one line \
         `STATUS: DONE`, `DONE_WITH_CONCERNS`, `NEEDS_CONTEXT` or `BLOCKED`, a dash and the reason \
         (what blocks you, or what you need).\n",
        languages.join(", ")
    )
}

const REVIEWER_TEXT: &str = "---
name: code-reviewer
description: Use when code has changed and must be reviewed before the work is done. Reads the change for correctness, clarity and missing tests; edits nothing.
tools: Read, Grep, Glob, Bash
---

You review changes to this project's code. You do not edit files.

1. Read the change: `git diff` and `git status`, then the code around each hunk.
2. Check that it does what was asked, handles errors and edge cases, fits the code around it, and comes
   with tests for what it changes.
3. List each problem with its file and line, and what to do about it. Say plainly when there is none.

End your final message with one line: `VERDICT: PASS` when the change can go in as it is, or
`VERDICT: FAIL` when something must be fixed first.
";

const TESTER_TEXT: &str = "---
name: test-runner
description: Use when code has changed and its tests must be run before the work is done. Runs each changed part's test suite and reports what fails; edits nothing.
tools: Read, Grep, Glob, Bash
---

You run this project's tests for what has changed. You do not edit files.

1. Find what changed: `git status` and `git diff --stat`.
2. Run the test suite of each changed part, where its project file is: `go test ./...` beside `go.mod`,
   `npm test` beside `package.json`, `pytest` for Python, `cargo test` beside `Cargo.toml`.
3. Report each failure with the test's name and the first lines of its message.

End your final message with one line: `VERDICT: PASS` when every suite you ran passed, or
`VERDICT: FAIL` when any failed or could not run.
";

/// Writes a new file; one that exists is never replaced (another process may have made it since).
fn write_new(path: &Path, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| format!("creating `{}`: {e}", dir.display()))?;
    }
    let mut file = match fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(()),
        Err(e) => return Err(format!("writing `{}`: {e}", path.display())),
    };
    file.write_all(text.as_bytes())
        .map_err(|e| format!("writing `{}`: {e}", path.display()))
}

/// The closing table: per code domain, who edits it, who reviews and what tests it; then what is left
/// unenforced and why.
fn write_enforcement(
    out: &mut String,
    project: &Path,
    survey: &Survey,
    code_domains: &[&str],
    plans: &[AgentPlan],
    af: &AgentFirstConfig,
    fl: &FeedbackLoopConfig,
) {
    let planned = |role: &str| -> Vec<&str> {
        plans
            .iter()
            .filter(|p| p.role.starts_with(role))
            .map(|p| p.name.as_str())
            .collect()
    };
    let reviewers = planned("reviews");
    let testers = planned("tests");
    let _ = writeln!(out, "\nEnforced:");
    if code_domains.is_empty() {
        let _ = writeln!(
            out,
            "  nothing per domain yet: no code was found (the guards still run: secrets, the workspace, loops)"
        );
    } else {
        let _ = writeln!(
            out,
            "  {:<12} {:<26} {:<16} testing",
            "domain", "main-thread edits go to", "review"
        );
    }
    for domain in code_domains {
        let developer = af.agent_pattern.replace("{domain}", domain);
        let samples: Vec<String> = survey.domains[*domain].samples.values().cloned().collect();
        let mut testing: Vec<String> = testers.iter().map(|t| format!("`{t}`")).collect();
        testing.extend(
            feedback_loop::test_hints(&samples, project)
                .into_iter()
                .map(|h| h.trim_start_matches("run ").to_owned()),
        );
        // A runner counts wherever it runs, project file or not (pytest with no pytest.ini).
        for runner in samples
            .iter()
            .filter(|f| feedback_loop::test_hints(std::slice::from_ref(f), project).is_empty())
            .filter_map(|f| feedback_loop::runner_of(f))
        {
            let runner = format!("`{runner}`");
            if !testing.iter().any(|t| t.starts_with(&runner)) {
                testing.push(runner);
            }
        }
        let agent_first = if af.mode == Mode::Off {
            "(agent-first is off)".to_owned()
        } else {
            developer
        };
        let _ = writeln!(
            out,
            "  {domain:<12} {agent_first:<26} {:<16} {}",
            reviewers.join(", "),
            testing.join(", or ")
        );
    }
    let mut not = Vec::new();
    if let Some(d) = survey.domains.get(PROSE_DOMAIN) {
        not.push(format!(
            "{PROSE_DOMAIN} (in {}): prose; the main thread may edit it and it is not reviewed",
            folders_text(d)
        ));
    }
    let skipped: Vec<&str> = code_domains
        .iter()
        .copied()
        .filter(|d| fl.skip_domains.iter().any(|s| s == d))
        .collect();
    if !skipped.is_empty() {
        not.push(format!(
            "review and testing of {}: `feedback_loop.skip_domains` skips them",
            skipped.join(", ")
        ));
    }
    not.push(format!(
        "files the main thread may always edit (`agent_first.exempt`): {}",
        af.exempt.join(", ")
    ));
    not.push(
        "files of no domain (notes, data, config without code): free for the main thread, not reviewed"
            .to_owned(),
    );
    let _ = writeln!(out, "\nNot enforced:");
    for line in not {
        let _ = writeln!(out, "  - {line}");
    }
}
