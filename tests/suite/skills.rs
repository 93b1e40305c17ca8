//! skill-gateway as a process on captured events over the fixture library `fixtures/skills/project`
//! (38 skills, a gateway with a routing table), and `portcullis skills`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::context_of;
use portcullis_testkit::decide::captured;
use portcullis_testkit::{fixture_copy, run_with_stdin, workspace_bin};
use serde_json::{Value, json};

const REACT_PERF: &str = ".claude/skill-library/frontend/optimizing-react-performance/SKILL.md";
const OUTPUTS: &str = ".claude/skill-library/agents/persisting-agent-outputs/SKILL.md";

fn project() -> (tempfile::TempDir, PathBuf) {
    fixture_copy("skills/project")
}

fn gateway(project: &Path, event: &Value) -> Output {
    run_with_stdin(
        Command::new(workspace_bin("skill-gateway"))
            .current_dir(project)
            .env("HOME", project.parent().unwrap().join("home"))
            .env_remove("CLAUDE_CONFIG_DIR")
            .env_remove("PORTCULLIS_CONFIG")
            .env("CLAUDE_PROJECT_DIR", project),
        event.to_string().as_bytes(),
    )
    .unwrap()
}

fn prompt(project: &Path, session: &str, text: &str) -> Output {
    gateway(
        project,
        &captured(
            "UserPromptSubmit",
            project,
            session,
            &json!({"prompt": text}),
        ),
    )
}

fn log(project: &Path) -> Vec<Value> {
    std::fs::read_to_string(project.join(".claude/portcullis/log.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_prompt_gets_the_skills_that_fit_once_per_session_unless_it_names_them() {
    let (_t, p) = project();
    let first = context_of(&prompt(
        &p,
        "s1",
        "The dashboard component re-renders on every keystroke and typing lags",
    ));
    assert!(
        first.starts_with("Read these skill files before you start"),
        "{first}"
    );
    assert!(
        first.contains(&format!(
            "- `{REACT_PERF}`: Diagnose and fix slow React rendering"
        )),
        "{first}"
    );
    assert!(first.lines().count() <= 4, "at most 3 skills: {first}");
    // Offered already: the same ask again gets nothing new.
    let again = prompt(
        &p,
        "s1",
        "the dashboard still re-renders on every keystroke",
    );
    assert!(!context_of(&again).contains(REACT_PERF));
    // Named: offered again.
    let named = context_of(&prompt(
        &p,
        "s1",
        "apply optimizing-react-performance to the settings list too",
    ));
    assert!(named.contains(REACT_PERF), "{named}");
    // After a compaction the context no longer holds them: offered again.
    let compact = captured("SessionStart-compact", &p, "s1", &json!({}));
    assert!(gateway(&p, &compact).stdout.is_empty());
    let after = context_of(&prompt(
        &p,
        "s1",
        "the dashboard still re-renders on every keystroke",
    ));
    assert!(after.contains(REACT_PERF), "{after}");
    // Another session starts fresh.
    let other = context_of(&prompt(
        &p,
        "s2",
        "the dashboard component re-renders on every keystroke",
    ));
    assert!(other.contains(REACT_PERF));
    let entries = log(&p);
    let routes: Vec<&Value> = entries.iter().filter(|e| e["verdict"] == "route").collect();
    assert_eq!(routes.len(), 4, "{routes:?}");
    assert_eq!(routes[0]["hook"], "skill-gateway");
    assert!(routes[0]["detail"]["skills"][0]["score"].as_f64().unwrap() > 0.0);
}

#[test]
fn small_talk_and_task_notifications_get_nothing() {
    let (_t, p) = project();
    for text in [
        "thanks!",
        "ok",
        "what did you just change?",
        "where are we?",
    ] {
        let out = prompt(&p, "s", text);
        assert!(
            out.stdout.is_empty(),
            "{text}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let notification = captured(
        "UserPromptSubmit",
        &p,
        "s",
        &json!({"prompt": "<task-notification> the dashboard re-renders on every keystroke", "source": "system"}),
    );
    assert!(gateway(&p, &notification).stdout.is_empty());
    assert!(log(&p).iter().all(|e| e["verdict"] != "route"));
}

#[test]
fn an_agent_task_gets_the_paths_in_its_prompt_and_keeps_the_rest_of_its_input() {
    let (_t, p) = project();
    let task = "The api pod is in CrashLoopBackOff after the deploy; fix the readiness probe";
    let event = captured(
        "PreToolUse-Agent",
        &p,
        "s",
        &json!({"tool_input": {"description": "fix deploy", "prompt": task, "subagent_type": "platform-developer", "run_in_background": false}}),
    );
    let out = gateway(&p, &event);
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let hso = &v["hookSpecificOutput"];
    assert_eq!(hso["hookEventName"], "PreToolUse");
    assert!(
        hso.get("permissionDecision").is_none(),
        "an allow would skip the user's prompt: {v}"
    );
    let input = &hso["updatedInput"];
    assert_eq!(input["description"], "fix deploy");
    assert_eq!(input["subagent_type"], "platform-developer");
    assert_eq!(input["run_in_background"], false);
    let new_prompt = input["prompt"].as_str().unwrap();
    assert!(
        new_prompt.starts_with(&format!("{task}\n\nRead these skill files")),
        "{new_prompt}"
    );
    assert!(
        new_prompt
            .contains(".claude/skill-library/infrastructure/deploying-to-kubernetes/SKILL.md")
    );
    // A task that already names the path is left alone; so is one with no fitting skill.
    let named = captured(
        "PreToolUse-Agent",
        &p,
        "s",
        &json!({"tool_input": {"description": "d", "prompt": new_prompt}}),
    );
    assert!(gateway(&p, &named).stdout.is_empty());
    let unrelated = captured(
        "PreToolUse-Agent",
        &p,
        "s",
        &json!({"tool_input": {"description": "d", "prompt": "count the words in the poem about the sea"}}),
    );
    assert!(gateway(&p, &unrelated).stdout.is_empty());
}

fn transcript(p: &Path, name: &str, lines: &[Value]) -> PathBuf {
    let path = p.join(format!("{name}.jsonl"));
    let text: String = lines.iter().map(|l| l.to_string() + "\n").collect();
    std::fs::write(&path, text).unwrap();
    path
}

fn read_line(path: &str) -> Value {
    json!({"type": "assistant", "message": {"content": [{"type": "tool_use", "name": "Read", "input": {"file_path": path}}]}})
}

fn stop(p: &Path, agent: &str, transcript: &Path, active: bool) -> Value {
    captured(
        "SubagentStop-subagent",
        p,
        "s",
        &json!({"agent_id": agent, "agent_type": "backend-developer", "agent_transcript_path": transcript, "stop_hook_active": active}),
    )
}

fn result(p: &Path, agent: &str) -> Value {
    let mut e = captured("PostToolUse-Agent-completed", p, "s", &json!({}));
    e["tool_response"]["agentId"] = json!(agent);
    e
}

fn require(p: &Path, mode: &str) {
    std::fs::write(
        p.join(".claude/portcullis.json"),
        json!({"skills": {"compliance": mode, "required": [{"agents": ["*-developer"], "skills": ["persisting-agent-outputs"]}]}}).to_string(),
    )
    .unwrap();
}

#[test]
fn a_required_skill_a_developer_skipped_is_told_to_the_orchestrator_once() {
    let (_t, p) = project();
    require(&p, "warn");
    let skipped = transcript(&p, "skipped", &[read_line("/x/src/main.rs")]);
    let out = gateway(&p, &stop(&p, "agent-1", &skipped, false));
    assert!(
        out.stdout.is_empty(),
        "warn never holds the agent: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let entry = log(&p)
        .into_iter()
        .find(|e| e["verdict"] == "skills-skipped")
        .unwrap();
    assert_eq!(
        entry["detail"]["missing"],
        json!(["persisting-agent-outputs"])
    );
    assert_eq!(entry["detail"]["agent_type"], "backend-developer");
    // Another hook sends it back and it stops again: still one report.
    assert!(
        gateway(&p, &stop(&p, "agent-1", &skipped, true))
            .stdout
            .is_empty()
    );
    // Told with the foreground agent's result, once.
    let told = context_of(&gateway(&p, &result(&p, "agent-1")));
    assert!(
        told.contains("`backend-developer` agent agent-1: `persisting-agent-outputs`"),
        "{told}"
    );
    assert!(gateway(&p, &result(&p, "agent-1")).stdout.is_empty());
    // A background agent's skip is told at the next prompt.
    gateway(&p, &stop(&p, "agent-2", &skipped, false));
    let next = context_of(&prompt(&p, "s", "thanks"));
    assert!(next.contains("agent-2"), "{next}");
    // An agent that read the skill, or is not a developer, is not reported.
    let loaded = transcript(
        &p,
        "loaded",
        &[read_line(&p.join(OUTPUTS).display().to_string())],
    );
    gateway(&p, &stop(&p, "agent-3", &loaded, false));
    let mut reviewer = stop(&p, "agent-4", &skipped, false);
    reviewer["agent_type"] = json!("reviewer");
    gateway(&p, &reviewer);
    let reported: Vec<Value> = log(&p)
        .into_iter()
        .filter(|e| e["verdict"] == "skills-skipped")
        .collect();
    assert_eq!(reported.len(), 2, "agent-1 once, agent-2: {reported:?}");
}

#[test]
fn enforce_sends_the_agent_back_once_then_reports() {
    let (_t, p) = project();
    require(&p, "enforce");
    let skipped = transcript(&p, "skipped", &[read_line("/x/src/main.rs")]);
    let out = gateway(&p, &stop(&p, "agent-1", &skipped, false));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["decision"], "block");
    let reason = v["reason"].as_str().unwrap();
    assert!(reason.contains(&format!("Read `{OUTPUTS}`")), "{reason}");
    // Still skipped at the next stop: let go, and reported.
    let second = gateway(&p, &stop(&p, "agent-1", &skipped, true));
    assert!(
        second.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&second.stdout)
    );
    assert!(context_of(&gateway(&p, &result(&p, "agent-1"))).contains("agent-1"));
}

fn skills_cmd(p: &Path, args: &[&str]) -> Output {
    Command::new(workspace_bin("portcullis"))
        .arg("skills")
        .args(args)
        .arg("--project")
        .arg(p)
        .env("HOME", p.parent().unwrap().join("home"))
        .env_remove("CLAUDE_CONFIG_DIR")
        .env_remove("PORTCULLIS_CONFIG")
        .output()
        .unwrap()
}

#[test]
fn portcullis_skills_lists_the_library_and_routes_with_scores() {
    let (_t, p) = project();
    let list = skills_cmd(&p, &["list"]);
    assert_eq!(list.status.code(), Some(0));
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(
        text.contains(&format!("optimizing-react-performance  {REACT_PERF}")),
        "{text}"
    );
    assert!(
        text.ends_with("38 skills (2 with problems), 0 skipped\n"),
        "{text}"
    );
    assert!(
        text.contains("managing-secrets  .claude/skill-library/security/managing-secrets/SKILL.md\n  problem: frontmatter line 3 is not YAML"),
        "{text}"
    );
    let json: Value = serde_json::from_slice(&skills_cmd(&p, &["list", "--json"]).stdout).unwrap();
    assert_eq!(json["skills"].as_array().unwrap().len(), 38);
    assert!(json.get("stamps").is_none());

    let route = skills_cmd(
        &p,
        &[
            "route",
            "--json",
            "Our Docker image is 2 GB; make it smaller",
        ],
    );
    let v: Value = serde_json::from_slice(&route.stdout).unwrap();
    assert_eq!(v["small_talk"], false);
    assert_eq!(v["candidates"][0]["name"], "writing-dockerfiles");
    assert_eq!(v["candidates"][0]["chosen"], true);
    assert!(
        v["context"]
            .as_str()
            .unwrap()
            .contains("writing-dockerfiles/SKILL.md")
    );
    let talk = skills_cmd(&p, &["route", "thanks!"]);
    assert!(String::from_utf8_lossy(&talk.stdout).contains("small talk: nothing is routed"));
}

#[test]
fn a_hostile_library_of_thousands_of_files_is_read_within_the_deadline_and_said_in_one_line() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().canonicalize().unwrap().join("project");
    let lib = p.join(".claude/skill-library");
    for i in 0..2000 {
        let dir = lib.join(format!("area-{}/skill-{i}", i % 40));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("SKILL.md"),
            format!("---\nname: skill-{i}\ndescription: Topic {i} of many. Use when topic{i} comes up.\n---\n# Topic {i}\n"),
        )
        .unwrap();
    }
    std::fs::write(
        lib.join("area-0/skill-0/SKILL.md"),
        "---\nname: [broken\n---\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(&lib, lib.join("area-1/loop")).unwrap();
    std::fs::create_dir_all(t.path().join("home")).unwrap();
    let out = prompt(&p, "s", "something about topic1234 please and its details");
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("skill library: 1 skipped") && stderr.contains("symlink loop"),
        "{stderr}"
    );
    assert!(context_of(&out).contains("skill-1234/SKILL.md"));
    // The second prompt uses the cache: no rebuild, so nothing to say.
    let again = prompt(&p, "s2", "something about topic1234 please and its details");
    assert!(
        again.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}
