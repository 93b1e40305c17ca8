//! The process bench's cases for handoff-router: a subagent's stop with a 100 KB report (issue 38: "stays
//! within the read-only budget"), finished, and blocked and routed to the developer of another domain.

use std::fmt::Write as _;
use std::path::Path;

use super::Case;
use super::cases::captured;

pub(crate) fn handoff_router_cases(rel: &Path, tmp: &Path) -> Vec<Case> {
    let project = tmp.join("handoff");
    std::fs::create_dir_all(project.join(".git")).unwrap();
    for name in ["backend-developer", "frontend-developer", "code-reviewer"] {
        let dir = project.join(".claude/agents");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join(format!("{name}.md")),
            format!("---\nname: {name}\ndescription: Use for {name} work.\n---\nbody\n"),
        )
        .unwrap();
    }
    std::fs::write(
        project.join(".claude/portcullis.json"),
        r#"{"domains": {"backend": ["api/**"], "frontend": ["web/**"]}}"#,
    )
    .unwrap();
    let bin = rel.join("handoff-router");
    let mut report = String::new();
    let mut i = 0;
    while report.len() < 100 * 1024 {
        let _ = writeln!(
            report,
            "- changed web/src/components/form_{i}.tsx: the field now validates its input before submit"
        );
        i += 1;
    }
    let stop = |agent: &str, last: &str| {
        captured(
            "SubagentStop-subagent",
            &project,
            &serde_json::json!({"agent_type": "frontend-developer", "agent_id": agent, "last_assistant_message": last}),
        )
    };
    let done = format!("{report}\nSTATUS: DONE — the form validates");
    let blocked = format!(
        "{report}\nSTATUS: BLOCKED — tests fail in api/handlers_test.go after the API change"
    );
    let case = |name, stdin| Case::plain(name, &bin, &project, stdin);
    vec![
        case(
            "handoff-router / SubagentStop, 100 KB report, DONE",
            stop("a1", &done),
        ),
        case(
            "handoff-router / SubagentStop, 100 KB report, BLOCKED: routed",
            stop("a2", &blocked),
        ),
    ]
}
