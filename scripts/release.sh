#!/usr/bin/env bash
# Build the release binaries the way they are installed, and print the folder that holds them (last line
# of stdout). scripts/release.sh [CARGO BUILD ARGS...], e.g. `--workspace --exclude bench-floors` (install.sh:
# the benchmark's two yardsticks left out).
#
# On Linux with glibc they are linked statically (`-C target-feature=+crt-static`, a static-pie): a hook
# runs on every tool call, and a static binary skips the dynamic loader and libc's relocations, about a
# third of an empty program's start-up. `--target` is passed so that the flag reaches only the binaries,
# not the build scripts and proc-macros (which cannot be static). Elsewhere, or with
# PORTCULLIS_LINK=dynamic, cargo's default linking is used.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target_dir="${CARGO_TARGET_DIR:-$here/target}"
host="$(rustc -vV | sed -n 's/^host: //p')"
case "$host:${PORTCULLIS_LINK:-static}" in
  *-linux-gnu:static)
    var="CARGO_TARGET_$(echo "$host" | tr 'a-z-' 'A-Z_')_RUSTFLAGS"
    export "$var=${!var:-} -C target-feature=+crt-static"
    cargo build --release --locked --bins --target "$host" --manifest-path "$here/Cargo.toml" "$@" >&2
    echo "$target_dir/$host/release" ;;
  *)
    cargo build --release --locked --bins --manifest-path "$here/Cargo.toml" "$@" >&2
    echo "$target_dir/release" ;;
esac
