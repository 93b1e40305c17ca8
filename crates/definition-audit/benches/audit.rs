//! `audit` in-process on a project of 50 agents and 400 skills (issue 26: "well under a second"): the
//! whole audit (`portcullis audit`), and the hook's, narrowed to one written agent (the others read for
//! their names only).

use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use definition_audit::{AuditConfig, Request, audit};

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let project = dir.path().canonicalize().expect("canonical temp dir");
    portcullis_testkit::definitions_project(&project, 50, 400);
    let config = AuditConfig::default();
    let whole = Request {
        project: &project,
        claude_home: None,
        user: false,
        only: &[],
    };
    let report = audit(&whole, &config);
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    assert_eq!((report.agents, report.skills), (50, 401));
    let mut group = c.benchmark_group("audit");
    group.sample_size(20);
    group.bench_function("whole project, 50 agents + 400 skills", |b| {
        b.iter(|| audit(&whole, &config));
    });
    let written: Vec<PathBuf> = vec![project.join(".claude/agents/domain7-developer.md")];
    let narrowed = Request {
        only: &written,
        ..whole
    };
    group.bench_function("one written agent (the hook)", |b| {
        b.iter(|| audit(&narrowed, &config));
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
