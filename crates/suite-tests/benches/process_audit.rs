//! The process bench's cases for definition-audit: a write of an ordinary file (the common path, every
//! edit) and a write of an agent in a project of 50 agents and 400 skills (the whole audit: every
//! definition read and checked, for the uniqueness of names, before the written file's findings are kept).

use std::path::Path;

use super::Case;
use super::cases::captured;

/// definition-audit's cases.
pub(crate) fn definition_audit_cases(rel: &Path, tmp: &Path) -> Vec<Case> {
    let project = tmp.join("definitions");
    portcullis_testkit::definitions_project(&project, 50, 400);
    let bin = rel.join("definition-audit");
    let write = |file: &str| {
        let path = project.join(file);
        let content = std::fs::read_to_string(&path).unwrap_or_default();
        captured(
            "PostToolUse-Write",
            &project,
            &serde_json::json!({"tool_input": {"file_path": path, "content": content}}),
        )
    };
    let case = |name, stdin| Case::plain(name, &bin, &project, stdin);
    vec![
        case(
            "definition-audit / Write, not a definition",
            write("src/lib.rs"),
        ),
        case(
            "definition-audit / Write an agent: 50 agents, 400 skills audited",
            write(".claude/agents/domain7-developer.md"),
        ),
    ]
}
