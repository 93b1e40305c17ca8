//! The scanner on the corpus (`corpus/`: true secrets of each kind, and lookalikes that are not), on the
//! repository's own sources and on a real build log; recall and false positives are printed.

use std::path::Path;

use super::*;

fn corpus(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("corpus")
            .join(name),
    )
    .unwrap()
}

fn scan(text: &str) -> Vec<Finding> {
    Scanner::default()
        .redact(text)
        .map(|(_, f)| f)
        .unwrap_or_default()
}

#[test]
fn every_true_secret_of_the_corpus_is_found_with_its_kind() {
    let text = corpus("secrets.txt");
    let mut found = 0;
    let mut missed = Vec::new();
    let mut total = 0;
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (kind, sample) = line.split_once('\t').unwrap();
        let sample = sample.replace("\\n", "\n");
        total += 1;
        let findings = scan(&sample);
        let (redacted, _) = Scanner::default()
            .redact(&sample)
            .unwrap_or((sample.clone(), vec![]));
        if findings.iter().any(|f| f.kind == kind) && redacted.contains(&marker(kind)) {
            found += 1;
        } else {
            missed.push(format!("{kind}: {sample} -> {findings:?}"));
        }
    }
    println!(
        "secret corpus: {found} of {total} found with their kind (recall {:.0}%)",
        100.0 * f64::from(found) / f64::from(total)
    );
    assert!(missed.is_empty(), "{missed:#?}");
}

#[test]
fn no_lookalike_of_the_corpus_is_redacted() {
    let text = corpus("lookalikes.txt");
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    let flagged: Vec<String> = lines
        .iter()
        .filter_map(|l| {
            Scanner::default()
                .redact(l)
                .map(|(out, f)| format!("{l} -> {out} {f:?}"))
        })
        .collect();
    println!(
        "lookalike corpus: {} of {} lines redacted (false positives)",
        flagged.len(),
        lines.len()
    );
    assert!(flagged.is_empty(), "{flagged:#?}");
}

/// Ordinary code: every Rust source of this repository outside tests (test modules hold fake secrets on
/// purpose), and a real `cargo build -v` log.
#[test]
fn the_repositorys_sources_and_a_build_log_have_no_secrets() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = 0;
    let mut bytes = 0;
    let mut flagged = Vec::new();
    for entry in walk(&root.join("crates")) {
        let path = entry;
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.extension().is_none_or(|e| e != "rs") || name == "tests.rs" {
            continue;
        }
        if path
            .components()
            .any(|c| c.as_os_str() == "tests" || c.as_os_str() == "benches")
        {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        files += 1;
        bytes += code.len();
        if let Some((_, f)) = Scanner::default().redact(code) {
            for x in f {
                let line = code.lines().nth(x.line - 1).unwrap_or_default();
                flagged.push(format!(
                    "{}:{}: {} ({})",
                    path.display(),
                    x.line,
                    line.trim(),
                    x.kind
                ));
            }
        }
    }
    let log = corpus("cargo-build.log");
    let log_hits = scan(&log);
    println!(
        "repository sources: {files} files, {bytes} bytes, {} false positives; build log: {} lines, {} false positives",
        flagged.len(),
        log.lines().count(),
        log_hits.len()
    );
    assert!(files > 50);
    assert!(flagged.is_empty(), "{flagged:#?}");
    assert!(log_hits.is_empty(), "{log_hits:?}");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.file_name()
                .is_some_and(|n| n != "target" && n != "corpus")
            {
                out.extend(walk(&p));
            }
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn the_shape_is_kept_and_only_the_secret_goes() {
    let text = "line one\nDB_PASSWORD=s3cr3t-db-pass # the db\nkey AKIAZ2ZJ3Q4XK5MB6NCD here\n";
    let (out, findings) = Scanner::default().redact(text).unwrap();
    assert_eq!(
        out,
        "line one\nDB_PASSWORD=[REDACTED password] # the db\nkey [REDACTED aws-access-key-id] here\n"
    );
    assert_eq!(
        findings
            .iter()
            .map(|f| (f.kind.as_str(), f.line))
            .collect::<Vec<_>>(),
        [("password", 2), ("aws-access-key-id", 3)]
    );
    assert!(Scanner::default().redact("nothing here\n").is_none());
}

#[test]
fn known_values_are_replaced_wherever_they_stand() {
    let s = Scanner::new(vec![KnownSecret {
        value: "plain-looking-value-42".into(),
        kind: "secret-file-value".into(),
    }]);
    let (out, f) = s
        .redact("conn: plain-looking-value-42, again plain-looking-value-42")
        .unwrap();
    assert_eq!(
        out,
        "conn: [REDACTED secret-file-value], again [REDACTED secret-file-value]"
    );
    assert_eq!(f.len(), 2);
    assert!(s.might_hold(b"{\"x\":\"plain-looking-value-42\"}"));
    assert!(!Scanner::default().might_hold(b"{\"stdout\":\"hello\"}"));
}

#[test]
fn the_specific_kind_wins_over_the_assignment() {
    let (out, _) = Scanner::default()
        .redact("GITHUB_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789")
        .unwrap();
    assert_eq!(out, "GITHUB_TOKEN=[REDACTED github-token]");
}

#[test]
fn a_private_key_goes_whole() {
    let text =
        "a\n-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIB\nxyz\n-----END EC PRIVATE KEY-----\nb";
    let (out, _) = Scanner::default().redact(text).unwrap();
    assert_eq!(out, "a\n[REDACTED private-key]\nb");
}
