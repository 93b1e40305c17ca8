//! Criterion benches of feedback-loop's pure parts: reading a verdict, and checking a ledger.

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use feedback_loop::report;

fn verdicts(c: &mut Criterion) {
    let short = "Reviewed api/x.go: error paths are handled.\n\nVERDICT: PASS";
    let long = format!(
        "{}\n{{\"status\": \"FAIL\", \"failures\": [\"a\"]}}",
        "finding: ok\n".repeat(4000)
    );
    c.bench_function("report::parse short", |b| {
        b.iter(|| report::parse(black_box(short)));
    });
    c.bench_function("report::parse 48 KB", |b| {
        b.iter(|| report::parse(black_box(&long)));
    });
}

criterion_group!(benches, verdicts);
criterion_main!(benches);
