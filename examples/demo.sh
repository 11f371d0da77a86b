#!/usr/bin/env bash
# A demo pipeline on an image this script builds itself, offline:
# create a layout, make an image, configure it, tag it, inspect it, validate and gc.
set -euo pipefail
OCIKIT=${OCIKIT:-"$(cd "$(dirname "$0")/.." && pwd)/bin/ocikit"}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

set -x
"$OCIKIT" init --layout demo
"$OCIKIT" new --image demo:base
"$OCIKIT" config --image demo:base --tag app \
  --author="Demo <demo@example.com>" --config.entrypoint=sh --config.entrypoint=-c \
  --config.cmd='echo hello' --config.env LANG=C.UTF-8 --config.label org.example.demo=yes
"$OCIKIT" tag --image demo:app v1
"$OCIKIT" ls --layout demo --long
"$OCIKIT" stat --image demo:v1
"$OCIKIT" rm --image demo:base
"$OCIKIT" --verbose gc --layout demo
"$OCIKIT" validate --layout demo
set +x
if command -v skopeo >/dev/null; then skopeo inspect --config oci:demo:v1 | head -20; fi
echo "demo: ok"
