//! `portcullis anneal`: repeated gate failures become a reviewed patch (seed 002 §10.2, issue 38).
//!
//! 1. **Find** ([`diagnose::patterns`]): each gate that blocked one agent type (or the main thread) more
//!    than 3 times, in one session or across sessions, from the decision log.
//! 2. **Diagnose**: each block's reason, and from the agent's own transcript what it said last before it
//!    (its claims: "tests pass") and whether it had run a test command since the block before.
//! 3. **Patch**: an "Anti-patterns" entry in the agent's definition (`.claude/agents/<type>.md`, as
//!    committed in HEAD) naming the behaviour, the gate and what to do instead.
//! 4. **Verify**: the patched definition has no audit finding the original had not
//!    ([`definition_audit::check_text`]), and a replay of each session that held the blocks, on HEAD's
//!    files before and after the patch, gives the same timeline (the patch changes prompts, not gates).
//! 5. **Commit** ([`git::commit`]) on a new branch `portcullis/anneal-<date>-<n>`, message
//!    `[Self-Annealing] …`, built with git2 from HEAD: the current branch, the index and the working tree
//!    are not touched, and nothing is pushed. A report goes to `.claude/.output/annealing/<date>.md`.
//!
//! `--dry-run` prints the diagnosis and the diff and writes nothing. `--advisor` also asks the advisor
//! (escalation-advisor's, `escalation_advisor.command`) to sum each diagnosis up in one paragraph, sent
//! redacted of secrets; the deterministic diagnosis stands whatever it answers.

mod diagnose;
mod git;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use portcullis_core::Env;
use portcullis_core::state::StateDir;
use portcullis_domains::{AgentCatalog, AgentSource};

use super::{CmdResult, Report};
use diagnose::Pattern;

/// What `portcullis anneal` was asked to do.
#[derive(Debug, Clone)]
pub struct AnnealRequest {
    /// The project.
    pub project: PathBuf,
    /// Only blocks from this day on (`YYYY-MM-DD`).
    pub since: Option<String>,
    /// Print the diagnosis and the diff; write nothing.
    pub dry_run: bool,
    /// Also ask the advisor (`escalation_advisor.command`) to sum each diagnosis up in one paragraph.
    pub advisor: bool,
}

/// The most files of HEAD written out for a replay check.
const MAX_REPLAY_FILES: usize = 20_000;
/// The most sessions replayed per run.
const MAX_REPLAYS: usize = 3;

/// `portcullis anneal`.
pub fn anneal(req: &AnnealRequest, env: &Env) -> CmdResult {
    if let Some(since) = &req.since
        && chrono::NaiveDate::parse_from_str(since, "%Y-%m-%d").is_err()
    {
        return Err(format!("--since takes a day as YYYY-MM-DD, not `{since}`"));
    }
    let log_path = StateDir::for_project(env, &req.project).log_path();
    let patterns = diagnose::patterns(&log_path, req.since.as_deref())?;
    if patterns.is_empty() {
        return Ok(Report::ok(format!(
            "no gate blocked one agent type more than {} times{}: nothing to anneal (decision log: {})\n",
            diagnose::MORE_THAN,
            req.since
                .as_deref()
                .map(|s| format!(" since {s}"))
                .unwrap_or_default(),
            log_path.display()
        )));
    }
    let repo = git::open(&req.project)?;
    let catalog = AgentCatalog::discover(&req.project, None);
    let date = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let mut report = format!("# [Self-Annealing] {date}\n\n");
    let mut patches: Vec<(String, String, String)> = Vec::new(); // (rel, before, after)
    let advisor = advisor_config(req, env)?;
    for p in &patterns {
        let start = report.len();
        diagnosis(&mut report, p);
        if let Some(advisor) = &advisor {
            let summary = summarise(advisor, &report[start..], &req.project);
            let _ = writeln!(report, "{summary}\n");
        }
        match patch_for(p, &catalog, &repo, &req.project) {
            Ok((rel, before, after)) => {
                let _ = writeln!(report, "Patch: an anti-pattern entry in `{rel}`.\n");
                if let Some(i) = patches.iter().position(|(r, ..)| *r == rel) {
                    // Two gates on one agent: both entries in the one file.
                    let merged = add_anti_pattern(&patches[i].2, &entry(p));
                    patches[i].2 = merged;
                } else {
                    patches.push((rel, before, after));
                }
            }
            Err(why) => {
                let _ = writeln!(report, "Not patched: {why}\n");
            }
        }
    }
    let mut diff = String::new();
    for (rel, before, after) in &patches {
        diff.push_str(&crate::diff::unified(before, after, rel, 3));
    }
    verify(&repo, req, &patterns, &mut patches, &mut report, env);
    if req.dry_run {
        return Ok(Report::ok(format!(
            "{report}\n{diff}(dry run: nothing written)\n"
        )));
    }
    if patches.is_empty() {
        return Ok(Report::ok(format!("{report}\nnothing to commit\n")));
    }
    let files: Vec<(String, String)> = patches
        .iter()
        .map(|(r, _, a)| (r.clone(), a.clone()))
        .collect();
    let message = commit_message(&patterns, &files);
    let (branch, id) = git::commit(&repo, &req.project, &files, &message, &date)?;
    let _ = writeln!(
        report,
        "\n## Commit\n\n`{id}` on the new branch `{branch}` (the current branch and the working tree are \
         unchanged; nothing was pushed). Review it with `git diff HEAD...{branch}`; merge it if it is right.\n\n```diff\n{diff}```"
    );
    let written = write_report(&req.project, &date, &report)?;
    Ok(Report::ok(format!(
        "{report}\nreport: {}\n",
        written.display()
    )))
}

/// The checks before a commit, written to the report; `patches` is emptied when the replay shows that the
/// patch changes what the hooks decide.
fn verify(
    repo: &git2::Repository,
    req: &AnnealRequest,
    patterns: &[Pattern],
    patches: &mut Vec<(String, String, String)>,
    report: &mut String,
    env: &Env,
) {
    if patches.is_empty() {
        return;
    }
    let _ = writeln!(report, "## Verification\n");
    let files: Vec<(String, String)> = patches
        .iter()
        .map(|(r, _, a)| (r.clone(), a.clone()))
        .collect();
    match verify_by_replay(repo, &req.project, patterns, &files, env) {
        Ok(lines) => report.push_str(&lines),
        Err(why) => {
            let _ = writeln!(
                report,
                "- replay: the patch changed what the hooks decide, so it is not committed: {why}"
            );
            patches.clear();
        }
    }
    let _ = writeln!(
        report,
        "- audit: no finding the definitions did not already have"
    );
}

/// The diagnosis of one pattern, in the report.
fn diagnosis(report: &mut String, p: &Pattern) {
    let _ = writeln!(
        report,
        "## {} held {} {} times\n\nBehaviour: {}.\n",
        p.hook,
        p.who(),
        p.blocks.len(),
        p.behaviour()
    );
    for b in &p.blocks {
        let said = b.said.as_deref().map_or_else(
            || "(its transcript could not be read)".to_owned(),
            |s| format!("\"{s}\""),
        );
        let ran = match b.ran_tests {
            Some(true) => "it had run tests",
            Some(false) => "no test command run before it",
            None => "whether it ran tests is unknown",
        };
        let claims = if b.claims.is_empty() {
            String::new()
        } else {
            format!(" (claims: {})", b.claims.join(", "))
        };
        let _ = writeln!(
            report,
            "- {} (session {}): {}\n  said {said}{claims}; {ran}.",
            b.time.get(..19).unwrap_or(&b.time).replace('T', " "),
            b.session.get(..8).unwrap_or(&b.session),
            diagnose::cut(&b.reason, 200)
        );
    }
    report.push('\n');
}

/// The advisor's config, when `--advisor` asks for it.
fn advisor_config(
    req: &AnnealRequest,
    env: &Env,
) -> Result<Option<portcullis_advisor::EscalationAdvisorConfig>, String> {
    if !req.advisor {
        return Ok(None);
    }
    let sections = portcullis_suite::sections();
    let config = portcullis_core::Config::load(
        env,
        &req.project,
        portcullis_core::config::Schema::suite(&sections),
    )
    .map_err(|e| e.to_string())?;
    config.section().map(Some).map_err(|e| e.to_string())
}

/// The advisor's one-paragraph summary of a diagnosis, sent redacted of secrets; when it gives none, a line
/// saying why (the deterministic diagnosis above stands either way).
fn summarise(
    advisor: &portcullis_advisor::EscalationAdvisorConfig,
    diagnosis: &str,
    project: &Path,
) -> String {
    let mut prompt = format!(
        "An AI coding agent keeps being held by a quality gate. Below is what the gate said each time and what \
         the agent said just before. In one short paragraph, say what the agent keeps doing wrong and what it \
         should do instead. Answer with the paragraph only.\n\n{diagnosis}"
    );
    let scanner =
        portcullis_secrets::Scanner::new(portcullis_secrets::files::project_values(project));
    if let Some((clean, _)) = scanner.redact(&prompt) {
        prompt = clean;
    }
    let timeout = std::time::Duration::from_secs(u64::from(advisor.timeout_secs));
    match portcullis_advisor::ask(&advisor.command, &prompt, project, timeout) {
        Ok(hint) => format!("Advisor's summary: {hint}"),
        Err(why) => format!("Advisor's summary: none ({why})."),
    }
}

/// The entry one pattern adds.
fn entry(p: &Pattern) -> String {
    let day = |t: &str| t.get(..10).unwrap_or(t).to_owned();
    let first = p.blocks.first().map(|b| day(&b.time)).unwrap_or_default();
    let last = p.blocks.last().map(|b| day(&b.time)).unwrap_or_default();
    let when = if first == last {
        first
    } else {
        format!("{first} to {last}")
    };
    format!(
        "- **{}** ({} held this {} times, {when}). Instead: {}.\n",
        p.behaviour(),
        p.hook,
        p.blocks.len(),
        p.instead()
    )
}

/// The definition to patch, its text in HEAD and the patched text, or why there is none.
fn patch_for(
    p: &Pattern,
    catalog: &AgentCatalog,
    repo: &git2::Repository,
    project: &Path,
) -> Result<(String, String, String), String> {
    let Some(agent_type) = &p.agent_type else {
        return Err(
            "the main thread has no agent definition; the entry is above for CLAUDE.md, by hand"
                .into(),
        );
    };
    let def = catalog
        .agents
        .iter()
        .find(|a| &a.name == agent_type && a.source == AgentSource::Project)
        .ok_or_else(|| {
            format!("`{agent_type}` is not defined in this project's .claude/agents/")
        })?;
    let rel = def
        .path
        .strip_prefix(project)
        .map_err(|_| format!("{} is outside the project", def.path.display()))?
        .to_string_lossy()
        .into_owned();
    let before = git::head_text(repo, project, &rel)
        .ok_or_else(|| format!("`{rel}` is not committed: the patch is made on HEAD's version"))?;
    let after = add_anti_pattern(&before, &entry(p));
    let rules = |text: &str| -> BTreeSet<&'static str> {
        definition_audit::check_text(text, true)
            .into_iter()
            .map(|(rule, _)| rule.id())
            .collect()
    };
    let new: Vec<&str> = rules(&after).difference(&rules(&before)).copied().collect();
    if !new.is_empty() {
        return Err(format!(
            "the entry would give `{rel}` audit findings it does not have ({}); shorten the definition first",
            new.join(", ")
        ));
    }
    Ok((rel, before, after))
}

/// `text` with `entry` at the end of its "Anti-patterns" section (any heading level), which is made at
/// the end when there is none.
pub(crate) fn add_anti_pattern(text: &str, entry: &str) -> String {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let heading = |l: &str| {
        let t = l.trim_start();
        let level = t.chars().take_while(|c| *c == '#').count();
        (level > 0 && t[level..].starts_with(' ')).then_some(level)
    };
    let section = lines.iter().position(|l| {
        heading(l).is_some()
            && l.trim()
                .trim_start_matches('#')
                .trim()
                .eq_ignore_ascii_case("anti-patterns")
    });
    let Some(at) = section else {
        let mut out = text.to_owned();
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str("\n## Anti-patterns\n\n");
        out.push_str(entry);
        return out;
    };
    let level = heading(lines[at]).unwrap_or(2);
    let end = lines[at + 1..]
        .iter()
        .position(|l| heading(l).is_some_and(|h| h <= level))
        .map_or(lines.len(), |i| at + 1 + i);
    // After the section's last non-blank line.
    let mut insert = end;
    while insert > at + 1 && lines[insert - 1].trim().is_empty() {
        insert -= 1;
    }
    let mut out: String = lines[..insert].concat();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    if insert == at + 1 {
        out.push('\n');
    }
    out.push_str(entry);
    let rest: String = lines[insert..].concat();
    if !rest.is_empty() && !rest.starts_with('\n') {
        out.push('\n');
    }
    out.push_str(&rest);
    out
}

/// Replays up to [`MAX_REPLAYS`] sessions that held the blocks on HEAD's files, before and after the
/// patch; the timelines must be the same. Returns the report's lines.
fn verify_by_replay(
    repo: &git2::Repository,
    project: &Path,
    patterns: &[Pattern],
    files: &[(String, String)],
    env: &Env,
) -> Result<String, String> {
    let mut sessions: Vec<PathBuf> = patterns
        .iter()
        .flat_map(|p| &p.blocks)
        .filter_map(|b| main_transcript(b.transcript.as_deref()?))
        .filter(|t| t.is_file())
        .collect();
    sessions.sort();
    sessions.dedup();
    if sessions.is_empty() {
        return Ok("- replay: not run, no session's transcript was found\n".into());
    }
    let bin_dir = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    let mut out = String::new();
    for transcript in sessions.iter().take(MAX_REPLAYS) {
        let copy = tempfile::tempdir().map_err(|e| e.to_string())?;
        if !git::export_head(repo, project, copy.path(), MAX_REPLAY_FILES)? {
            let _ = writeln!(
                out,
                "- replay: not run, HEAD holds more than {MAX_REPLAY_FILES} files"
            );
            return Ok(out);
        }
        std::fs::create_dir_all(copy.path().join(".git")).map_err(|e| e.to_string())?;
        let run = |copy: &Path| -> Result<String, String> {
            let opts = crate::replay::Options {
                transcript: transcript.clone(),
                hooks: None,
                project: Some(copy.to_path_buf()),
                bin_dir: bin_dir.clone(),
                json: false,
                expect: None,
                bless: false,
            };
            crate::replay::replay(&opts, env).map(|r| r.text)
        };
        let before = run(copy.path())?;
        for (rel, text) in files {
            std::fs::write(copy.path().join(rel), text).map_err(|e| e.to_string())?;
        }
        let after = run(copy.path())?;
        if before != after {
            return Err(format!("the replay of {} differs", transcript.display()));
        }
        let _ = writeln!(
            out,
            "- replay of {}: the same decisions with and without the patch",
            transcript.display()
        );
    }
    Ok(out)
}

/// The main transcript of a session from the transcript a block names (a subagent's is
/// `<session>/subagents/agent-<id>.jsonl` beside `<session>.jsonl`).
fn main_transcript(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_string_lossy();
    if !name.starts_with("agent-") {
        return Some(path.to_path_buf());
    }
    let session_dir = path.parent()?.parent()?;
    let session = session_dir.file_name()?.to_string_lossy().into_owned();
    Some(session_dir.parent()?.join(format!("{session}.jsonl")))
}

fn commit_message(patterns: &[Pattern], files: &[(String, String)]) -> String {
    let mut m = format!(
        "[Self-Annealing] {} anti-pattern entr{} from repeated gate blocks\n\n",
        patterns.len(),
        if patterns.len() == 1 { "y" } else { "ies" }
    );
    for p in patterns {
        let _ = writeln!(
            m,
            "- {} held {} {} times: {}",
            p.hook,
            p.who(),
            p.blocks.len(),
            p.behaviour()
        );
    }
    let _ = writeln!(
        m,
        "\nFiles: {}\nMade by `portcullis anneal` from the decision log; review before merging.",
        files
            .iter()
            .map(|(r, _)| r.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    m
}

/// `.claude/.output/annealing/<date>.md` (or `<date>-<n>.md` when that exists).
fn write_report(project: &Path, date: &str, text: &str) -> Result<PathBuf, String> {
    let dir = project.join(".claude/.output/annealing");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = (1..10_000)
        .map(|n| {
            if n == 1 {
                dir.join(format!("{date}.md"))
            } else {
                dir.join(format!("{date}-{n}.md"))
            }
        })
        .find(|p| !p.exists())
        .unwrap_or_else(|| dir.join(format!("{date}.md")));
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_goes_to_the_end_of_the_anti_patterns_section_or_a_new_one() {
        let e = "- **X** (gate held this 4 times). Instead: y.\n";
        assert_eq!(
            add_anti_pattern("---\nname: a\n---\nBody.\n", e),
            format!("---\nname: a\n---\nBody.\n\n## Anti-patterns\n\n{e}")
        );
        assert_eq!(
            add_anti_pattern("Body\n\n## Anti-patterns\n\n- old\n\n## Tools\n\nt\n", e),
            format!("Body\n\n## Anti-patterns\n\n- old\n{e}\n## Tools\n\nt\n")
        );
        assert_eq!(
            add_anti_pattern("## anti-patterns\n", e),
            format!("## anti-patterns\n\n{e}")
        );
        assert_eq!(
            add_anti_pattern("no newline", e),
            format!("no newline\n\n## Anti-patterns\n\n{e}")
        );
    }

    #[test]
    fn a_subagents_transcript_leads_to_its_session() {
        assert_eq!(
            main_transcript(Path::new("/p/sess/subagents/agent-a1.jsonl")).unwrap(),
            PathBuf::from("/p/sess.jsonl")
        );
        assert_eq!(
            main_transcript(Path::new("/p/sess.jsonl")).unwrap(),
            PathBuf::from("/p/sess.jsonl")
        );
    }
}
