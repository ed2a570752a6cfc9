#!/usr/bin/env bash
# Installs the Debian packages lokic needs to build and test, if any are
# missing. Usage: scripts/deps.sh [--fuzz]   (--fuzz adds clang for libFuzzer)
set -euo pipefail

pkgs=(build-essential cmake pkg-config git python3
      libmicrohttpd-dev libprotobuf-c-dev protobuf-c-compiler libsnappy-dev
      liblmdb-dev libyaml-dev libjansson-dev libxxhash-dev zlib1g-dev
      libre2-dev
      libcmocka-dev
      golang-go golang-github-masterminds-sprig-dev golang-gopkg-yaml.v2-dev python3-yaml
      nodejs)
# the real-client tests (tests/clients); NodeSource's nodejs ships npm and
# conflicts with Debian's npm package
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
if [[ "${1:-}" == "--fuzz" ]]; then
  pkgs+=(clang libclang-rt-dev)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "installing: ${missing[*]}" >&2
sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
