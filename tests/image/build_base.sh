#!/usr/bin/env bash
# Makes the base images the Dockerfile starts FROM, for building and running
# lokic's image here without a registry: installs podman, runc and
# debootstrap when missing (scripts/deps.sh --image), makes a
# `debootstrap --variant=minbase bookworm` root file system once (cached in
# $LOKIC_IMAGE_CACHE, default /var/cache/lokic-image, outside the source
# tree) and imports it into podman's store as debian:bookworm and
# debian:bookworm-slim. Does nothing that is done already, so a second run
# takes a second.
#
# Usage: tests/image/build_base.sh            (as root, or with sudo)
# tests/image/test_image.py then builds the Dockerfile with --pull=never.
set -euo pipefail

cache=${LOKIC_IMAGE_CACHE:-/var/cache/lokic-image}
tags=(docker.io/library/debian:bookworm docker.io/library/debian:bookworm-slim)
recipe=2 # raise when the root file system below changes: the cache is remade

sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"

"$(dirname "$0")/../../scripts/deps.sh" --image

have_all=1
for t in "${tags[@]}"; do
  got=$($sudo podman image inspect --format '{{index .Labels "lokic.base-recipe"}}' "$t" 2>/dev/null) || got=""
  [[ "$got" == "$recipe" ]] || have_all=0
done
[[ $have_all -eq 1 ]] && exit 0

# The Debian mirror apt uses on this machine (deb822 or one-line sources).
mirror=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\/debian\)$/\1/p' \
           /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
[[ -n "$mirror" ]] || mirror=$(sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]*\/debian\)[[:space:]]\+bookworm[[:space:]].*/\2/p' \
                                 /etc/apt/sources.list 2>/dev/null | head -n 1)
mirror=${mirror:-http://deb.debian.org/debian}

tarball="$cache/bookworm-minbase-$recipe.tar"
if [[ ! -s "$tarball" ]]; then
  $sudo mkdir -p "$cache"
  root=$($sudo mktemp -d "$cache/rootfs.XXXXXX")
  trap '$sudo rm -rf "$root"' EXIT
  echo "debootstrap --variant=minbase bookworm from $mirror" >&2
  $sudo debootstrap --variant=minbase bookworm "$root" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
    { tail -n 30 "$cache/debootstrap.log" >&2; exit 1; }
  # as Debian's images: the release, its updates and security suites, and
  # no package lists or caches kept
  $sudo rm -f "$root/etc/apt/sources.list"
  printf '%s\n' 'Types: deb' "URIs: $mirror" 'Suites: bookworm bookworm-updates' \
    'Components: main' 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' '' \
    'Types: deb' "URIs: ${mirror%/debian}/debian-security" 'Suites: bookworm-security' \
    'Components: main' 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' |
    $sudo tee "$root/etc/apt/sources.list.d/debian.sources" >/dev/null
  $sudo sh -c "rm -rf '$root'/var/lib/apt/lists/* '$root'/var/cache/apt/*.bin \
               '$root'/var/cache/apt/archives/*.deb"
  $sudo tar -C "$root" --numeric-owner -cf "$tarball.tmp" .
  $sudo mv "$tarball.tmp" "$tarball"
fi

$sudo podman import --change 'CMD ["bash"]' --change "LABEL lokic.base-recipe=$recipe" \
  "$tarball" "${tags[0]}" >/dev/null
for t in "${tags[@]:1}"; do
  $sudo podman tag "${tags[0]}" "$t"
done
echo "base images: ${tags[*]}" >&2
