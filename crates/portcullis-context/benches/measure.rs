//! `cargo bench -p portcullis-context`: the transcript measure on a small and a large file. The figure to
//! watch is the ratio between them: reading from the end, it should be about 1.

#![allow(clippy::unwrap_used)]

use std::io::Write;

use criterion::{Criterion, criterion_group, criterion_main};
use portcullis_context::{Scope, measure};
use portcullis_core::Env;

/// A transcript of about `bytes` made of realistic lines, ending with a request and a response.
fn transcript(bytes: usize) -> tempfile::NamedTempFile {
    let filler = format!(
        r#"{{"type":"attachment","attachment":{{"type":"prompt_snapshot","text":"{}"}}}}"#,
        "x".repeat(100_000)
    );
    let user = r#"{"type":"user","isSidechain":false,"message":{"role":"user","content":"write the handler"}}"#;
    let mut f = tempfile::NamedTempFile::new().unwrap();
    let mut written = 0;
    while written < bytes {
        writeln!(f, "{filler}").unwrap();
        writeln!(f, "{user}").unwrap();
        written += filler.len() + user.len() + 2;
    }
    writeln!(f, r#"{{"type":"api-request","params":{{"model":"claude-sonnet-4-5","max_tokens":32000,"betas":[]}}}}"#).unwrap();
    writeln!(f, r#"{{"type":"assistant","isSidechain":false,"requestRef":"r","message":{{"id":"m","model":"claude-sonnet-4-5","content":[{{"type":"text","text":"done"}}],"usage":{{"input_tokens":12000,"cache_read_input_tokens":150000,"cache_creation_input_tokens":300,"output_tokens":400}}}}}}"#).unwrap();
    f
}

fn bench(c: &mut Criterion) {
    let env = Env::from_pairs([]);
    for (name, size) in [("1MB", 1 << 20), ("64MB", 64 << 20)] {
        let f = transcript(size);
        c.bench_function(&format!("measure/{name}"), |b| {
            b.iter(|| measure(f.path(), Scope::Main, None, &env).unwrap());
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
