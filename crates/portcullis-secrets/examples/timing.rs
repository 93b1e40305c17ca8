//! Times one redaction of FILE in-process: the first call (regexes compiled on the way) and a second.
//! `cargo run --release -p portcullis-secrets --example timing -- FILE`

#![allow(clippy::print_stdout, clippy::unwrap_used)]

fn main() {
    let path = std::env::args().nth(1).unwrap();
    let text = std::fs::read_to_string(path).unwrap();
    let s = portcullis_secrets::Scanner::default();
    let t = std::time::Instant::now();
    let held = s.might_hold(text.as_bytes());
    let pre = t.elapsed();
    let t = std::time::Instant::now();
    let n = s.redact(&text).map_or(0, |(_, f)| f.len());
    let first = t.elapsed();
    let t = std::time::Instant::now();
    let _ = s.redact(&text);
    let second = t.elapsed();
    println!(
        "{} bytes, might_hold {held} in {pre:?}, {n} findings; first {first:?}, second {second:?}",
        text.len()
    );
}
