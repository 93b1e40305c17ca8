//! output-location: agents' notes, plans and reports go under one folder (`.claude/.output/` by default).
//!
//! - **Events**: `SessionStart` (baseline), `PostToolUse` of the file tools (a subagent's stray writes),
//!   `SubagentStop` and `Stop` (check).
//! - **Baseline**: at `SessionStart` (startup, resume, clear) the stray-looking files that already exist
//!   are recorded, so only files that appeared during the session are ever blamed. A resumed session keeps
//!   its first baseline. Without one (hook installed mid-session, state lost), files modified after the
//!   session's first transcript timestamp count as new.
//! - **Check** (`scan`): Markdown files (`output_location.patterns`) outside the allowed places
//!   (`output_location.allowed` and the output folder) that are untracked or staged-but-never-committed.
//!   At `SubagentStop` only the subagent's own files count, so it moves its own files: those its file
//!   tools wrote (recorded at `PostToolUse`, since the client writes a subagent's transcript lazily and
//!   its last calls may be missing at `SubagentStop`) and those its transcript's tool inputs name (a
//!   `Bash` command that created one). At `Stop`, every new stray file (defence in depth), unless
//!   subagents are still running.
//! - **Decides**: block with one exact, quoted fix per file, safe for its git state (`advice`).
//!   Modified tracked files are named as not new and never moved. The chassis' stop chain
//!   ([`portcullis_core::stop_chain`]) lets go after `stop.max_consecutive_blocks` blocked stops in a row
//!   with no tool call between them.
//! - **`ON_ERROR`**: [`Failure::Open`]: a broken repository or config must not keep any agent from
//!   finishing.
//! - **State**: `sessions/<id>/output-location.json` (the baseline) and
//!   `sessions/<id>/output-location-writes.json` (stray writes per running subagent).

mod advice;
mod config;
mod scan;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::Path;

use portcullis_core::config::{Mode, SectionSpec};
use portcullis_core::event::FILE_EDIT_TOOLS;
use portcullis_core::hook::FILE_EDIT_MATCHER;
use portcullis_core::state::StateFile;
use portcullis_core::transcript::{Entry, contains_quoted};
use portcullis_core::{
    Ctx, Event, EventName, Failure, Hook, Registration, Result, Verdict, budget,
};
use serde::{Deserialize, Serialize};

use portcullis_domains::{Resolved, resolve};

use crate::scan::{Candidate, Matcher};

pub use config::OutputLocationConfig;

/// The most baseline paths kept (a project full of untracked notes must not bloat state).
pub const MAX_BASELINE: usize = 20_000;

/// The most stray writes kept per subagent, and the most subagents kept (a bound on state size).
pub const MAX_WRITES: usize = 1_000;

/// The hook.
pub struct OutputLocation;

/// Stray-looking files each running subagent wrote with a file tool, keyed by `agent_id`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Writes {
    /// `agent_id` → project-relative paths.
    pub by_agent: BTreeMap<String, BTreeSet<String>>,
}

impl StateFile for Writes {
    const NAME: &'static str = "output-location-writes";
    const SCHEMA_VERSION: u32 = 1;
}

/// What existed when the session started.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Baseline {
    /// Whether a baseline was taken (state files default to "not taken").
    pub taken: bool,
    /// When (RFC 3339).
    pub at: String,
    /// Stray-looking files (untracked or staged-new) that already existed, project-relative.
    pub paths: BTreeSet<String>,
}

impl StateFile for Baseline {
    const NAME: &'static str = "output-location";
    const SCHEMA_VERSION: u32 = 1;
}

impl Hook for OutputLocation {
    const NAME: &'static str = "output-location";
    const SUMMARY: &'static str = "Markdown outputs that appear outside .claude/.output/ block the subagent's or turn's end, with safe fix commands from the git state.";
    // The main path first.
    const EVENTS: &'static [Registration] = &[
        Registration::every("Stop"),
        Registration::every("SubagentStop"),
        Registration::matching("SessionStart", "startup|resume|clear"),
        Registration::matching("PostToolUse", FILE_EDIT_MATCHER),
    ];
    const ON_ERROR: Failure = Failure::Open;
    const SECTIONS: &'static [SectionSpec] = &[SectionSpec::of::<OutputLocationConfig>()];

    fn decide(event: &Event, ctx: &Ctx) -> Result<Verdict> {
        match event.name() {
            EventName::SessionStart => take_baseline(event, ctx),
            EventName::PostToolUse => record_write(event, ctx),
            EventName::SubagentStop | EventName::Stop => check(event, ctx),
            _ => Ok(Verdict::allow()),
        }
    }
}

fn config(ctx: &Ctx) -> Result<std::rc::Rc<OutputLocationConfig>> {
    ctx.section()
}

fn take_baseline(event: &Event, ctx: &Ctx) -> Result<Verdict> {
    let source = event.source.as_deref().unwrap_or("startup");
    if !matches!(source, "startup" | "resume" | "clear") || config(ctx)?.mode == Mode::Off {
        return Ok(Verdict::allow());
    }
    let state = ctx.state().session(event.session()?)?;
    if source == "resume" && state.load::<Baseline>()?.0.taken {
        return Ok(Verdict::allow());
    }
    let matcher = Matcher::new(&*config(ctx)?)?;
    let found = scan::scan(&ctx.project, &matcher, None)?;
    let paths: BTreeSet<String> = found
        .candidates
        .into_iter()
        .map(|c| c.path)
        .take(MAX_BASELINE)
        .collect();
    let at = ctx.now.to_rfc3339();
    state.update::<Baseline, _>(&ctx.deadline, |b| {
        *b = Baseline {
            taken: true,
            at,
            paths,
        };
    })?;
    Ok(Verdict::allow())
}

/// Records a subagent's file-tool writes that look like stray outputs. Writes of the main thread need
/// no record: `Stop` checks every new file.
fn record_write(event: &Event, ctx: &Ctx) -> Result<Verdict> {
    let Some(agent) = event.agent_id.as_deref() else {
        return Ok(Verdict::allow());
    };
    if !event.tool().is_some_and(|t| FILE_EDIT_TOOLS.contains(&t)) {
        return Ok(Verdict::allow());
    }
    let cfg = &*config(ctx)?;
    if cfg.mode == Mode::Off {
        return Ok(Verdict::allow());
    }
    let paths = event.touched_paths()?;
    if paths.is_empty() {
        return Ok(Verdict::allow());
    }
    let outputs = scan::output_patterns(cfg)?;
    let written: Vec<String> = paths
        .iter()
        .filter_map(
            |p| match resolve(&p.to_string_lossy(), &ctx.cwd, &ctx.project) {
                Resolved::Inside(rel) if outputs.is_match(&rel) => Some(rel),
                _ => None,
            },
        )
        .collect();
    if written.is_empty() {
        return Ok(Verdict::allow());
    }
    let matcher = Matcher::new(cfg)?;
    let strays: Vec<String> = written
        .into_iter()
        .filter(|rel| matcher.is_stray(rel))
        .collect();
    if strays.is_empty() {
        return Ok(Verdict::allow());
    }
    let state = ctx.state().session(event.session()?)?;
    state.update::<Writes, _>(&ctx.deadline, |w| {
        if !w.by_agent.contains_key(agent) && w.by_agent.len() >= MAX_WRITES {
            return;
        }
        let mine = w.by_agent.entry(agent.to_owned()).or_default();
        for rel in strays {
            if mine.len() < MAX_WRITES {
                mine.insert(rel);
            }
        }
    })?;
    Ok(Verdict::allow())
}

fn check(event: &Event, ctx: &Ctx) -> Result<Verdict> {
    let cfg = &*config(ctx)?;
    if cfg.mode == Mode::Off {
        return Ok(Verdict::allow());
    }
    // Running subagents are checked at their own SubagentStop; a later Stop sees what they leave.
    if event.name() == EventName::Stop && event.has_running_background_tasks() {
        return Ok(Verdict::allow());
    }
    let matcher = Matcher::new(cfg)?;
    let state = ctx.state().session(event.session()?)?;
    let (baseline, _) = state.load::<Baseline>()?;
    // Without a baseline, files modified after the session's first transcript line count as new.
    let fallback_start = if baseline.taken {
        None
    } else {
        let Some(start) = event
            .transcript_path
            .as_deref()
            .and_then(|p| session_start(Path::new(p)))
        else {
            ctx.note("no baseline and no readable transcript start: nothing can be told apart as new, nothing blamed");
            return Ok(Verdict::allow());
        };
        Some(start)
    };
    let since = fallback_start.or_else(|| {
        chrono::DateTime::parse_from_rfc3339(&baseline.at)
            .ok()
            .map(std::time::SystemTime::from)
    });
    let found = scan::scan(&ctx.project, &matcher, since)?;
    if found.truncated {
        ctx.note(format!(
            "the project walk stopped after {} entries; files further on were not checked",
            scan::MAX_WALK_ENTRIES
        ));
    }
    let new: Vec<Candidate> = found
        .candidates
        .iter()
        .filter(|c| match fallback_start {
            None => !baseline.paths.contains(&c.path),
            Some(start) => scan::modified(&ctx.project, &c.path).is_some_and(|m| m > start),
        })
        .cloned()
        .collect();
    let agent = event
        .agent_id
        .as_deref()
        .filter(|_| event.name() == EventName::SubagentStop);
    let written = match agent {
        Some(agent) => state
            .load::<Writes>()?
            .0
            .by_agent
            .remove(agent)
            .unwrap_or_default(),
        None => BTreeSet::new(),
    };
    let mine = if event.name() == EventName::SubagentStop {
        own_files(event, ctx, new, &written)
    } else {
        new
    };
    if mine.is_empty() {
        // A subagent that may end has no further use for its write record.
        if let (Some(agent), false) = (agent, written.is_empty()) {
            state.update::<Writes, _>(&ctx.deadline, |w| {
                w.by_agent.remove(agent);
            })?;
        }
        return Ok(Verdict::allow());
    }
    let bucket = if event.name() == EventName::SubagentStop {
        advice::bucket(event.agent_type.as_deref().unwrap_or("subagent"))
    } else {
        let session = event.session()?;
        format!(
            "session-{}",
            advice::bucket(session.get(..8).unwrap_or(session))
        )
    };
    let dest = format!("{}/{bucket}", matcher.output_dir);
    let project = ctx.project.clone();
    let fixes = advice::fixes(&mine, &dest, &|rel| project.join(rel).exists());
    let tracked = scan::modified_tracked(&ctx.project, &found.tracked_strays);
    let reason = advice::reason(&fixes, &tracked, &matcher.output_dir, &ctx.project);
    if cfg.mode == Mode::Warn {
        let names: Vec<&str> = fixes.iter().map(|f| f.path.as_str()).collect();
        return Ok(Verdict::allow().with_user_message(format!(
            "[output-location] (warn mode) Markdown outputs outside `{}/`: {}",
            matcher.output_dir,
            names.join(", ")
        )));
    }
    Ok(Verdict::block(reason))
}

/// The new stray files that are a subagent's own: those its file tools wrote (`written`, recorded at
/// `PostToolUse`) and those named by the `tool_use` inputs of its transcript (a `Bash` command that
/// created one). Only tool inputs count: the client puts `git status` output and other context into
/// every subagent's transcript, so plain text would blame agents for their neighbours' files (seen with
/// the real client). Without a readable transcript or a record, every new stray file is its own: better
/// one agent moves a neighbour's file than a stray file goes unseen.
fn own_files(
    event: &Event,
    ctx: &Ctx,
    new: Vec<Candidate>,
    written: &BTreeSet<String>,
) -> Vec<Candidate> {
    let inputs = event
        .agent_transcript_path
        .as_deref()
        .and_then(|path| read_tail(Path::new(path), budget::TRANSCRIPT_SCAN_BYTES).ok())
        .map(|text| tool_inputs(&text));
    let Some(inputs) = inputs else {
        return new;
    };
    new.into_iter()
        .filter(|c| {
            if written.contains(&c.path) {
                return true;
            }
            let abs = ctx.project.join(&c.path);
            let abs = abs.to_string_lossy();
            inputs
                .iter()
                .any(|i| i.contains(abs.as_ref()) || i.contains(&c.path))
        })
        .collect()
}

/// The `tool_use` inputs of a transcript's assistant lines, as JSON text.
fn tool_inputs(transcript: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    for line in transcript.split(|b| *b == b'\n') {
        if !contains_quoted(line, "tool_use") {
            continue;
        }
        let Ok(entry) = serde_json::from_slice::<Entry>(line) else {
            continue;
        };
        let Some(serde_json::Value::Array(blocks)) = entry.message.and_then(|m| m.content) else {
            continue;
        };
        for block in blocks {
            if block.get("type").and_then(serde_json::Value::as_str) == Some("tool_use")
                && let Some(input) = block.get("input")
            {
                out.push(input.to_string());
            }
        }
    }
    out
}

/// The last `cap` bytes of a file.
fn read_tail(path: &Path, cap: u64) -> std::io::Result<Vec<u8>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = portcullis_core::files::open_regular(path)?;
    let len = f.metadata()?.len();
    f.seek(SeekFrom::Start(len.saturating_sub(cap)))?;
    let mut out = Vec::new();
    f.take(cap).read_to_end(&mut out)?;
    Ok(out)
}

/// The first timestamp of a transcript: when the session started. Reads at most 64 lines and 8 MiB.
#[must_use]
pub fn session_start(transcript: &Path) -> Option<std::time::SystemTime> {
    let file = portcullis_core::files::open_regular(transcript).ok()?;
    // A bound on what is read, however long the first lines are.
    let reader = BufReader::new(std::io::Read::take(file, 8 << 20));
    for line in reader.split(b'\n').take(64) {
        let line = line.ok()?;
        if line.len() > 4 << 20 {
            continue;
        }
        let Ok(entry) = serde_json::from_slice::<Entry>(&line) else {
            continue;
        };
        if let Some(ts) = entry.timestamp.as_deref()
            && let Ok(t) = chrono::DateTime::parse_from_rfc3339(ts)
        {
            return Some(std::time::SystemTime::from(t));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_core::Decision;
    use portcullis_testkit::decide::TestProject;
    use serde_json::{Value, json};

    fn run(p: &TestProject, event: &Event, config: &Value) -> Verdict {
        OutputLocation::decide(event, &p.ctx::<OutputLocation>().config(config).build()).unwrap()
    }

    #[test]
    fn a_subagents_stray_markdown_blocks_its_stop_unless_allowed() {
        let p = TestProject::new();
        p.put("README.md", "# r\n");
        p.git(&["init", "-q"]);
        p.git(&["add", "-A"]);
        p.git(&["commit", "-qm", "init"]);
        let start = p.event("SessionStart-startup", &json!({}));
        assert!(
            run(&p, &start, &json!({})).is_silent(),
            "the baseline is taken silently"
        );
        let agent = json!({"agent_id": "a1", "agent_type": "writer"});
        let mut write = agent.clone();
        write["tool_input"] = json!({"file_path": p.path("NOTES.md"), "content": "n"});
        p.put("NOTES.md", "n");
        let mut stop = agent.clone();
        stop["agent_transcript_path"] = json!(p.path("agent.jsonl"));
        stop["prompt_id"] = json!("p");
        let post = p.event("PostToolUse-Write-subagent", &write);
        let stop = p.event("SubagentStop-subagent", &stop);
        assert!(run(&p, &post, &json!({})).is_silent());
        let v = run(&p, &stop, &json!({}));
        assert_eq!(v.decision, Decision::Block);
        assert!(v.reason_text().contains("NOTES.md"), "{}", v.reason_text());
        let allowed = json!({"output_location": {"allowed": ["NOTES.md"]}});
        assert!(run(&p, &post, &allowed).is_silent());
        assert!(run(&p, &stop, &allowed).is_silent());
    }
}
