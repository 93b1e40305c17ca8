//! The routing corpus, the library reader on hostile folders, and the index cache.

use std::fs;
use std::path::{Path, PathBuf};

use super::*;

fn fixture_project() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/skills/project")
}

fn fixture_index(config: &SkillsConfig) -> Index {
    Index::build(&Roots::new(&fixture_project(), None, None, config), config).0
}

#[derive(serde::Deserialize)]
struct Corpus {
    case: Vec<Case>,
    no_route: NoRoute,
}

#[derive(serde::Deserialize)]
struct Case {
    prompt: String,
    expect: Vec<String>,
}

#[derive(serde::Deserialize)]
struct NoRoute {
    prompts: Vec<String>,
}

#[test]
fn corpus_precision_at_3_and_no_route_rate() {
    let corpus: Corpus =
        toml::from_str(&fs::read_to_string(fixture_project().join("../corpus.toml")).unwrap())
            .unwrap();
    let config = SkillsConfig::default();
    let index = fixture_index(&config);
    assert!(
        index.docs.len() >= 30,
        "the corpus needs at least 30 skills"
    );
    assert!(
        corpus.case.len() >= 40,
        "the corpus needs at least 40 prompts"
    );
    let mut hits = 0;
    let mut firsts = 0;
    let mut offered_total = 0;
    let mut misses = Vec::new();
    for case in &corpus.case {
        let report = route_in(&index, &config, &case.prompt);
        let offered: Vec<&str> = report
            .candidates
            .iter()
            .filter(|c| c.chosen)
            .map(|c| c.name.as_str())
            .collect();
        offered_total += offered.len();
        if offered
            .first()
            .is_some_and(|o| case.expect.iter().any(|e| e == o))
        {
            firsts += 1;
        }
        if offered.iter().any(|o| case.expect.iter().any(|e| e == o)) {
            hits += 1;
        } else {
            misses.push(format!(
                "{:?}: expected {:?}, offered {offered:?}, best {:?}",
                case.prompt,
                case.expect,
                report
                    .candidates
                    .iter()
                    .take(3)
                    .map(|c| (&c.name, c.score))
                    .collect::<Vec<_>>()
            ));
        }
    }
    let mut routed = Vec::new();
    for prompt in &corpus.no_route.prompts {
        let report = route_in(&index, &config, prompt);
        if report.context.is_some() {
            routed.push(format!("{prompt:?} → {:?}", report.candidates.first()));
        }
    }
    #[allow(clippy::cast_precision_loss)]
    let precision = f64::from(hits) / corpus.case.len() as f64;
    #[allow(clippy::cast_precision_loss)]
    let quiet = (corpus.no_route.prompts.len() - routed.len()) as f64
        / corpus.no_route.prompts.len() as f64;
    #[allow(clippy::cast_precision_loss)]
    let per_prompt = offered_total as f64 / corpus.case.len() as f64;
    println!(
        "routing corpus: precision@3 {:.1}% ({hits}/{}), expected skill first {firsts}/{}, {per_prompt:.2} skills offered per prompt, no-route rate {:.1}% ({}/{})",
        precision * 100.0,
        corpus.case.len(),
        corpus.case.len(),
        quiet * 100.0,
        corpus.no_route.prompts.len() - routed.len(),
        corpus.no_route.prompts.len()
    );
    for m in &misses {
        println!("  miss: {m}");
    }
    assert!(
        precision >= 0.9,
        "precision@3 below 90%:\n{}",
        misses.join("\n")
    );
    assert!(
        routed.is_empty(),
        "small talk was routed:\n{}",
        routed.join("\n")
    );
}

#[test]
fn gateway_routes_add_intents_to_the_skills_they_name() {
    let config = SkillsConfig::default();
    let read = library::read(
        &Roots::new(&fixture_project(), None, None, &config),
        &config,
    );
    let loops = read
        .skills
        .iter()
        .find(|s| s.name == "preventing-react-hook-infinite-loops")
        .unwrap();
    assert_eq!(
        loops.routes,
        ["infinite loop, useEffect runs forever, maximum update depth"],
        "the header and separator rows name no skill"
    );
    assert_eq!(
        loops.path,
        ".claude/skill-library/frontend/preventing-react-hook-infinite-loops/SKILL.md"
    );
}

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn skill(name: &str, description: &str) -> String {
    format!("---\nname: {name}\ndescription: {description}\n---\n# {name}\n")
}

#[test]
fn hostile_libraries_are_read_as_far_as_they_are_sound_and_say_what_was_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join(".claude/skill-library");
    write(
        &lib.join("good/SKILL.md"),
        &skill("good", "Good things. Use when good."),
    );
    write(
        &lib.join("broken/SKILL.md"),
        "---\nname: [unclosed\n---\n# Broken heading\n",
    );
    write(&lib.join("bare/SKILL.md"), "# Only a heading\n");
    // Huge: read to the cap, indexed on its start.
    let mut huge = skill("huge", "Huge. Use when huge.");
    huge.push_str(&"x".repeat(usize::try_from(library::MAX_SKILL_BYTES).unwrap() * 2));
    write(&lib.join("huge/SKILL.md"), &huge);
    // A skill's own subfolders are its resources, not more skills.
    write(&lib.join("good/references/SKILL.md"), &skill("nested", "n"));
    // A symlink loop, and a folder that is not UTF-8.
    std::os::unix::fs::symlink(&lib, lib.join("good-loop")).unwrap();
    let odd = lib.join(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(b"caf\xe9"));
    write(&odd.join("SKILL.md"), &skill("odd", "Odd. Use when odd."));
    // A FIFO where a SKILL.md should be: not opened (it would block).
    fs::create_dir_all(lib.join("fifo")).unwrap();
    portcullis_testkit::mkfifo(&lib.join("fifo/SKILL.md"));

    let config = SkillsConfig::default();
    let read = library::read(&Roots::new(dir.path(), None, None, &config), &config);
    let names: Vec<&str> = read.skills.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["bare", "broken", "good", "huge"]);
    let by = |n: &str| read.skills.iter().find(|s| s.name == n).unwrap();
    assert!(
        by("broken").problems[0].contains("unreadable"),
        "{:?}",
        by("broken")
    );
    assert_eq!(by("broken").headings, ["Broken heading"]);
    assert!(
        by("bare")
            .problems
            .iter()
            .any(|p| p.contains("no frontmatter"))
    );
    assert!(
        by("huge")
            .problems
            .iter()
            .any(|p| p.contains("only its start"))
    );
    let skipped: Vec<String> = read
        .skipped
        .iter()
        .map(|s| format!("{}: {}", s.path, s.why))
        .collect();
    assert_eq!(skipped.len(), 3, "{skipped:?}");
    assert!(
        skipped
            .iter()
            .any(|s| s.contains("good-loop") && s.contains("symlink loop")),
        "{skipped:?}"
    );
    assert!(
        skipped.iter().any(|s| s.contains("not UTF-8")),
        "{skipped:?}"
    );
    assert!(skipped.iter().any(|s| s.contains("fifo")), "{skipped:?}");
}

#[test]
fn the_walk_stops_at_max_entries_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join(".claude/skill-library");
    for i in 0..50 {
        write(
            &lib.join(format!("s{i:02}/SKILL.md")),
            &skill(&format!("s{i:02}"), "S. Use when s."),
        );
    }
    let config = SkillsConfig {
        max_entries: 21,
        ..SkillsConfig::default()
    };
    let read = library::read(&Roots::new(dir.path(), None, None, &config), &config);
    assert!(read.truncated);
    assert!(read.skills.len() < 50 && !read.skills.is_empty());
}

#[test]
fn the_cache_is_used_while_the_library_holds_and_rebuilt_when_a_skill_changes() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join(".claude/skill-library");
    write(
        &lib.join("redis/SKILL.md"),
        &skill(
            "caching-with-redis",
            "Redis caching. Use when adding a cache.",
        ),
    );
    let config = SkillsConfig::default();
    let roots = Roots::new(dir.path(), None, None, &config);
    let state = portcullis_core::state::StateDir::at(dir.path().join(".claude/portcullis"));
    let (first, origin) = Index::load(&state, &roots, &config);
    assert!(matches!(origin, Origin::Built(_)));
    let (second, origin) = Index::load(&state, &roots, &config);
    assert_eq!(origin, Origin::Cached);
    assert_eq!(first, second);

    // An edit (another length) and a new skill in a new folder are both seen.
    write(
        &lib.join("redis/SKILL.md"),
        &skill(
            "caching-with-redis",
            "Redis caching and TTLs. Use when adding a cache.",
        ),
    );
    let (third, origin) = Index::load(&state, &roots, &config);
    assert!(matches!(origin, Origin::Built(_)));
    assert!(third.docs[0].summary.contains("TTLs"));
    write(
        &lib.join("deep/er/k8s/SKILL.md"),
        &skill("deploying-to-kubernetes", "Kubernetes. Use when deploying."),
    );
    let (fourth, origin) = Index::load(&state, &roots, &config);
    assert!(matches!(origin, Origin::Built(_)));
    assert_eq!(fourth.docs.len(), 2);
    // A library created where there was none is seen too.
    let other = SkillsConfig {
        libraries: vec!["more-skills".into()],
        ..SkillsConfig::default()
    };
    let roots = Roots::new(dir.path(), None, None, &other);
    let (_, origin) = Index::load(&state, &roots, &other);
    assert!(
        matches!(origin, Origin::Built(_)),
        "another config is another index"
    );
    let (_, origin) = Index::load(&state, &roots, &other);
    assert_eq!(origin, Origin::Cached);
    write(
        &dir.path().join("more-skills/x/SKILL.md"),
        &skill("x-skill", "X. Use when x."),
    );
    let (fifth, origin) = Index::load(&state, &roots, &other);
    assert!(matches!(origin, Origin::Built(_)));
    assert_eq!(fifth.docs.len(), 3);
}

#[test]
fn bm25_prefers_the_rarer_term_and_the_name_over_a_heading() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join(".claude/skill-library");
    write(
        &lib.join("a/SKILL.md"),
        &skill("kafka-consumers", "Consumers. Use when reading topics."),
    );
    write(
        &lib.join("b/SKILL.md"),
        "---\nname: misc\ndescription: Misc. Use when misc.\n---\n## Kafka\n",
    );
    write(
        &lib.join("c/SKILL.md"),
        &skill("reading-files", "Reading files. Use when reading."),
    );
    let config = SkillsConfig::default();
    let (index, _) = Index::build(&Roots::new(dir.path(), None, None, &config), &config);
    let ranked = index.rank("reading kafka topics", &text::stemmer());
    let names: Vec<&str> = ranked
        .iter()
        .map(|s| index.docs[s.skill].name.as_str())
        .collect();
    assert_eq!(names[0], "kafka-consumers");
    assert!(ranked.windows(2).all(|w| w[0].score >= w[1].score));
}

#[test]
fn choose_keeps_at_most_max_skills_above_both_cuts() {
    let ranked: Vec<index::Scored> = [9.0, 8.0, 5.0, 4.4, 3.0]
        .iter()
        .enumerate()
        .map(|(skill, &score)| index::Scored { skill, score })
        .collect();
    let config = SkillsConfig::default();
    let picked: Vec<usize> = index::choose(&ranked, &config)
        .iter()
        .map(|s| s.skill)
        .collect();
    assert_eq!(picked, [0, 1, 2], "max 3, 4.4 < 9 * 0.5");
    let strict = SkillsConfig {
        min_score: 8.5,
        ..SkillsConfig::default()
    };
    assert_eq!(index::choose(&ranked, &strict).len(), 1);
    assert!(index::choose(&[], &config).is_empty());
}
