#!/usr/bin/env bash
# Fuzz every target (or one) for a set time each: scripts/fuzz.sh [SECONDS] [TARGET|all] [--seed S]
# Stable toolchain, no coverage feedback (see crates/fuzz/src/lib.rs for why). A finding is saved under
# fuzz/findings/<target>/ and the script exits 1; once fixed, move the file to fuzz/regressions/<target>/,
# where `cargo test -p portcullis-fuzz` replays it for good.
# PORTCULLIS_FUZZ_PROFILE=dev builds with the dev profile instead of the optimised `fuzz` one: far fewer
# executions a second, but no third build of the workspace (CI does this; it reuses what `cargo test`
# compiled, about five minutes of its thirty).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
target="${2:-all}"
shift $(( $# > 2 ? 2 : $# ))
profile="${PORTCULLIS_FUZZ_PROFILE:-fuzz}"
case "$profile" in dev) dir=debug ;; *) dir="$profile" ;; esac
cargo build --quiet --locked --profile "$profile" -p portcullis-fuzz
exec "${CARGO_TARGET_DIR:-target}/$dir/portcullis-fuzz" "$target" --seconds "$seconds" "$@"
