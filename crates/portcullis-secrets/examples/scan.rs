//! Scans files for secrets and prints each finding (file, line, kind, the redacted line): how the false
//! positives on ordinary code were measured. `cargo run --release -p portcullis-secrets --example scan -- FILE...`

#![allow(clippy::print_stdout)]

fn main() {
    let scanner = portcullis_secrets::Scanner::default();
    let (mut files, mut bytes, mut hits) = (0usize, 0usize, 0usize);
    for path in std::env::args().skip(1) {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        files += 1;
        bytes += text.len();
        if let Some((out, findings)) = scanner.redact(&text) {
            let lines: Vec<&str> = out.lines().collect();
            for f in findings {
                hits += 1;
                let shown = lines.get(f.line - 1).copied().unwrap_or_default();
                println!(
                    "{path}:{}: {} | {}",
                    f.line,
                    f.kind,
                    shown.trim().chars().take(160).collect::<String>()
                );
            }
        }
    }
    println!("{files} files, {bytes} bytes, {hits} findings");
}
