//! The filters' unit tests.

use super::*;

fn all(_: Kind) -> bool {
    true
}

#[test]
fn every_pattern_compiles() {
    for r in [&IMPORTANT, &PASSING, &SUMMARY, &NOISE] {
        assert!(!r.as_str().is_empty());
    }
    let _ = classify("x", Some("cargo test"));
    let _ = filter("a\nb\n", Some("ls"), &Keep::default(), &all);
}

#[test]
fn kinds_come_from_the_command_and_the_text() {
    assert_eq!(classify("ok", Some("cargo test -p x")), Kind::Tests);
    assert_eq!(classify("test result: ok. 1 passed", None), Kind::Tests);
    assert_eq!(classify("{\"a\": [1, 2]}", Some("curl x")), Kind::Json);
    assert_eq!(classify("{not json", None), Kind::Other);
    assert_eq!(classify("x", Some("git log --stat")), Kind::Vcs);
    assert_eq!(classify("diff --git a/x b/x\n", None), Kind::Vcs);
    assert_eq!(
        classify("x", Some("cd src && find . -name '*.rs'")),
        Kind::Listing
    );
    assert_eq!(classify("x", Some("cargo clippy")), Kind::Compiler);
    assert_eq!(classify("hello", Some("echo hello")), Kind::Other);
}

#[test]
fn repeated_lines_are_counted_and_errors_kept() {
    let mut text = String::new();
    for i in 0..2000 {
        let _ = writeln!(text, "copied part {i} of the archive");
        if i == 1000 {
            text.push_str("fatal: disk quota exceeded on /var/data\n");
        }
    }
    let out = filter(&text, Some("./sync.sh"), &Keep::default(), &all).text;
    assert!(
        out.contains("fatal: disk quota exceeded on /var/data"),
        "{out}"
    );
    assert!(out.contains("copied part 0 of the archive"));
    assert!(out.contains("copied part 1999 of the archive"));
    assert!(out.contains("lines not shown: "), "{out}");
    assert!(out.len() < 4000, "{}", out.len());
}

#[test]
fn numbers_are_masked_and_other_text_kept_whole() {
    let masked = |word: &str| {
        let mut out = String::new();
        mask_numbers(word, &mut out);
        out
    };
    assert_eq!(masked("log_12.txt"), "log_#txt");
    assert_eq!(masked("a3f9c0d1"), "#");
    assert_eq!(masked("café"), "café");
    assert_eq!(masked("über-2.0.1→ß9"), "über-#→ß#");
    assert_eq!(masked("deadbeef"), "deadbeef");
    assert_eq!(masked(""), "");
}

#[test]
fn summaries_name_the_commonest_shapes_by_count_then_by_shape() {
    let mut lines: Vec<String> = Vec::new();
    lines.extend((0..5).map(|i| format!("copied file {i}")));
    lines.extend((0..3).map(|i| format!("zipped part {i}")));
    lines.extend((0..3).map(|i| format!("added part {i}")));
    lines.extend((0..2).map(|i| format!("skipped part {i}")));
    lines.push("one of a kind".to_owned());
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    assert_eq!(
        summarise(&refs),
        "[… 14 lines not shown: 5 like `copied file #`, 3 like `added part #`, 3 like `zipped part #` …]"
    );
    let unique: Vec<String> = (0..5).map(|i| format!("line{i}x unique{i}z")).collect();
    let refs: Vec<&str> = unique.iter().map(String::as_str).collect();
    assert_eq!(summarise(&refs[..1]), "[… 1 lines not shown …]");
    assert_eq!(
        summarise(&["a b", "c d", "a b"]),
        "[… 3 lines not shown: 2 like `a b` …]"
    );
}

#[test]
fn a_long_output_is_classified_by_its_ends() {
    // 300 KB of passing tests, the summary at the end: a test run.
    let mut text = String::new();
    while text.len() < 300_000 {
        text.push_str("test tests::a_case_named_ü ... ok\n");
    }
    text.push_str("test result: ok. 9000 passed; 0 failed\n");
    assert_eq!(classify(&text, None), Kind::Tests);
    // A diagnostic at the start of 300 KB of notes: a compiler's output.
    let diagnostic = "error[E0425]: cannot find value `x` in this scope\n  --> src/lib.rs:3:5\n";
    let notes = "note: a line of ordinary build output — ünïcode too\n".repeat(6_000);
    assert_eq!(
        classify(&format!("{diagnostic}{notes}"), None),
        Kind::Compiler
    );
    // Cuts that fall inside a multi-byte character, or in an output without a newline, do not panic.
    for pad in 0..4 {
        let long = format!("{}{}", "a".repeat(pad), "é".repeat(100_000));
        assert_eq!(classify(&long, None), Kind::Other);
        assert_eq!(head_and_tail(&long), ["", ""]);
    }
    assert_eq!(head_and_tail("short\n"), ["short\n", ""]);
}

#[test]
fn keep_patterns_keep_their_lines() {
    let text = (0..500).fold(String::new(), |mut s, i| {
        let _ = writeln!(s, "step {i} done");
        s
    });
    let keep = Keep::new(&["step 250 ".to_owned()]).unwrap();
    let out = filter(&text, None, &keep, &all).text;
    assert!(out.contains("step 250 done"), "{out}");
    assert!(
        !filter(&text, None, &Keep::default(), &all)
            .text
            .contains("step 250 done")
    );
    assert!(Keep::new(&["(".to_owned()]).is_err());
}

#[test]
fn a_kind_turned_off_is_filtered_as_other() {
    let text = (0..100).fold(String::new(), |mut s, i| {
        let _ = writeln!(s, "{{\"n\": {i}}}");
        s
    });
    let doc = format!(
        "[{}]",
        (0..500)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    assert_eq!(filter(&doc, None, &Keep::default(), &all).kind, Kind::Json);
    assert_eq!(
        filter(&doc, None, &Keep::default(), &|k| k != Kind::Json).kind,
        Kind::Other
    );
    assert_eq!(
        filter(&text, None, &Keep::default(), &all).kind,
        Kind::Other
    );
}

#[test]
fn json_keeps_its_shape() {
    let doc = serde_json::json!({"items": (0..100).collect::<Vec<_>>(), "name": "x".repeat(1000), "n": 3});
    let out = json(&doc.to_string()).unwrap();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["items"].as_array().unwrap().len(), 4);
    assert_eq!(v["items"][3], "… 97 more items (100 in all)");
    assert!(v["name"].as_str().unwrap().ends_with("… (1000 chars)"));
    assert_eq!(v["n"], 3);
}
