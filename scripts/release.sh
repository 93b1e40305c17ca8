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
# On Linux with glibc the binaries are linked statically (`-C target-feature=+crt-static`, a static-pie):
# a hook runs on every tool call, and a static binary skips the dynamic loader and libc's relocations,
# about a third of an empty program's start-up. `--target` is passed so that the flag reaches only the
# binaries, not the build scripts and proc-macros (which cannot be static). Elsewhere, or with
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
