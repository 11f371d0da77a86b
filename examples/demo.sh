#!/usr/bin/env bash
# A demo pipeline on an image this script builds itself, offline:
# make an image from a directory, unpack it into a runtime bundle, edit the
# rootfs, repack the edit as a new layer, configure, check and clean up; then,
# if docker-registry is installed, push it to a loopback registry and pull it back.
set -euo pipefail
OCIKIT=${OCIKIT:-"$(cd "$(dirname "$0")/.." && pwd)/bin/ocikit"}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# The files of the first layer.
mkdir -p src/etc src/usr/bin
printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n' > src/etc/passwd
printf 'root:x:0:\napp:x:1000:\n' > src/etc/group
printf '#!/bin/sh\necho hello from the image\n' > src/usr/bin/hello && chmod 755 src/usr/bin/hello
echo 'to be removed' > src/etc/motd

set -x
"$OCIKIT" init --layout demo
"$OCIKIT" new --image demo:base
"$OCIKIT" insert --image demo:base src /
"$OCIKIT" config --image demo:base --config.user app --config.entrypoint /usr/bin/hello
"$OCIKIT" unpack --image demo:base bundle
cat bundle/umoci.json; echo
jq -c '.process | {user, args, env}' bundle/config.json
# Edit the rootfs as a container run would, then repack the changes.
echo 'added by the demo' > bundle/rootfs/etc/issue
rm bundle/rootfs/etc/motd
"$OCIKIT" repack --image demo:edited bundle
"$OCIKIT" stat --image demo:edited
"$OCIKIT" unpack --image demo:edited check
test -f check/rootfs/etc/issue && test ! -e check/rootfs/etc/motd
"$OCIKIT" raw mtree-validate -f check/sha256_*.mtree -p check/rootfs
"$OCIKIT" ls --layout demo --long
"$OCIKIT" rm --image demo:base
"$OCIKIT" --verbose gc --layout demo
"$OCIKIT" validate --layout demo
set +x
if command -v skopeo >/dev/null; then skopeo inspect --config oci:demo:edited | head -20; fi

# The registry bridge, when Debian's docker-registry is installed: push the
# edited image to a registry on the loopback, and pull it back into a new layout.
if command -v docker-registry >/dev/null; then
  port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  printf 'version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: %s/registry}}\nhttp: {addr: 127.0.0.1:%s}\n' "$work" "$port" > registry.yml
  docker-registry serve registry.yml >registry.log 2>&1 &
  registry_pid=$!
  trap 'kill "$registry_pid" 2>/dev/null; rm -rf "$work"' EXIT
  for _ in $(seq 50); do node -e 'fetch(process.argv[1]).then(()=>{},()=>process.exit(1))' "http://127.0.0.1:$port/v2/" && break; sleep 0.1; done
  set -x
  "$OCIKIT" push --tls-verify=false --image demo:edited "127.0.0.1:$port/demo/app:edited"
  "$OCIKIT" tags --tls-verify=false "127.0.0.1:$port/demo/app"
  "$OCIKIT" pull --tls-verify=false "127.0.0.1:$port/demo/app:edited" --image pulled
  "$OCIKIT" digest --tls-verify=false "127.0.0.1:$port/demo/app:edited"
  "$OCIKIT" ls --layout pulled --long
  set +x
fi
echo "demo: ok"
