#!/usr/bin/env bash
# Build the portcullis binaries, install them, and (optionally) set a project up or register the hooks.
#   ./install.sh [--init DIR | --project DIR | --user]
#   --init DIR: `portcullis init` (agents for DIR's domains, the hooks registered, what is enforced)
# Binaries go to ${PORTCULLIS_BIN_DIR:-$HOME/.local/bin}. Idempotent: running it again rebuilds and
# re-registers, leaving settings.json byte-identical when nothing changed.
set -euo pipefail

scope=()
init=""
case "${1:-}" in
  --init)    [ -n "${2:-}" ] || { echo "install.sh: --init needs a folder" >&2; exit 64; }
             [ -d "$2" ] || { echo "install.sh: --init: $2 is not a folder" >&2; exit 64; }
             init="$(cd "$2" && pwd)" ;;
  --project) [ -n "${2:-}" ] || { echo "install.sh: --project needs a folder" >&2; exit 64; }
             mkdir -p "$2"; scope=(--project "$(cd "$2" && pwd)") ;;
  --user)    scope=(--user) ;;
  "")        ;;
  -h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *)         echo "install.sh: unknown option $1 (use --init DIR, --project DIR or --user)" >&2; exit 64 ;;
esac

command -v cargo >/dev/null 2>&1 || {
  echo "install.sh: cargo not found; install Rust first (https://rustup.rs)" >&2; exit 1; }

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin_dir="${PORTCULLIS_BIN_DIR:-$HOME/.local/bin}"

echo "building release binaries..."
# One binary, `portcullis`; every hook is a link to it (scripts/release.sh says why).
release=$("$here/scripts/release.sh" -p portcullis | tail -n1)

mkdir -p "$bin_dir"
# Atomic: a running session never sees a half-copied binary or a missing link.
install -m 0755 "$release/portcullis" "$bin_dir/portcullis.tmp.$$"
mv -f "$bin_dir/portcullis.tmp.$$" "$bin_dir/portcullis"
bins=$("$bin_dir/portcullis" binaries)
for b in $bins; do
  [ "$b" = portcullis ] && continue
  ln -s portcullis "$bin_dir/$b.tmp.$$"
  mv -f "$bin_dir/$b.tmp.$$" "$bin_dir/$b"
done
echo "installed $bin_dir/portcullis and $(( $(echo $bins | wc -w) - 1 )) hooks linked to it: $(echo $bins)"

if [ -n "$init" ]; then
  "$bin_dir/portcullis" init --project "$init" --bin-dir "$bin_dir"
elif [ ${#scope[@]} -eq 0 ]; then
  echo "not registered yet; run one of:"
  echo "  $bin_dir/portcullis init --project /path/to/project"
  echo "  $bin_dir/portcullis install --user"
  exit 0
else
  "$bin_dir/portcullis" install "${scope[@]}" --bin-dir "$bin_dir"
fi
case ":$PATH:" in *":$bin_dir:"*) ;; *) echo "note: $bin_dir is not on PATH (the hooks are registered by absolute path, so they work anyway)";; esac
