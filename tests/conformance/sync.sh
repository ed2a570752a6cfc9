#!/usr/bin/env bash
# Refreshes the in-repo copies of the Loki conformance suites from the
# shared workspace and says whether they differed:
#
#   tests/conformance/loki2.9/  <-  <shared>/conformance   (Loki 2.9 answers)
#   tests/conformance/loki3.6/  <-  <shared>/conformance3  (Loki 3.6 answers)
#
# <shared> is ../shared beside the checkout, or $LOKIC_SHARED_DIR.
# Each copy is made equal to its source: changed and new files are copied,
# files gone from the source are removed.
#
#   tests/conformance/sync.sh           refresh; exit 0
#   tests/conformance/sync.sh --check   change nothing; exit 1 when a copy differs
#
# Exit 2 when a source directory is missing.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
shared=${LOKIC_SHARED_DIR:-$root/../shared}
shared=$(cd "$shared" 2>/dev/null && pwd || echo "$shared")
check=false
case "${1:-}" in
  "") ;;
  --check) check=true ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

differs=false

# sync_one SRC DST: prints one line per differing file; copies unless --check.
sync_one() {
  local src=$1 dst=$2 name f changed=false
  if [[ ! -d "$src" ]]; then
    echo "sync.sh: $src not found (set LOKIC_SHARED_DIR)" >&2
    exit 2
  fi
  mkdir -p "$dst"
  for f in "$src"/*; do
    [[ -f "$f" ]] || continue
    name=$(basename "$f")
    if [[ ! -f "$dst/$name" ]]; then
      echo "new:     ${dst#"$root"/}/$name"
    elif ! cmp -s "$f" "$dst/$name"; then
      echo "changed: ${dst#"$root"/}/$name"
    else
      continue
    fi
    changed=true
    $check || install -m 0644 "$f" "$dst/$name"
  done
  for f in "$dst"/*; do
    [[ -f "$f" ]] || continue
    name=$(basename "$f")
    [[ -f "$src/$name" ]] && continue
    echo "removed: ${dst#"$root"/}/$name"
    changed=true
    $check || rm -f "$f"
  done
  if $changed; then
    differs=true
  else
    echo "same:    ${dst#"$root"/}/ matches $src"
  fi
}

sync_one "$shared/conformance" "$here/loki2.9"
sync_one "$shared/conformance3" "$here/loki3.6"

if ! $differs; then
  echo "the copies match the shared suites"
elif $check; then
  echo "the copies differ from the shared suites: run tests/conformance/sync.sh and commit"
  exit 1
else
  echo "copies refreshed: review with git status / git diff and commit"
fi
