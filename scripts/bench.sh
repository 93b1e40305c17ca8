#!/usr/bin/env bash
# The whole-process benchmark: every hook on its common event and its worst case, against an empty binary
# that only reads stdin, linked dynamically (cargo's default) and as the hooks are (scripts/release.sh);
# prints medians, both ratios, budgets and peak memory.
#   scripts/bench.sh [RUNS] [--check] [--readme]
# --check fails (exit 1) when a case is past its budget in crates/suite-tests/benches/budget.toml;
# --readme rewrites the README's performance table from this run.
# PORTCULLIS_BENCH_SMALL=1 skips the 1 GB transcript and uses a 5,000-file repository (CI does).
# The harness itself is built with the dev profile: it only spawns the release binaries and times them,
# so it reuses what `cargo test` compiled instead of building the workspace again (minutes of CI).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "date: $(date -u +%Y-%m-%d), machine: $(nproc) cores, $(uname -sm), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
exec cargo bench --quiet --locked --profile dev -p suite-tests --bench process -- "${@:-100}"
