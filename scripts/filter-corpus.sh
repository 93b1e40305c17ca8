#!/usr/bin/env bash
# Makes context-filter's corpus (fixtures/context-filter/corpus/): real outputs of real tools on this
# machine, one `<name>.out` each, as the client would hand them to the hook. The facts each must keep are
# in `<name>.facts` (written by hand, one per line, after looking at the output); this script never
# touches those. Needs cargo, git, python3 with pytest (PYTEST=path), npm.
#   scripts/filter-corpus.sh [OUT_DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$here/fixtures/context-filter/corpus}"
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
pytest="${PYTEST:-pytest}"

# A Rust crate with 600 passing tests and 3 failing ones.
cargo new -q --lib "$work/shop" --vcs none
{
  echo 'pub fn price(cents: u64, discount: u64) -> u64 { cents - cents * discount / 100 }'
  echo '#[cfg(test)] mod tests { use super::*;'
  for i in $(seq 1 600); do echo "  #[test] fn price_case_$i() { assert_eq!(price($i * 100, 0), $i * 100); }"; done
  echo '  #[test] fn discount_rounds_down() { assert_eq!(price(999, 10), 900); }'
  echo '  #[test] fn discount_of_half() { assert_eq!(price(1000, 50), 501, "half price of 1000"); }'
  echo '  #[test] fn overflow_is_caught() { let v: Vec<u64> = vec![]; assert!(v[3] > 0); }'
  echo '}'
} > "$work/shop/src/lib.rs"
(cd "$work/shop" && cargo test --color never 2>&1 || true) > "$out/cargo-test-failing.out"
sed -i '/discount_rounds_down\|discount_of_half\|overflow_is_caught/d' "$work/shop/src/lib.rs"
(cd "$work/shop" && cargo test --color never 2>&1) > "$out/cargo-test-passing.out"

# A crate with errors and warnings.
cargo new -q --lib "$work/broken" --vcs none
{
  for i in $(seq 1 90); do echo "pub fn helper_$i(x: u32) -> u32 { let unused_$i = x; x + 1 }"; done
  echo 'pub fn total(xs: &[u32]) -> u32 { xs.iter().sum::<u64>() }'
  echo 'pub fn name() -> String { "shop" }'
  echo 'pub fn missing() -> u32 { undefined_function(3) }'
} > "$work/broken/src/lib.rs"
(cd "$work/broken" && cargo build --color never 2>&1 || true) > "$out/cargo-build-errors.out"

# pytest with failures among many passes.
mkdir -p "$work/py"
{
  echo 'import pytest'
  echo 'def total(xs): return sum(xs)'
  for i in $(seq 1 400); do echo "def test_total_$i(): assert total([$i, 1]) == $i + 1"; done
  echo 'def test_discount_applied(): assert total([10, 20]) == 27, "discount not applied"'
  echo 'def test_empty_cart(): assert total(None) == 0'
} > "$work/py/test_cart.py"
(cd "$work/py" && "$pytest" -v -p no:cacheprovider 2>&1 || true) > "$out/pytest-failing.out"

# Version control of a real repository: this one.
git -C "$here" log --stat -n 60 --no-color > "$out/git-log-stat.out"
git -C "$here" diff --no-color HEAD~12 HEAD -- crates/feedback-loop crates/portcullis > "$out/git-diff.out"

# A large listing: the cargo registry's sources.
registry="$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/ | head -1)"
(cd "$registry" && ls -la serde_json-*/src serde-1*/src regex-*/src git2-*/src clap_builder-*/src \
  syn-2*/src 2>/dev/null; find . -maxdepth 3 -name '*.rs' | sort | head -3000) > "$out/listing.out"

# A large JSON document: cargo's own metadata of this workspace.
cargo metadata --format-version 1 --no-deps --manifest-path "$here/Cargo.toml" > "$out/cargo-metadata.json.out"

# A noisy install log: npm installing a few packages, with its progress and warnings.
mkdir -p "$work/npm" && (cd "$work/npm" && npm init -y >/dev/null &&
  npm install --loglevel http --no-fund --no-audit express@4 request@2 2>&1 || true) > "$out/npm-install.out"

# Thousands of near-identical lines with a few errors: cp -v of a tree with some sources missing.
mkdir -p "$work/tree/src"
for i in $(seq 1 3000); do echo "$i" > "$work/tree/src/file_$i.dat"; done
mkdir -p "$work/tree/backup"
(cd "$work/tree" && cp -v src/file_1*.dat src/missing_a.dat src/file_2*.dat src/missing_b.dat \
  src/file_[3-9]*.dat backup/ 2>&1 || true) > "$out/copy-log.out"

# A small output.
git -C "$here" log --oneline -n 5 --no-color > "$out/small.out"

# An output with a secret inside (a made-up token in a made-up environment).
env -i HOME=/home/dev GITHUB_TOKEN=ghp_R8v2kLq9ZxWm4Tn7Yp3Hs6Jd1Fg5Ac0Eb2Ku PATH=/usr/bin \
  sh -c 'env; for i in $(seq 1 600); do echo "fetch https://api.github.com/repos/shop/cart/issues/$i -> 200 OK"; done' \
  > "$out/secret-inside.out"

ls -l "$out"
