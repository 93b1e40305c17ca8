//! `audit` on temp projects and `decide` on captured events re-pointed at them.

use super::*;
use portcullis_core::Decision;
use portcullis_testkit::decide::TestProject;
use serde_json::json;

const CLEAN_AGENT: &str = "---\nname: web-developer\ndescription: Builds web pages. Use when a page must change.\ntools: Read, Edit, Write\n---\nYou build pages.\n";

fn run_audit(p: &TestProject, config: &AuditConfig, user: bool, home: Option<&Path>) -> Report {
    audit(
        &Request {
            project: &p.root,
            claude_home: home,
            user,
            only: &[],
        },
        config,
    )
}

fn rules_of(r: &Report) -> Vec<(&str, &str, Severity)> {
    r.findings
        .iter()
        .map(|f| (f.shown.as_str(), f.rule.id(), f.severity))
        .collect()
}

fn write_event(p: &TestProject, rel: &str, content: &str) -> Event {
    p.event(
        "PostToolUse-Write",
        &json!({"tool_input": {"file_path": p.path(rel), "content": content}}),
    )
}

fn decide(p: &TestProject, event: &Event, config: &serde_json::Value) -> Verdict {
    DefinitionAudit::decide(event, &p.ctx::<DefinitionAudit>().config(config).build()).unwrap()
}

#[test]
fn a_clean_project_has_no_findings_and_counts_what_it_read() {
    let p = TestProject::new();
    p.put(".claude/agents/web-developer.md", CLEAN_AGENT);
    p.put(
        ".claude/skills/deploying/SKILL.md",
        "---\nname: deploying\ndescription: Ships builds. Use when a release is cut.\n---\nSee [the checklist](checklist.md).\n",
    );
    p.put(".claude/skills/deploying/checklist.md", "- build\n");
    let r = run_audit(&p, &AuditConfig::default(), false, None);
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    assert_eq!((r.agents, r.skills), (1, 1));
    assert!(
        r.to_text(false)
            .starts_with("0 errors, 0 warnings in 0 files (1 agent, 1 skill")
    );
}

#[test]
fn levels_are_switched_off_and_relevelled_per_rule_and_per_path() {
    let p = TestProject::new();
    p.put(
        ".claude/agents/old/legacy.md",
        "---\nname: legacy\ndescription: Old.\ntools: Read, Grepp\n---\n",
    );
    p.put(
        ".claude/agents/fresh.md",
        "---\nname: fresh\ndescription: New.\ntools: Read, Grepp\n---\n",
    );
    let default = run_audit(&p, &AuditConfig::default(), false, None);
    assert_eq!(
        rules_of(&default),
        [
            (
                ".claude/agents/fresh.md",
                "description-trigger",
                Severity::Warning
            ),
            (".claude/agents/fresh.md", "tool-unknown", Severity::Error),
            (
                ".claude/agents/old/legacy.md",
                "description-trigger",
                Severity::Warning
            ),
            (
                ".claude/agents/old/legacy.md",
                "tool-unknown",
                Severity::Error
            ),
        ]
    );
    let config: AuditConfig = serde_json::from_value(json!({
        "rules": {"description-trigger": "off", "tool-unknown": "warning"},
        "overrides": [{"paths": [".claude/agents/old/**"], "rules": {"tool-unknown": "off", "description-trigger": "error"}}]
    }))
    .unwrap();
    let r = run_audit(&p, &config, false, None);
    assert_eq!(
        rules_of(&r),
        [
            (".claude/agents/fresh.md", "tool-unknown", Severity::Warning),
            (
                ".claude/agents/old/legacy.md",
                "description-trigger",
                Severity::Error
            ),
        ]
    );
    assert_eq!(r.errors(), 1);
}

#[test]
fn config_names_unknown_rules_and_bad_globs() {
    let bad: AuditConfig =
        serde_json::from_value(json!({"rules": {"agent-lenght": "off"}})).unwrap();
    let err =
        portcullis_core::Section::validate(&bad, &portcullis_core::Config::default()).unwrap_err();
    assert!(
        err.contains("agent-lenght") && err.contains("agent-length"),
        "{err}"
    );
    let bad: AuditConfig =
        serde_json::from_value(json!({"overrides": [{"paths": ["a/[b"], "rules": {}}]})).unwrap();
    assert!(portcullis_core::Section::validate(&bad, &portcullis_core::Config::default()).is_err());
    let bad: AuditConfig = serde_json::from_value(json!({"library": "../elsewhere"})).unwrap();
    assert!(portcullis_core::Section::validate(&bad, &portcullis_core::Config::default()).is_err());
    assert!(
        serde_json::from_value::<AuditConfig>(json!({"rules": {"agent-length": "fatal"}})).is_err()
    );
}

#[test]
fn names_are_unique_per_source_not_across_sources() {
    let p = TestProject::new();
    let home = p.root.join("home/.claude");
    p.put(".claude/agents/web-developer.md", CLEAN_AGENT);
    p.put("home/.claude/agents/web-developer.md", CLEAN_AGENT);
    // A skill and an agent may share a name: they are looked up in different places.
    p.put(
        ".claude/skills/web-developer/SKILL.md",
        "---\nname: web-developer\ndescription: Use when building.\n---\n",
    );
    let r = run_audit(&p, &AuditConfig::default(), true, Some(&home));
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    assert_eq!((r.agents, r.skills), (2, 1));
    // Within the user's own agents (home outside the project) a duplicate is named as the user sees it.
    let elsewhere = tempfile::tempdir().unwrap();
    let user_home = elsewhere.path().join(".claude");
    for rel in ["agents/web-developer.md", "agents/team/web-developer.md"] {
        std::fs::create_dir_all(user_home.join(rel).parent().unwrap()).unwrap();
        std::fs::write(user_home.join(rel), CLEAN_AGENT).unwrap();
    }
    let r = run_audit(&p, &AuditConfig::default(), true, Some(&user_home));
    let dup: Vec<&Finding> = r
        .findings
        .iter()
        .filter(|f| f.rule == Rule::NameDuplicate)
        .collect();
    assert_eq!(dup.len(), 1, "{:?}", r.findings);
    assert!(
        dup[0]
            .message
            .contains("`~/.claude/agents/team/web-developer.md`"),
        "{}",
        dup[0].message
    );
    // A library skill shares the skills' names.
    p.put(
        ".claude/skill-library/web/web-developer/SKILL.md",
        "---\nname: web-developer\ndescription: Use when building.\n---\n",
    );
    let r = run_audit(&p, &AuditConfig::default(), true, Some(&home));
    assert_eq!(
        rules_of(&r),
        [(
            ".claude/skill-library/web/web-developer/SKILL.md",
            "name-duplicate",
            Severity::Error
        )]
    );
}

#[test]
fn enabled_plugins_are_audited_and_disabled_ones_are_not() {
    let p = TestProject::new();
    let home = p.root.join("home/.claude");
    let install = p.root.join("home/.claude/plugins/cache/tools/1.0");
    p.put(
        "home/.claude/plugins/cache/tools/1.0/agents/helper.md",
        "---\nname: helper\ndescription: Helps.\n---\n",
    );
    p.put(
        "home/.claude/plugins/installed_plugins.json",
        &json!({"version": 2, "plugins": {"tools@market": [{"scope": "user", "installPath": install}]}})
            .to_string(),
    );
    p.put(
        ".claude/settings.json",
        &json!({"enabledPlugins": {"tools@market": true}}).to_string(),
    );
    let r = run_audit(&p, &AuditConfig::default(), false, Some(&home));
    assert_eq!(rules_of(&r).len(), 1, "{:?}", r.findings);
    assert_eq!(r.findings[0].rule, Rule::DescriptionTrigger);
    assert!(r.findings[0].file.starts_with(&install));
    p.put(
        ".claude/settings.local.json",
        &json!({"enabledPlugins": {"tools@market": false}}).to_string(),
    );
    assert!(
        run_audit(&p, &AuditConfig::default(), false, Some(&home))
            .findings
            .is_empty()
    );
}

#[test]
fn hostile_files_are_findings_not_failures() {
    let p = TestProject::new();
    p.put(".claude/agents/binary.md", "");
    std::fs::write(p.root.join(".claude/agents/binary.md"), [0xff, 0xfe, 0x00]).unwrap();
    p.put(".claude/agents/huge.md", &"x".repeat(2 << 20));
    std::fs::create_dir_all(p.root.join(".claude/skills/fifo")).unwrap();
    let fifo = p.root.join(".claude/skills/fifo/SKILL.md");
    portcullis_testkit::mkfifo(&fifo);
    // A symlink loop under skills is walked once, not forever.
    std::os::unix::fs::symlink(
        p.root.join(".claude/skills"),
        p.root.join(".claude/skills/loop"),
    )
    .unwrap();
    p.put(
        ".claude/agents/deep.md",
        &format!(
            "---\nname: deep\ndescription: Use when deep.\nx: {}{}\n---\n",
            "[".repeat(5000),
            "]".repeat(5000)
        ),
    );
    let r = run_audit(&p, &AuditConfig::default(), false, None);
    let got = rules_of(&r);
    assert!(
        got.contains(&(
            ".claude/agents/binary.md",
            "frontmatter-syntax",
            Severity::Error
        )),
        "{got:?}"
    );
    assert!(
        got.contains(&(
            ".claude/agents/huge.md",
            "frontmatter-syntax",
            Severity::Error
        )),
        "{got:?}"
    );
    assert!(
        got.contains(&(
            ".claude/skills/fifo/SKILL.md",
            "frontmatter-syntax",
            Severity::Error
        )),
        "{got:?}"
    );
    assert!(
        got.contains(&(
            ".claude/agents/deep.md",
            "frontmatter-syntax",
            Severity::Error
        )),
        "{got:?}"
    );
}

#[test]
fn the_hook_tells_the_writer_what_is_wrong_with_its_definition() {
    let p = TestProject::new();
    let text = "---\nname: planner\ndescription: Plans.\ntools: Agent, Edit\n---\n";
    p.put(".claude/agents/planner.md", text);
    let v = decide(
        &p,
        &write_event(&p, ".claude/agents/planner.md", text),
        &json!({}),
    );
    assert_eq!(v.decision, Decision::Allow, "never a block");
    let context = v.context.join("\n");
    assert!(context.contains("delegates-and-edits"), "{context}");
    assert!(context.contains("description-trigger"), "{context}");
    assert!(context.contains(".claude/agents/planner.md:4"), "{context}");
    assert!(context.contains("Fix: "), "{context}");
    // A skill anywhere in the project counts.
    let skill = "---\nname: x\ndescription: Use when x.\n---\nRead(\"docs/missing.md\")\n";
    p.put("plugin/skills/x/SKILL.md", skill);
    let v = decide(
        &p,
        &write_event(&p, "plugin/skills/x/SKILL.md", skill),
        &json!({}),
    );
    assert!(v.context.join("").contains("reference-missing"), "{v:?}");
}

#[test]
fn the_hook_is_silent_on_clean_definitions_other_files_and_when_switched_off() {
    let p = TestProject::new();
    p.put(".claude/agents/web-developer.md", CLEAN_AGENT);
    let clean = write_event(&p, ".claude/agents/web-developer.md", CLEAN_AGENT);
    assert!(decide(&p, &clean, &json!({})).is_silent());
    p.put("src/agents/notes.md", "no frontmatter");
    assert!(decide(&p, &write_event(&p, "src/agents/notes.md", "x"), &json!({})).is_silent());
    p.put(".claude/agents/README.md", "# agents");
    assert!(
        decide(
            &p,
            &write_event(&p, ".claude/agents/README.md", "x"),
            &json!({})
        )
        .is_silent()
    );
    p.put(".claude/agents/bad.md", "no frontmatter");
    let bad = write_event(&p, ".claude/agents/bad.md", "no frontmatter");
    assert!(!decide(&p, &bad, &json!({})).is_silent());
    assert!(decide(&p, &bad, &json!({"audit": {"hook": false}})).is_silent());
    // Another file's problems are not this write's business.
    p.put(".claude/agents/other.md", "no frontmatter either");
    let v = decide(&p, &bad, &json!({}));
    assert!(!v.context.join("").contains("other.md"), "{v:?}");
}

#[test]
fn what_real_collections_do_on_purpose_is_not_reported() {
    let p = TestProject::new();
    // A plugin prefixes its agents' names so they do not collide.
    p.put(
        "plugin/agents/code-reviewer.md",
        "---\nname: team-code-reviewer\ndescription: Use when reviewing.\n---\n",
    );
    // A skill's `agents/` folder holds prompts for subagents, not definitions.
    p.put(
        "plugin/skills/creator/SKILL.md",
        "---\nname: creator\ndescription: Use when creating.\n---\nThe project's `.claude/settings.json` gets a hook; write links as `[text](references/file.md)`.\nRead(\".claude/generated/plan.md\")\n",
    );
    p.put(
        "plugin/skills/creator/agents/grader.md",
        "# a prompt, no frontmatter\n",
    );
    let only = [p.root.join("plugin")];
    let r = audit(
        &Request {
            project: &p.root,
            claude_home: None,
            user: false,
            only: &only,
        },
        &AuditConfig::default(),
    );
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    assert_eq!((r.agents, r.skills), (1, 1));
    // The same `.claude/...` paths in the project's own skill are the project's files, and checked.
    p.put(
        ".claude/skills/creator/SKILL.md",
        "---\nname: creator\ndescription: Use when creating.\n---\nRead(\".claude/generated/plan.md\")\n",
    );
    let r = run_audit(&p, &AuditConfig::default(), false, None);
    assert_eq!(
        rules_of(&r),
        [(
            ".claude/skills/creator/SKILL.md",
            "reference-missing",
            Severity::Error
        )]
    );
    // A name that merely ends like another is still a mismatch for a skill (its folder is its name).
    p.put(
        ".claude/skills/creator/SKILL.md",
        "---\nname: big-creator\ndescription: Use when creating.\n---\n",
    );
    let r = run_audit(&p, &AuditConfig::default(), false, None);
    assert_eq!(
        rules_of(&r),
        [(
            ".claude/skills/creator/SKILL.md",
            "name-mismatch",
            Severity::Warning
        )]
    );
}
