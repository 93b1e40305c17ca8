//! skill-gateway's functions: reading a 300-skill library, and routing a prompt with the index built
//! from scratch (the cold path: read, parse, index, rank). The warm path (the cached index) is a
//! whole-process case in the suite's process bench, where its stats and cache read are measured too.

#![allow(clippy::unwrap_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use skill_gateway::SkillsConfig;

fn library(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    portcullis_testkit::skill_library(dir.path(), 300);
    let config = SkillsConfig::default();
    c.bench_function("read a 300-skill library", |b| {
        b.iter(|| skill_gateway::library(dir.path(), None, None, &config));
    });
    c.bench_function("route a prompt, 300 skills, index built", |b| {
        b.iter(|| {
            skill_gateway::route(
                dir.path(),
                None,
                None,
                &config,
                "please look into topic123 for the release, it breaks the build",
            )
        });
    });
}

criterion_group!(benches, library);
criterion_main!(benches);
