//! The loader against sections as hook crates write them.

use super::*;
use serde_json::json;

/// A hook's section, as a hook crate would write it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Demo {
    mode: Mode,
    shell_writes: bool,
    limit: u32,
}

impl Default for Demo {
    fn default() -> Self {
        Self {
            mode: Mode::Enforce,
            shell_writes: true,
            limit: 3,
        }
    }
}

impl Section for Demo {
    const KEY: &'static str = "gatekeeper";

    fn validate(&self, config: &Config) -> std::result::Result<(), String> {
        if self.limit >= config.stop.max_consecutive_blocks {
            return Err(format!(
                "`gatekeeper.limit` must be below the stop cap (found {})",
                self.limit
            ));
        }
        Ok(())
    }
}

/// A user-named, ordered map section.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
struct Table(Option<Map<String, Value>>);

impl Section for Table {
    const KEY: &'static str = "domains";
    const OPEN_MAPS: &'static [&'static str] = &["domains"];
}

/// Another hook's section, unknown to the `Demo` hook.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Other {
    block_percent: f64,
}

impl Section for Other {
    const KEY: &'static str = "watchtower";
}

const HOOK: &[SectionSpec] = &[SectionSpec::of::<Demo>(), SectionSpec::of::<Table>()];
const SUITE: &[SectionSpec] = &[
    SectionSpec::of::<Demo>(),
    SectionSpec::of::<Table>(),
    SectionSpec::of::<Other>(),
];

fn layer(name: &str, v: Value) -> Layer {
    Layer {
        path: PathBuf::from(name),
        value: v,
    }
}

fn hook(layers: &[Layer]) -> Result<Config> {
    Config::from_layers(layers, Schema::hook(HOOK))
}

fn err(layers: &[Layer], schema: Schema<'_>) -> String {
    Config::from_layers(layers, schema).unwrap_err().to_string()
}

#[test]
fn no_file_means_defaults() {
    let c = hook(&[]).unwrap();
    assert_eq!(c, Config::default());
    assert_eq!(c.section::<Demo>().unwrap(), Demo::default());
}

#[test]
fn later_layers_win_per_key() {
    let c = hook(&[
        layer(
            "user",
            json!({"log": {"enabled": false}, "stop": {"max_consecutive_blocks": 3}, "gatekeeper": {"mode": "warn", "limit": 1}}),
        ),
        layer("project", json!({"stop": {"max_consecutive_blocks": 5}, "gatekeeper": {"limit": 2}})),
    ])
    .unwrap();
    assert!(!c.log.enabled);
    assert_eq!(c.stop.max_consecutive_blocks, 5);
    let demo: Demo = c.section().unwrap();
    assert_eq!(
        (demo.mode, demo.limit, demo.shell_writes),
        (Mode::Warn, 2, true)
    );
}

#[test]
fn unknown_key_names_file_key_and_nearest() {
    let e = err(
        &[layer(
            "/p/.claude/portcullis.json",
            json!({"stop": {"max_consecutive_block": 3}}),
        )],
        Schema::hook(HOOK),
    );
    assert!(e.contains("/p/.claude/portcullis.json"), "{e}");
    assert!(
        e.contains("unknown key `stop.max_consecutive_block`"),
        "{e}"
    );
    assert!(
        e.contains("did you mean `stop.max_consecutive_blocks`"),
        "{e}"
    );
    let e = err(
        &[layer("f", json!({"gatekeeper": {"shell_write": false}}))],
        Schema::hook(HOOK),
    );
    assert!(e.contains("did you mean `gatekeeper.shell_writes`"), "{e}");
}

#[test]
fn a_hook_leaves_other_sections_to_their_hooks_but_refuses_near_misses_of_its_own() {
    // Another hook's section, even a broken one, is not this hook's business.
    let c = hook(&[layer("f", json!({"watchtower": {"block_percent": "high"}}))]).unwrap();
    assert_eq!(c.section::<Demo>().unwrap(), Demo::default());
    // A typo of its own section is.
    let e = err(
        &[layer("f", json!({"gatekeper": {"mode": "off"}}))],
        Schema::hook(HOOK),
    );
    assert!(
        e.contains("unknown key `gatekeper`; did you mean `gatekeeper`?"),
        "{e}"
    );
    // The whole suite refuses every unknown key and checks every section.
    let e = err(
        &[layer("f", json!({"watchtowe": {}}))],
        Schema::suite(SUITE),
    );
    assert!(e.contains("did you mean `watchtower`"), "{e}");
    let e = err(
        &[layer("f", json!({"watchtower": {"block_percent": "high"}}))],
        Schema::suite(SUITE),
    );
    assert!(
        e.contains("`watchtower.block_percent` must be a number, found a string"),
        "{e}"
    );
    let e = err(&[layer("f", json!({"zzz": 1}))], Schema::suite(SUITE));
    assert!(
        e.contains("unknown key `zzz` (valid here: log, stop, gatekeeper, domains, watchtower)"),
        "{e}"
    );
}

#[test]
fn wrong_type_names_the_key() {
    let e = err(
        &[layer("f.json", json!({"log": {"enabled": "yes"}}))],
        Schema::hook(HOOK),
    );
    assert!(
        e.contains("`log.enabled` must be a boolean, found a string"),
        "{e}"
    );
    let e = err(
        &[layer(
            "f.json",
            json!({"stop": {"max_consecutive_blocks": -1}}),
        )],
        Schema::hook(HOOK),
    );
    assert!(e.contains("f.json"), "{e}");
    let e = err(
        &[layer(
            "proj.json",
            json!({"gatekeeper": {"mode": "enforcing"}}),
        )],
        Schema::hook(HOOK),
    );
    assert!(e.contains("enforcing") && e.contains("proj.json"), "{e}");
}

#[test]
fn open_maps_keep_file_order_and_replace_whole() {
    let c = hook(&[
        layer(
            "user",
            json!({"domains": {"zeta": ["z/**"], "alpha": ["a/**"]}}),
        ),
        layer(
            "project",
            json!({"domains": {"web": ["**/*.tsx"], "api": ["api/**"]}}),
        ),
    ])
    .unwrap();
    let names: Vec<String> = c
        .section::<Table>()
        .unwrap()
        .0
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(names, ["web", "api"]);
}

#[test]
fn sections_validate_against_each_other_after_merging() {
    let e = err(
        &[
            layer("user", json!({"gatekeeper": {"limit": 5}})),
            layer("project", json!({"stop": {"max_consecutive_blocks": 4}})),
        ],
        Schema::hook(HOOK),
    );
    assert!(
        e.contains("project") && e.contains("must be below the stop cap (found 5)"),
        "{e}"
    );
}

#[test]
fn stop_cap_must_stay_below_the_clients() {
    let e = err(
        &[layer(
            "f.json",
            json!({"stop": {"max_consecutive_blocks": 8}}),
        )],
        Schema::hook(&[]),
    );
    assert!(e.contains("below Claude Code's own cap of 8"), "{e}");
}

#[test]
fn with_section_replaces_one_section() {
    let c = Config::default().with_section(&Demo {
        limit: 1,
        ..Demo::default()
    });
    assert_eq!(c.section::<Demo>().unwrap().limit, 1);
    assert_eq!(c.stop, StopConfig::default());
}

#[test]
fn text_that_is_not_an_object_is_refused() {
    assert!(Config::from_text(Path::new("x"), "[1]", Schema::hook(&[])).is_err());
    assert!(
        Config::from_text(Path::new("x"), "{", Schema::hook(&[]))
            .unwrap_err()
            .to_string()
            .contains("not valid JSON")
    );
}
