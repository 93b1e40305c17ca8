//! `portcullis audit` as a process on the fixture tree `fixtures/audit/project`, where every rule is
//! broken exactly once beside clean agents and skills; and the definition-audit hook as a process on a
//! captured PostToolUse event.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use portcullis_testkit::decide::captured;
use portcullis_testkit::{fixture_copy, run_with_stdin, workspace_bin};
use serde_json::{Value, json};

/// Every finding the fixture must give: file, line, rule, severity. One per rule.
const EXPECTED: &[(&str, u64, &str, &str)] = &[
    (".claude/agents/Bad_Name.md", 2, "name-format", "warning"),
    (
        ".claude/agents/broken-yaml.md",
        4,
        "frontmatter-syntax",
        "error",
    ),
    (
        ".claude/agents/coordinator.md",
        4,
        "delegates-and-edits",
        "error",
    ),
    (".claude/agents/hardcoded.md", 15, "library-path", "warning"),
    (
        ".claude/agents/lenient.md",
        3,
        "frontmatter-lenient",
        "warning",
    ),
    (
        ".claude/agents/long-agent.md",
        151,
        "agent-length",
        "warning",
    ),
    (".claude/agents/mismatch.md", 2, "name-mismatch", "warning"),
    (".claude/agents/nameless.md", 2, "field-missing", "error"),
    (
        ".claude/agents/no-frontmatter.md",
        1,
        "frontmatter-missing",
        "error",
    ),
    (".claude/agents/old-tools.md", 4, "tool-retired", "warning"),
    (
        ".claude/agents/silent.md",
        3,
        "description-trigger",
        "warning",
    ),
    (
        ".claude/agents/team/clean-developer.md",
        2,
        "name-duplicate",
        "error",
    ),
    (".claude/agents/typo-tools.md", 4, "tool-unknown", "error"),
    (
        ".claude/skills/broken-ref/SKILL.md",
        6,
        "reference-missing",
        "error",
    ),
    (
        ".claude/skills/gateway-frontend/SKILL.md",
        9,
        "gateway-route",
        "error",
    ),
    (
        ".claude/skills/long-skill/SKILL.md",
        501,
        "skill-length",
        "warning",
    ),
];

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/audit/project")
}

fn project() -> (tempfile::TempDir, PathBuf) {
    fixture_copy("audit/project")
}

fn audit(project: &Path, args: &[&str]) -> Output {
    Command::new(workspace_bin("portcullis"))
        .arg("audit")
        .args(args)
        .arg("--project")
        .arg(project)
        .current_dir(project)
        .env("HOME", project.parent().unwrap().join("home"))
        .env_remove("CLAUDE_CONFIG_DIR")
        .env_remove("PORTCULLIS_CONFIG")
        .env_remove("CLAUDE_PROJECT_DIR")
        .output()
        .unwrap()
}

fn findings(out: &Output) -> Vec<(String, u64, String, String)> {
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert!(!f["message"].as_str().unwrap().is_empty(), "{f}");
            (
                f["file"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["rule"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn expected() -> Vec<(String, u64, String, String)> {
    EXPECTED
        .iter()
        .map(|(f, l, r, s)| ((*f).to_string(), *l, (*r).to_string(), (*s).to_string()))
        .collect()
}

#[test]
fn every_rule_is_found_once_and_nothing_on_the_clean_files() {
    let (_t, p) = project();
    let out = audit(&p, &["--json"]);
    assert_eq!(out.status.code(), Some(1), "errors exit 1");
    assert_eq!(findings(&out), expected());
    // One finding per rule, and every rule has one: the fixture covers the whole rule set.
    let mut rules: Vec<&str> = EXPECTED.iter().map(|e| e.2).collect();
    rules.sort_unstable();
    rules.dedup();
    assert_eq!(rules.len(), definition_audit::Rule::ALL.len());
    let clean = [
        "clean-developer.md\"",
        "platform-lead.md",
        "README.md",
        "clean-skill",
        "react-hooks",
    ];
    let text = String::from_utf8_lossy(&out.stdout);
    for c in clean {
        assert!(!text.contains(&format!(".claude/agents/{c}")), "{c}");
        assert!(!text.contains(&format!("skills/{c}")), "{c}");
    }
}

#[test]
fn text_output_with_hints_and_a_summary() {
    let (_t, p) = project();
    let out = audit(&p, &["--fix-hints"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(
            ".claude/agents/typo-tools.md:4: error[tool-unknown] `Grepp` in `tools` is not a tool"
        ),
        "{text}"
    );
    assert!(text.contains("    fix: did you mean `Grep`?"), "{text}");
    assert!(
        text.ends_with("8 errors, 8 warnings in 16 files (15 agents, 5 skills audited)\n"),
        "{text}"
    );
    let plain = audit(&p, &[]);
    assert!(!String::from_utf8_lossy(&plain.stdout).contains("fix:"));
    let json = audit(&p, &["--json", "--fix-hints"]);
    let v: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["hint"].is_string())
    );
}

#[test]
fn paths_narrow_the_report_and_config_relevels_it() {
    let (_t, p) = project();
    let only = audit(&p, &["--json", ".claude/skills"]);
    let got = findings(&only);
    assert_eq!(got, expected()[13..].to_vec());
    let missing = audit(&p, &["nowhere"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("nowhere"));
    // Every error switched off or made a warning: exit 0; a path override makes one an error again.
    let off: serde_json::Map<String, Value> = EXPECTED
        .iter()
        .filter(|e| e.3 == "error")
        .map(|e| (e.2.to_string(), json!("warning")))
        .collect();
    std::fs::write(
        p.join(".claude/portcullis.json"),
        json!({"audit": {"rules": off, "overrides": [
            {"paths": [".claude/agents/long-*.md"], "rules": {"agent-length": "error"}},
            {"paths": [".claude/skills/**"], "rules": {"skill-length": "off"}}
        ]}})
        .to_string(),
    )
    .unwrap();
    let out = audit(&p, &["--json"]);
    let got = findings(&out);
    assert_eq!(got.len(), EXPECTED.len() - 1, "skill-length is off");
    assert!(
        got.iter()
            .all(|f| f.3 == "warning" || f.2 == "agent-length")
    );
    assert!(got.contains(&(
        ".claude/agents/long-agent.md".into(),
        151,
        "agent-length".into(),
        "error".into()
    )));
    assert_eq!(out.status.code(), Some(1));
    std::fs::write(
        p.join(".claude/portcullis.json"),
        json!({"audit": {"rules": off}}).to_string(),
    )
    .unwrap();
    assert_eq!(audit(&p, &[]).status.code(), Some(0), "warnings alone pass");
    std::fs::write(
        p.join(".claude/portcullis.json"),
        json!({"audit": {"rules": {"no-such-rule": "off"}}}).to_string(),
    )
    .unwrap();
    let bad = audit(&p, &[]);
    assert_ne!(bad.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no-such-rule"));
}

#[test]
fn the_user_folder_is_audited_on_request() {
    let (_t, p) = project();
    let home = p.parent().unwrap().join("home/.claude/agents");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(home.join("mine.md"), "---\nname: mine\n---\n").unwrap();
    let without = findings(&audit(&p, &["--json"]));
    assert!(!without.iter().any(|f| f.0.contains("mine")));
    let with = findings(&audit(&p, &["--json", "--user"]));
    assert!(
        with.contains(&(
            "~/.claude/agents/mine.md".into(),
            2,
            "field-missing".into(),
            "error".into()
        )),
        "{with:?}"
    );
}

#[test]
fn the_hook_answers_a_definition_write_with_context_only() {
    let (_t, p) = project();
    let file = p.join(".claude/agents/coordinator.md");
    let event = captured(
        "PostToolUse-Write",
        &p,
        "audit-session",
        &json!({"tool_input": {"file_path": file, "content": std::fs::read_to_string(&file).unwrap()}}),
    );
    let out = run_with_stdin(
        Command::new(workspace_bin("definition-audit"))
            .current_dir(&p)
            .env("HOME", p.parent().unwrap().join("home"))
            .env("CLAUDE_PROJECT_DIR", &p),
        event.to_string().as_bytes(),
    )
    .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let context = v["hookSpecificOutput"]["additionalContext"]
        .as_str()
        .unwrap();
    assert!(
        context.contains(".claude/agents/coordinator.md:4: error[delegates-and-edits]"),
        "{context}"
    );
    assert!(
        !context.contains("typo-tools"),
        "only the written file: {context}"
    );
    assert!(v.get("decision").is_none(), "never a block: {v}");
}

#[test]
fn the_readme_documents_every_rule() {
    let readme = std::fs::read_to_string(fixture().join("../../../README.md")).unwrap();
    for r in definition_audit::Rule::ALL {
        let row = format!(
            "| `{}` | {} | {} |",
            r.id(),
            r.default_severity().as_str(),
            r.summary()
        );
        assert!(
            readme.contains(&row),
            "README's rule table lacks or misstates {}: {row}",
            r.id()
        );
    }
}

/// Writes `n` small files under `dir`, 500 to a folder.
fn many_files(dir: &Path, n: usize) {
    for i in 0..n {
        let sub = dir.join(format!("d{}", i / 500));
        if i % 500 == 0 {
            std::fs::create_dir_all(&sub).unwrap();
        }
        std::fs::write(sub.join(format!("f{i}.py")), "").unwrap();
    }
}

/// A skill's own virtualenv (21,000 files) is not walked: the skill's `SKILL.md` is still audited and its
/// error still fails the run. A tree past the walk's limit that is not tool output is reported as an
/// incomplete audit, which fails too (issue 35, item 24: "0 skills audited", exit 0).
#[test]
fn a_virtualenv_is_skipped_and_a_cut_walk_never_passes() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().canonicalize().unwrap().join("project");
    let skill = p.join(".claude/skills/py-tool");
    // Sorted first, so a walk that entered it would spend its budget before SKILL.md.
    let venv = skill.join("Env");
    std::fs::create_dir_all(&venv).unwrap();
    std::fs::write(venv.join("pyvenv.cfg"), "home = /usr/bin\n").unwrap();
    many_files(&venv.join("lib"), 21_000);
    std::fs::write(
        skill.join("SKILL.md"),
        "---\ndescription: no name\n---\nUse it.\n",
    )
    .unwrap();
    let out = audit(&p, &["--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["skills"], 1, "{v}");
    assert_eq!(v["incomplete"], json!([]), "{v}");
    assert_eq!(
        out.status.code(),
        Some(1),
        "the skill's error fails the run: {v}"
    );

    // Make the skill clean: the venv alone passes.
    std::fs::write(skill.join("SKILL.md"), "---\nname: py-tool\ndescription: Runs the py tool when asked to lint Python.\n---\nUse it.\n").unwrap();
    let clean = audit(&p, &[]);
    assert_eq!(
        clean.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&clean.stdout)
    );

    // A data folder past the limit is not skipped by name: the audit says it is incomplete and fails.
    many_files(&skill.join("data"), 20_500);
    let cut = audit(&p, &[]);
    let text = String::from_utf8_lossy(&cut.stdout);
    assert!(text.contains("incomplete:"), "{text}");
    assert_ne!(cut.status.code(), Some(0), "{text}");
}
