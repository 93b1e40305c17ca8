//! The process bench's cases for skill-gateway: a prompt with no library (most projects), a prompt
//! routed over a 300-skill library from the cached index (the common path: one `stat` per folder and
//! `SKILL.md`, the cache read, BM25, the session's offered set written), the same with the cache gone
//! (the cold build: every `SKILL.md` read and parsed), and an Agent call's task routed into its prompt.

use std::path::Path;

use super::Case;
use super::cases::captured;

/// skill-gateway's cases.
pub(crate) fn skill_gateway_cases(rel: &Path, tmp: &Path) -> Vec<Case> {
    let bin = rel.join("skill-gateway");
    let empty = tmp.join("sg-empty");
    std::fs::create_dir_all(empty.join(".claude")).unwrap();
    let library = tmp.join("sg-300");
    portcullis_testkit::skill_library(&library, 300);
    // Words of skill 123's description: it ranks first and is offered.
    let prompt = |project: &Path| {
        captured(
            "UserPromptSubmit",
            project,
            &serde_json::json!({"prompt": "please look into topic123 for the release, it breaks the build"}),
        )
    };
    let state = library.join(".claude/portcullis");
    let offered = state.join("sessions/bench/skill-gateway.json");
    let mut warm = Case::plain(
        "skill-gateway / prompt, 300 skills, cached index",
        &bin,
        &library,
        prompt(&library),
    );
    // Each run routes afresh: the skill offered by the run before is forgotten.
    warm.reset = vec![offered.clone()];
    let mut cold = Case::plain(
        "skill-gateway / prompt, 300 skills, index built",
        &bin,
        &library,
        prompt(&library),
    );
    cold.reset = vec![offered.clone(), state.join("skill-index.txt")];
    let mut agent = Case::plain(
        "skill-gateway / Agent call, 300 skills, cached index",
        &bin,
        &library,
        captured(
            "PreToolUse-Agent",
            &library,
            &serde_json::json!({"tool_input": {"description": "d", "prompt": "fix topic77 in the release build", "subagent_type": "general-purpose"}}),
        ),
    );
    agent.reset = vec![offered];
    vec![
        Case::plain(
            "skill-gateway / prompt, no library",
            &bin,
            &empty,
            prompt(&empty),
        ),
        warm,
        agent,
        cold,
    ]
}
