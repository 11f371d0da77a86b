#!/usr/bin/env bash
# Throughput of ocikit's layer compression (src/layer/compression.ts) against
# pigz and GNU gzip on one ~500 MB tar of /usr (binaries, headers, docs):
#
#   compress:   ocikit compressor('gzip') (level 6, 1 MiB blocks on worker threads)
#               vs `pigz -6` vs `gzip -6`, each reading the tar and writing /dev/null
#   decompress: ocikit decompressor('gzip') + sha256, plain node:zlib createGunzip + sha256,
#               `gzip -dc | sha256sum`, `pigz -dc | sha256sum`, on pigz's -6 output
#               (one member, as most registry layers are)
#
# Tools alternate: each benchmark is ROUNDS hyperfine invocations, the order of
# the tools reversed every round; statistics pool all rounds. Absolute times on
# the 2-vCPU project machines vary by +-25 %: read the ratios.
#
# Usage: npm run build && bench/compression.sh
# Environment:
#   SIZE_MB  size of the tar to build (default 500)
#   RUNS     timed runs per tool, over all rounds (default 4)
#   ROUNDS   hyperfine invocations per benchmark (default 2)
#   WORK     scratch directory, kept for re-runs (default /tmp/ocikit-bench-compression)
#   OUT      directory for the hyperfine JSON (default bench/out/compression)
#   ONLY     "compress", "decompress" or both (default both)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
SIZE_MB=${SIZE_MB:-500}
RUNS=${RUNS:-4}
ROUNDS=${ROUNDS:-2}
WORK=${WORK:-/tmp/ocikit-bench-compression}
OUT=${OUT:-$HERE/out/compression}
ONLY=${ONLY:-compress decompress}
LIB=$ROOT/dist/src/layer/compression.js

die() { echo "compression: $*" >&2; exit 1; }
for t in hyperfine node pigz gzip sha256sum tar; do command -v "$t" >/dev/null || die "$t not found"; done
[ -f "$LIB" ] || die "$LIB missing: run npm run build (or npx tsc -p tsconfig.json) first"
(( ROUNDS >= 1 && RUNS >= ROUNDS )) || die "need RUNS >= ROUNDS >= 1"
PER_ROUND=$(( (RUNS + ROUNDS - 1) / ROUNDS ))
mkdir -p "$WORK" "$OUT"
rm -f "$OUT"/*.json

TAR=$WORK/usr-${SIZE_MB}M.tar
if [ ! -s "$TAR" ]; then
  echo "building $TAR from /usr ..." >&2
  find /usr/bin /usr/include /usr/share /usr/lib -xdev -type f -printf '%s\t%p\n' 2>/dev/null |
    awk -F'\t' -v max=$((SIZE_MB * 1048576)) '{ if (sum + $1 > max) exit; sum += $1; print $2 }' |
    tar --no-recursion -P -cf "$TAR" --files-from=- 2>/dev/null || true
fi
BYTES=$(stat -c %s "$TAR")
echo "input: $TAR, $((BYTES / 1048576)) MiB, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2

cat > "$WORK/ocikit-gzip.mjs" <<EOF
import { compressor } from '$LIB';
import { pipeline } from 'node:stream/promises';
await pipeline(process.stdin, compressor('gzip', { level: 6 }), process.stdout);
EOF
cat > "$WORK/ocikit-gunzip-sha.mjs" <<EOF
import { decompressor } from '$LIB';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
const h = createHash('sha256');
await pipeline(process.stdin, decompressor('gzip'), async (src) => { for await (const c of src) h.update(c); });
console.log(h.digest('hex'));
EOF
cat > "$WORK/zlib-gunzip-sha.mjs" <<'EOF'
import { createGunzip } from 'node:zlib';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
const h = createHash('sha256');
await pipeline(process.stdin, createGunzip(), async (src) => { for await (const c of src) h.update(c); });
console.log(h.digest('hex'));
EOF

# Checks before timing: our output is valid gzip holding the tar, and both readers agree.
WANT=$(sha256sum < "$TAR" | cut -d' ' -f1)
node "$WORK/ocikit-gzip.mjs" < "$TAR" > "$WORK/ocikit.gz"
gzip -t "$WORK/ocikit.gz" || die "gzip -t refuses ocikit's output"
[ "$(gzip -dc "$WORK/ocikit.gz" | sha256sum | cut -d' ' -f1)" = "$WANT" ] || die "gzip -dc of ocikit's output differs from the tar"
[ -s "$WORK/pigz.gz" ] || pigz -6 -c < "$TAR" > "$WORK/pigz.gz"
gzip -6 -c < "$TAR" > "$WORK/gzip.gz"
[ "$(node "$WORK/ocikit-gunzip-sha.mjs" < "$WORK/pigz.gz")" = "$WANT" ] || die "ocikit's decompressor gives other bytes"
[ "$(node "$WORK/zlib-gunzip-sha.mjs" < "$WORK/pigz.gz")" = "$WANT" ] || die "node:zlib gives other bytes"
echo "sizes: tar $BYTES, ocikit $(stat -c %s "$WORK/ocikit.gz"), pigz -6 $(stat -c %s "$WORK/pigz.gz"), gzip -6 $(stat -c %s "$WORK/gzip.gz")"

# bench NAME then pairs of "label" "command"; runs ROUNDS hyperfine invocations, order reversed each round.
bench() {
  local name=$1; shift
  local -a pairs=("$@") fwd=() rev=()
  local i
  for ((i = 0; i < ${#pairs[@]}; i += 2)); do fwd+=(-n "${pairs[i]}" "${pairs[i+1]}"); done
  for ((i = ${#pairs[@]} - 2; i >= 0; i -= 2)); do rev+=(-n "${pairs[i]}" "${pairs[i+1]}"); done
  for ((r = 1; r <= ROUNDS; r++)); do
    if (( r % 2 )); then set -- "${fwd[@]}"; else set -- "${rev[@]}"; fi
    hyperfine --runs "$PER_ROUND" --warmup 0 --export-json "$OUT/$name.r$r.json" "$@" >&2
  done
}

if [[ " $ONLY " == *" compress "* ]]; then
  bench compress \
    ocikit "node $WORK/ocikit-gzip.mjs < $TAR > /dev/null" \
    "pigz -6" "pigz -6 -c < $TAR > /dev/null" \
    "gzip -6" "gzip -6 -c < $TAR > /dev/null"
fi
if [[ " $ONLY " == *" decompress "* ]]; then
  bench decompress \
    "ocikit+sha256" "node $WORK/ocikit-gunzip-sha.mjs < $WORK/pigz.gz" \
    "node:zlib+sha256" "node $WORK/zlib-gunzip-sha.mjs < $WORK/pigz.gz" \
    "gzip -dc|sha256sum" "gzip -dc < $WORK/pigz.gz | sha256sum" \
    "pigz -dc|sha256sum" "pigz -dc < $WORK/pigz.gz | sha256sum"
fi

# Pool the rounds: mean, median and throughput (MiB of tar per second) per tool.
node - "$OUT" "$BYTES" <<'EOF'
const { readdirSync, readFileSync } = await import('node:fs');
const [out, bytes] = process.argv.slice(2);
const groups = new Map();
for (const f of readdirSync(out).filter((f) => f.endsWith('.json')).sort()) {
  const bench = f.split('.')[0];
  for (const r of JSON.parse(readFileSync(`${out}/${f}`, 'utf8')).results) {
    const key = `${bench}\t${r.command}`;
    groups.set(key, [...(groups.get(key) ?? []), ...r.times]);
  }
}
const mib = Number(bytes) / 1048576;
console.log(`${'benchmark'.padEnd(12)}${'tool'.padEnd(22)}${'mean s'.padStart(8)}${'median s'.padStart(10)}${'MiB/s'.padStart(8)}  runs`);
for (const [key, t] of groups) {
  const [bench, tool] = key.split('\t');
  const s = [...t].sort((a, b) => a - b);
  const mean = t.reduce((a, b) => a + b, 0) / t.length;
  const med = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  console.log(`${bench.padEnd(12)}${tool.padEnd(22)}${mean.toFixed(2).padStart(8)}${med.toFixed(2).padStart(10)}${(mib / mean).toFixed(0).padStart(8)}  ${t.length}`);
}
EOF
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
