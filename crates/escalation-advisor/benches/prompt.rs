//! The escalation path's own work: redaction and the bounded prompt over large inputs.

use criterion::{Criterion, criterion_group, criterion_main};
use escalation_advisor::prompt::{self, Material};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let answer = "The build still fails with error E0412 in src/lib.rs; export API_TOKEN=abc123 "
        .repeat(2000);
    let material = Material {
        who: "the main agent".into(),
        why: "its last 4 stops in a row were blocked".into(),
        instruction: Some("Fix the build. ".repeat(500)),
        block_reasons: (0..6)
            .map(|i| {
                (
                    "feedback-loop".into(),
                    format!("reason {i}: {}", "run the tests ".repeat(200)),
                )
            })
            .collect(),
        answers: vec![answer.clone(), answer.clone(), answer],
    };
    c.bench_function("redact 160 KB", |b| {
        b.iter(|| prompt::redact(black_box(&material.answers[0])));
    });
    c.bench_function("build 24 KiB prompt from 500 KB", |b| {
        b.iter(|| prompt::build(black_box(&material), 24 * 1024));
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
