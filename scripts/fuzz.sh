#!/usr/bin/env bash
# Fuzz every target (or one) for a set time each: scripts/fuzz.sh [SECONDS] [TARGET|all] [--seed S]
# Stable toolchain, no coverage feedback (see crates/fuzz/src/lib.rs for why). A finding is saved under
# fuzz/findings/<target>/ and the script exits 1; once fixed, move the file to fuzz/regressions/<target>/,
# where `cargo test -p portcullis-fuzz` replays it for good.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
target="${2:-all}"
shift $(( $# > 2 ? 2 : $# ))
cargo build --quiet --locked --profile fuzz -p portcullis-fuzz
exec target/fuzz/portcullis-fuzz "$target" --seconds "$seconds" "$@"
