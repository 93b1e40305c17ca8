//! Registration is data: hooks.json, the plugin manifest and the README all agree with the registry.

use std::path::Path;

use portcullis_core::registry::HOOKS;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

#[test]
fn hooks_json_is_generated_from_the_registry() {
    let committed = std::fs::read_to_string(root().join("hooks.json")).unwrap();
    let generated = portcullis::settings::plugin_hooks_json(HOOKS);
    assert_eq!(
        committed, generated,
        "hooks.json is stale: regenerate it with `cargo run -q -p portcullis -- hooks-json > hooks.json`"
    );
}

#[test]
fn hooks_json_names_only_real_binaries_with_sane_timeouts() {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("hooks.json")).unwrap()).unwrap();
    let crates: Vec<String> = std::fs::read_dir(root().join("crates"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let mut seen = 0;
    for (event, groups) in v["hooks"].as_object().unwrap() {
        assert!(
            portcullis_core::EventName::ALL.contains(&event.as_str()),
            "unknown event {event}"
        );
        for group in groups.as_array().unwrap() {
            for h in group["hooks"].as_array().unwrap() {
                let cmd = h["command"].as_str().unwrap();
                assert!(
                    crates.iter().any(|c| c == cmd),
                    "{cmd} is not a crate under crates/"
                );
                let t = h["timeout"].as_u64().unwrap();
                assert!((1..=60).contains(&t), "{cmd}: timeout {t}");
                assert_eq!(h["args"], serde_json::json!([]), "{cmd}: exec form");
                seen += 1;
            }
        }
    }
    assert!(seen >= HOOKS.len());
}

#[test]
fn plugin_manifest_points_at_hooks_json() {
    let v: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join(".claude-plugin/plugin.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(v["name"], "portcullis");
    assert_eq!(v["hooks"], "./hooks.json");
}

#[test]
fn hook_deadline_sits_inside_the_client_timeout() {
    for h in HOOKS {
        assert!(
            u64::from(h.timeout_secs) > h.deadline.as_secs(),
            "{}: Claude Code would kill it before its own deadline",
            h.name
        );
    }
}

#[test]
fn readme_tables_match_the_code() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    for var in portcullis_core::env_vars::ALL {
        assert!(
            readme.contains(&format!("| `{var}` |")),
            "README's environment table lacks {var}"
        );
    }
    for h in HOOKS {
        assert!(
            readme.contains(&format!("| `{}` |", h.name)),
            "README's hook table lacks {}",
            h.name
        );
    }
    for key in [
        "agent_first.mode",
        "agent_first.agent_pattern",
        "agent_first.exempt",
        "agent_first.exempt_agent_types",
        "agent_first.shell_writes",
        "domains",
        "feedback_loop.mode",
        "feedback_loop.reviewer_pattern",
        "feedback_loop.tester_pattern",
        "feedback_loop.max_iterations",
        "feedback_loop.skip_domains",
        "feedback_loop.ignore",
        "feedback_loop.test_commands",
        "output_location.mode",
        "output_location.output_dir",
        "output_location.patterns",
        "output_location.allowed",
        "loop_detect.mode",
        "loop_detect.threshold",
        "loop_detect.window",
        "loop_detect.repeated_failures",
        "escalation_advisor.mode",
        "escalation_advisor.threshold",
        "escalation_advisor.command",
        "escalation_advisor.timeout_secs",
        "escalation_advisor.max_prompt_bytes",
        "iteration_limit.mode",
        "iteration_limit.max_attempts",
        "iteration_limit.exempt_tools",
        "log.enabled",
        "stop.max_consecutive_blocks",
    ] {
        assert!(
            readme.contains(&format!("`{key}`")),
            "README's config reference lacks {key}"
        );
    }
}
