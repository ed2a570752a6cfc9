#!/usr/bin/env bash
# Installs the Debian packages lokic needs to build and test, if any are
# missing. Usage: scripts/deps.sh [--fuzz] [--image] [--build]
#   --fuzz   adds clang for libFuzzer
#   --image  adds podman, runc and debootstrap for the image test (tests/image)
#   --build  only what building lokic needs, not its tests (the Dockerfile)
set -euo pipefail

pkgs=(build-essential cmake pkg-config git python3
      libmicrohttpd-dev libprotobuf-c-dev protobuf-c-compiler libsnappy-dev
      liblmdb-dev libyaml-dev libjansson-dev libxxhash-dev zlib1g-dev
      libzstd-dev liblz4-dev
      libre2-dev libcurl4-openssl-dev libssl-dev
      libcmocka-dev
      prometheus prometheus-alertmanager
      golang-go golang-github-masterminds-sprig-dev golang-gopkg-yaml.v2-dev python3-yaml
      nodejs
      radosgw ceph-mon ceph-osd
      chromium chromium-driver)
# radosgw ceph-mon ceph-osd: the single-node Ceph the S3 tests start (tests/s3);
# chromium and chromium-driver: the log explorer's browser test (tests/browser);
# the real-client tests (tests/clients); NodeSource's nodejs ships npm and
# conflicts with Debian's npm package
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
test_only=(libcmocka-dev golang-go golang-github-masterminds-sprig-dev golang-gopkg-yaml.v2-dev
           python3-yaml nodejs npm prometheus prometheus-alertmanager radosgw ceph-mon ceph-osd
           chromium chromium-driver)
image_pkgs=(podman runc debootstrap)
for arg in "$@"; do
  case "$arg" in
    --fuzz) pkgs+=(clang libclang-rt-dev) ;;
    --image) pkgs+=("${image_pkgs[@]}") ;;
    --build)
      keep=()
      for p in "${pkgs[@]}"; do
        [[ " ${test_only[*]} " == *" $p "* ]] || keep+=("$p")
      done
      pkgs=("${keep[@]}") ;;
    *) echo "usage: $0 [--fuzz] [--image] [--build]" >&2; exit 2 ;;
  esac
done

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
