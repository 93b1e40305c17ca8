#!/usr/bin/env bash
# Build the release binaries the way they are installed, and print the folder that holds the installed
# layout (last line of stdout). scripts/release.sh [CARGO BUILD ARGS...], e.g. `-p portcullis` (install.sh)
# or `-p portcullis -p bench-floors` (the bench).
#
# One binary is installed: `portcullis`, which every hook is a link to (started under a hook's name it is
# that hook; see crates/portcullis/src/main.rs). Fat LTO optimises the whole dependency graph once per
# binary; one binary instead of fourteen took a clean install from 311 s to about a third of that on 2
# cores, and a hook started through the link measured as fast as its own binary (README, Set-up). The
# layout folder `installed/` beside cargo's output holds `portcullis`, a link named after each hook, and
# the bench's floors when they were built.
#
# On Linux with glibc the binaries are linked statically and not position-independent
# (`-C target-feature=+crt-static -C relocation-model=static`): a hook runs on every tool call, and a
# static binary skips the dynamic loader; a non-PIE one also skips relocating itself. The one binary of
# all hooks holds 13,000 relocations, and applying them dirtied enough pages that a static-pie hook ran
# 11-14% slower than its own binary had (feedback-loop's first edit: 179 page faults, against 130 for its
# own static-pie binary and 120 for the non-PIE one binary). What non-PIE gives up is ASLR for the
# binary's own code; a hook is a short-lived process reading JSON with memory-safe code, and the one input
# it parses with C (libgit2, a repository) comes from a project whose tests the agent already runs.
# PORTCULLIS_LINK=static-pie keeps ASLR at that cost; PORTCULLIS_LINK=dynamic is cargo's default linking
# (also used off Linux-glibc). `--target` is passed so that the flags reach only the binaries, not the
# build scripts and proc-macros (which cannot be static).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target_dir="${CARGO_TARGET_DIR:-$here/target}"
host="$(rustc -vV | sed -n 's/^host: //p')"
link="${PORTCULLIS_LINK:-static}"
case "$link" in
  static) flags="-C target-feature=+crt-static -C relocation-model=static" ;;
  static-pie) flags="-C target-feature=+crt-static" ;;
  dynamic) flags="" ;;
  *) echo "release.sh: error: PORTCULLIS_LINK is static, static-pie or dynamic, not '$link'" >&2; exit 64 ;;
esac
case "$host:$link" in
  *-linux-gnu:static | *-linux-gnu:static-pie)
    var="CARGO_TARGET_$(echo "$host" | tr 'a-z-' 'A-Z_')_RUSTFLAGS"
    export "$var=${!var:-} $flags"
    cargo build --release --locked --bins --target "$host" --manifest-path "$here/Cargo.toml" "$@" >&2
    out="$target_dir/$host/release" ;;
  *)
    cargo build --release --locked --bins --manifest-path "$here/Cargo.toml" "$@" >&2
    out="$target_dir/release" ;;
esac
layout="$out/installed"
rm -rf "$layout"
mkdir -p "$layout"
if [ -x "$out/portcullis" ]; then
  ln -f "$out/portcullis" "$layout/portcullis" 2>/dev/null || cp "$out/portcullis" "$layout/portcullis"
  for b in $("$out/portcullis" binaries); do
    [ "$b" = portcullis ] || ln -s portcullis "$layout/$b"
  done
fi
for floor in empty_stdin noop_hook; do
  if [ -x "$out/$floor" ]; then ln -f "$out/$floor" "$layout/$floor" 2>/dev/null || cp "$out/$floor" "$layout/$floor"; fi
done
echo "$layout"
