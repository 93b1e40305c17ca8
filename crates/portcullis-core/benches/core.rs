//! Criterion benches of the chassis's hot functions: event parse, verdict render, transcript tail.

// A bench that cannot set up its input should stop loudly; unwrap is the right tool here.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::io::Write;

use criterion::{Criterion, criterion_group, criterion_main};
use portcullis_core::transcript::{self, Thread};
use portcullis_core::{Event, EventName, Verdict};

const PRE_WRITE: &str = include_str!("../../../fixtures/events/PreToolUse-Write.json");

fn parse(c: &mut Criterion) {
    c.bench_function("parse/pretooluse-write", |b| {
        b.iter(|| Event::parse(black_box(PRE_WRITE.as_bytes())));
    });
}

fn render(c: &mut Criterion) {
    let v = Verdict::deny("spawn backend-developer").with_context("ctx");
    c.bench_function("render/pretooluse-deny", |b| {
        b.iter(|| black_box(&v).render(&EventName::PreToolUse));
    });
}

fn tail(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("portcullis-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, mb) in [("1mb", 1usize), ("50mb", 50)] {
        let path = dir.join(format!("{name}.jsonl"));
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        let filler = format!(
            "{{\"type\":\"attachment\",\"attachment\":{{\"type\":\"x\",\"content\":\"{}\"}}}}\n",
            "y".repeat(2000)
        );
        let assistant = "{\"type\":\"assistant\",\"isSidechain\":false,\"message\":{\"id\":\"m\",\"usage\":{\"input_tokens\":5}}}\n";
        let mut written = 0;
        while written < mb * 1024 * 1024 {
            f.write_all(assistant.as_bytes()).unwrap();
            f.write_all(filler.as_bytes()).unwrap();
            written += assistant.len() + filler.len();
        }
        f.flush().unwrap();
        c.bench_function(&format!("transcript_tail/{name}"), |b| {
            b.iter(|| {
                transcript::tail(&path, &["assistant"], Thread::Main, 1, u64::MAX, |_| true)
                    .unwrap()
            });
        });
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// The backwards reader on a transcript whose last line is 1, 8, 32 or 128 MiB (a huge pasted output):
/// linear in what it reads, and never more than the scan cap (32 MiB) however long the line.
fn long_last_line(c: &mut Criterion) {
    use portcullis_core::budget;
    use portcullis_core::transcript::ReverseLines;
    let dir = std::env::temp_dir().join(format!("portcullis-bench-long-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut group = c.benchmark_group("reverse_lines_long_last_line");
    group.sample_size(10);
    for mb in [1usize, 8, 32, 128] {
        let path = dir.join(format!("{mb}.jsonl"));
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        f.write_all(b"{\"type\":\"user\"}\n").unwrap();
        let chunk = vec![b'y'; 1024 * 1024];
        for _ in 0..mb {
            f.write_all(&chunk).unwrap();
        }
        f.flush().unwrap();
        group.bench_function(format!("{mb}MiB"), |b| {
            b.iter(|| {
                let file = std::fs::File::open(&path).unwrap();
                ReverseLines::new(
                    file,
                    budget::REVERSE_BLOCK_BYTES,
                    budget::TRANSCRIPT_SCAN_BYTES,
                )
                .unwrap()
                .count()
            });
        });
    }
    group.finish();
    let _ = std::fs::remove_dir_all(dir);
}

criterion_group!(benches, parse, render, tail, long_last_line);
criterion_main!(benches);
