//! Registration is data: hooks.json, the plugin manifest and the README all agree with the registry.

use std::path::Path;

use portcullis_core::client::ClientSupport;
use portcullis_suite::HOOKS;

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

/// Every `process*.rs` of the process bench (the harness and its case files), as one text.
fn bench_sources() -> String {
    std::fs::read_dir(root().join("crates/suite-tests/benches"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "rs")
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("process"))
        })
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

/// Nothing a registered hook needs can be forgotten: the bad-input catalogue and the fuzzer iterate the
/// registry, and the process bench must have a case of its own for every hook.
#[test]
fn every_registered_hook_has_its_bench_case() {
    let bench = bench_sources();
    for h in HOOKS {
        assert!(
            bench.contains(&format!("\"{} / ", h.name)),
            "the process bench has no case for {} (crates/suite-tests/benches/process_*.rs)",
            h.name
        );
    }
    let fuzz = std::fs::read_to_string(root().join("crates/fuzz/src/targets.rs")).unwrap();
    assert!(
        fuzz.contains("for hook in portcullis_suite::HOOKS"),
        "the fuzzer must run every hook"
    );
}

/// The bench's budget file and its cases agree both ways: every case named in the bench's sources has a
/// budget (so `--check` never meets a case without one), and every budget names a case (none is stale).
#[test]
fn every_bench_case_has_a_budget_and_every_budget_a_case() {
    let dir = root().join("crates/suite-tests/benches");
    let bench = bench_sources();
    let budgets: toml::Table =
        toml::from_str(&std::fs::read_to_string(dir.join("budget.toml")).unwrap()).unwrap();
    let budgeted: Vec<&String> = budgets
        .values()
        .filter_map(toml::Value::as_table)
        .flat_map(toml::Table::keys)
        .collect();
    for name in &budgeted {
        assert!(
            bench.contains(&format!("\"{name}\"")),
            "benches/budget.toml names `{name}`, which is no case of the bench"
        );
    }
    let hooks: Vec<&str> = HOOKS.iter().map(|h| h.name).collect();
    for literal in bench.split('"').skip(1).step_by(2) {
        let is_case = literal
            .split_once(" / ")
            .is_some_and(|(who, _)| hooks.contains(&who) || who == "noop-hook (chassis)");
        assert!(
            !is_case || budgeted.iter().any(|b| b.as_str() == literal),
            "the bench case `{literal}` has no budget in benches/budget.toml"
        );
    }
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
    for var in portcullis_suite::env_vars() {
        assert!(
            readme.contains(&format!("| `{var}` |")),
            "README's environment table lacks {var}"
        );
    }
    for h in HOOKS {
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| `{}` |", h.name)))
            .unwrap_or_else(|| panic!("README's hook table lacks {}", h.name));
        // The client columns say what the hook's own constants say.
        let say = |support: ClientSupport| match support {
            ClientSupport::Yes => "yes".to_owned(),
            ClientSupport::Partly(why) => format!("partly: {why}"),
            ClientSupport::No(why) => format!("no: {why}"),
        };
        let (codex, gemini, copilot) = (say(h.codex), say(h.gemini), say(h.copilot));
        assert!(
            row.ends_with(&format!("| {codex} | {gemini} | {copilot} |")),
            "README's hook table: the Codex, Gemini and Copilot columns of {} should read `{codex}`, `{gemini}` \
             and `{copilot}`",
            h.name
        );
    }
    // Every key of every section of the suite, read from the sections' own defaults.
    let mut keys = Vec::new();
    for section in portcullis_suite::sections() {
        match section.defaults() {
            serde_json::Value::Object(fields) if !section.open_maps.contains(&section.key) => {
                keys.extend(fields.keys().map(|k| format!("{}.{k}", section.key)));
            }
            _ => keys.push(section.key.to_owned()),
        }
    }
    assert!(keys.len() > 30, "{keys:?}");
    for key in keys {
        assert!(
            readme.contains(&format!("`{key}`")),
            "README's config reference lacks {key}"
        );
    }
}

/// A reader finds code by name: no source file grows past 600 lines (split it by concern instead).
#[test]
fn no_source_file_over_600_lines() {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|x| x == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&root().join("crates"), &mut files);
    walk(&root().join("tests"), &mut files);
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let n = std::fs::read_to_string(f).unwrap().lines().count();
            (n > 600).then(|| format!("{} ({n} lines)", f.display()))
        })
        .collect();
    assert!(long.is_empty(), "split these by concern: {long:?}");
}

/// The README's built-in domain table lists every glob of the code's table.
#[test]
fn readme_domain_table_matches_the_code() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    for (domain, globs) in portcullis_domains::DEFAULT_DOMAINS {
        for glob in *globs {
            let cell = format!("`{}`", glob.replace('|', "\\|"));
            assert!(
                readme.contains(&cell),
                "README's domain table lacks {domain} {cell}"
            );
        }
    }
}

/// A registration marked Claude-Code-only is left out of Codex's: skill-gateway routes prompts there and
/// gets no event it would only pass on.
#[test]
fn codex_gets_only_the_registrations_that_work_there() {
    let gateway = HOOKS.iter().find(|h| h.name == "skill-gateway").unwrap();
    let codex: Vec<&str> = gateway
        .registrations_for(portcullis_core::Client::Codex)
        .map(|r| r.event)
        .collect();
    assert_eq!(codex, ["UserPromptSubmit", "SessionStart"]);
    let claude = gateway
        .registrations_for(portcullis_core::Client::ClaudeCode)
        .count();
    assert_eq!(claude, gateway.registrations.len());
    let agent_first = HOOKS.iter().find(|h| h.name == "agent-first").unwrap();
    assert_eq!(
        agent_first
            .registrations_for(portcullis_core::Client::Codex)
            .count(),
        0
    );
}

/// "A hook is one crate": a hook crate builds on core and the shared library crates, never on another
/// hook, so each can change, be benchmarked and be left out on its own. Shared code goes into a
/// `portcullis-<thing>` library crate (context, frontmatter, domains, shell, secrets).
#[test]
fn no_hook_crate_depends_on_another_hook() {
    for h in HOOKS {
        let manifest =
            std::fs::read_to_string(root().join("crates").join(h.name).join("Cargo.toml"))
                .unwrap_or_else(|e| panic!("{}: no crate at crates/{0}: {e}", h.name));
        let manifest: toml::Table = manifest.parse().unwrap();
        let deps = manifest
            .get("dependencies")
            .and_then(toml::Value::as_table)
            .map(|t| t.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default();
        for other in HOOKS.iter().filter(|o| o.name != h.name) {
            assert!(
                !deps.iter().any(|d| d == other.name),
                "{} depends on the hook crate {}: move what they share into a library crate",
                h.name,
                other.name
            );
        }
    }
}
