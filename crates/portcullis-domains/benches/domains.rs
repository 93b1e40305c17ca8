//! Criterion benches of the domain path: building the table and classifying one path, as a hook does
//! once per call.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use portcullis_domains::DomainMap;
use portcullis_domains::{DomainsConfig, FallbackDomain};

fn domains(c: &mut Criterion) {
    let config = DomainsConfig::default();
    c.bench_function("domains/build-default", |b| {
        b.iter(|| DomainMap::from_config(black_box(&config), &FallbackDomain::default()));
    });
    for (name, path) in [
        ("unclaimed", "notes.txt"),
        ("backend", "api/x.go"),
        ("test", "pkg/a_test.go"),
    ] {
        c.bench_function(&format!("domains/build+classify-{name}"), |b| {
            b.iter(|| {
                DomainMap::from_config(black_box(&config), &FallbackDomain::default())
                    .map(|m| m.classify(black_box(path)))
            });
        });
    }
}

criterion_group!(benches, domains);
criterion_main!(benches);
