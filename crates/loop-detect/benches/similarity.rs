//! The stuck check on three 100 KB outputs: normalising them and comparing every pair, the work a Stop does
//! (`cargo bench -p loop-detect`). Target: under 5 ms for the near-identical case.

#![allow(clippy::unwrap_used)]

use std::fmt::Write as _;

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use loop_detect::similarity::{MAX_COMPARED, all_similar, comparable};

/// About `bytes` of prose from a vocabulary of `vocab` made-up words, with `attempt` in counters and a
/// timestamp (the way a retry differs) and, every `edit_every` lines, a word changed by the attempt.
fn output(bytes: usize, seed: u64, attempt: u32, vocab: usize, edit_every: usize) -> String {
    let words: Vec<String> = (0..vocab)
        .map(|w| {
            let mut x = (w as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            (0..3 + w % 7)
                .map(|_| {
                    x ^= x >> 29;
                    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
                    char::from(b'a' + u8::try_from(x % 26).unwrap())
                })
                .collect()
        })
        .collect();
    let mut s = String::with_capacity(bytes + 64);
    let mut x = seed;
    let mut line = 0;
    while s.len() < bytes {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        s.push_str(&words[usize::try_from(x >> 40).unwrap() % words.len()]);
        s.push(' ');
        if (x >> 33).is_multiple_of(13) {
            line += 1;
            if line % edit_every == 0 {
                s.push_str(&words[(line + attempt as usize) % words.len()]);
            }
            let _ = writeln!(
                s,
                "(attempt {attempt}, 2026-11-21T10:{:02}:{:02}Z, line {line})",
                attempt % 60,
                line % 60
            );
        }
    }
    s
}

fn bench(c: &mut Criterion) {
    // The same 100 KB answer three times, counters and timestamps moved on, a word changed every 50 lines.
    let near: Vec<String> = (1..=3).map(|n| output(100 << 10, 7, n, 2000, 50)).collect();
    // Three different answers from the same 2,000-word vocabulary.
    let unrelated: Vec<String> = (1..=3)
        .map(|n| output(100 << 10, n.into(), n, 2000, 50))
        .collect();
    // The hard case for the bounds: the same lines in another order (same histogram, same 3-grams).
    let mut lines: Vec<&str> = near[0].lines().collect();
    lines.reverse();
    let shuffled = [near[0].clone(), lines.join("\n"), near[1].clone()];
    let mut g = c.benchmark_group("three 100 KB outputs");
    g.sample_size(20);
    for (name, outputs) in [
        ("near-identical (stuck)", &near[..]),
        ("unrelated", &unrelated[..]),
        ("same lines reordered", &shuffled[..]),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let normalised: Vec<Vec<u8>> = outputs
                    .iter()
                    .map(|o| comparable(black_box(o), MAX_COMPARED))
                    .collect();
                all_similar(&normalised, 0.9)
            });
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
