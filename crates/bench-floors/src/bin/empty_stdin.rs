//! The baseline: a Rust binary that only reads stdin to the end. Hook benchmarks report ratios against it.

use std::io::Read;

fn main() {
    let mut sink = Vec::new();
    let _ = std::io::stdin().lock().read_to_end(&mut sink);
}
