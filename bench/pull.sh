#!/usr/bin/env bash
# Wall time and peak RSS of `ocikit pull` against `skopeo copy` pulling the
# bench images (bench/make-images.sh) from a registry on the loopback:
# Debian's docker-registry on 127.0.0.1, storage under bench/out, started and
# stopped by this script, each image pushed to it once with skopeo.
#
#   cold: pull into a layout that does not exist (deleted and synced, untimed,
#         before every run); the tools alternate run by run, the order swapped
#         every round, as in bench/engine.sh
#   warm: pull again into the layout the tool's last cold run left complete
#         (every blob already there): only manifests and checks remain
#
# Times are /usr/bin/time -f '%e %M' (elapsed s, peak RSS KB) of one process
# per run. The figure to read is the ratio ocikit / skopeo.
#
# Usage: bench/pull.sh                  (see bench/README.md)
# Environment:
#   OCIKIT     ocikit executable (default: <checkout>/bin/ocikit)
#   SKOPEO     skopeo executable (default: skopeo)
#   REGISTRY   docker-registry executable (default: docker-registry)
#   NAMES      images to pull, of: large distro small-files (default: "large distro")
#   SCALE      passed to make-images.sh when it builds missing images (default 1)
#   IMAGES     where the bench layouts live (default: bench/out/images, or
#              bench/out/images-SCALE when SCALE is not 1; built if missing)
#   RUNS       cold runs per tool and image (default 3)
#   WARM_RUNS  warm runs per tool and image (default 5)
#   OUT        output directory (default: bench/out/pull)
#   KEEP=1     keep the registry storage and the pulled layouts
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
OCIKIT=${OCIKIT:-$ROOT/bin/ocikit}
SKOPEO=${SKOPEO:-skopeo}
REGISTRY=${REGISTRY:-docker-registry}
NAMES=${NAMES:-large distro}
SCALE=${SCALE:-1}
if [ "$SCALE" = 1 ]; then IMAGES=${IMAGES:-$HERE/out/images}; else IMAGES=${IMAGES:-$HERE/out/images-$SCALE}; fi
RUNS=${RUNS:-3}
WARM_RUNS=${WARM_RUNS:-5}
OUT=${OUT:-$HERE/out/pull}
KEEP=${KEEP:-0}
export SCALE

die() { echo "pull: $*" >&2; exit 1; }
log() { echo "== $*" >&2; }
for t in jq curl node sha256sum "$SKOPEO" "$REGISTRY"; do command -v "$t" >/dev/null || die "$t not found"; done
[ -x /usr/bin/time ] || die "/usr/bin/time not found (apt-get install time)"

for img in $NAMES; do
	case "$img" in distro | small-files | large) ;; *) die "unknown image in NAMES: $img" ;; esac
	[ -d "$IMAGES/$img" ] || { log "building $img in $IMAGES (SCALE=$SCALE)"; ONLY=$img "$HERE/make-images.sh" "$IMAGES"; }
done

mkdir -p "$OUT"
W=$(mktemp -d "$OUT/work.XXXXXX")
REG=$(mktemp -d "$HERE/out/registry.XXXXXX")
REG_PID=
cleanup() {
	if [ -n "$REG_PID" ]; then kill "$REG_PID" 2>/dev/null || true; wait "$REG_PID" 2>/dev/null || true; fi
	if [ "$KEEP" = 1 ]; then echo "kept: $W $REG" >&2; else rm -rf "$W" "$REG"; fi
}
trap cleanup EXIT
RES="$OUT/results.tsv"
printf 'case\ttool\trun\tseconds\trss_kb\n' >"$RES"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

# ------------------------------------------------------------- registry
PORT=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
HOST=127.0.0.1:$PORT
cat >"$REG/config.yml" <<EOF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $REG/data
http:
  addr: $HOST
EOF
"$REGISTRY" serve "$REG/config.yml" >"$REG/log" 2>&1 &
REG_PID=$!
for _ in $(seq 150); do
	curl -fsS -o /dev/null "http://$HOST/v2/" 2>/dev/null && break
	kill -0 "$REG_PID" 2>/dev/null || die "docker-registry exited: $(tail -c 400 "$REG/log")"
	sleep 0.1
done
curl -fsS -o /dev/null "http://$HOST/v2/" || die "docker-registry did not answer on $HOST: $(tail -c 400 "$REG/log")"
log "registry on $HOST, storage $REG/data"

declare -A DIGEST
for img in $NAMES; do
	log "pushing $img with skopeo"
	"$SKOPEO" copy -q --dest-tls-verify=false "oci:$IMAGES/$img:$img" "docker://$HOST/bench/$img:1" >&2
	DIGEST[$img]=$(curl -fsSI -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		-H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		"http://$HOST/v2/bench/$img/manifests/1" | tr -d '\r' | awk 'tolower($1) == "docker-content-digest:" { print $2 }')
	[ -n "${DIGEST[$img]}" ] || die "no manifest digest for bench/$img:1"
done
sync # the pushed storage is written back before the first timed run

# ------------------------------------------------------------- timing
# Whether the ocikit under test has a pull command at all.
HAVE_OCIKIT=0
if [ -x "$OCIKIT" ] && "$OCIKIT" pull --help >/dev/null 2>&1; then HAVE_OCIKIT=1; fi

# clean PATH: delete and let the disk settle before a timed run.
clean() { rm -rf "$@"; sync; }

# timed CASE TOOL RUN CMD...: runs CMD under /usr/bin/time, records the result.
declare -A NOTE
timed() {
	local c="$1" tool="$2" run="$3" rc=0
	shift 3
	/usr/bin/time -o "$W/time" -f '%e %M' "$@" >"$W/out" 2>"$W/err" </dev/null || rc=$?
	if [ "$rc" != 0 ]; then
		NOTE[$c.$tool]="FAILED (exit $rc): $* :: $(tail -c 400 "$W/err" | tr '\n' ' ')"
		echo "FAILED ($tool, exit $rc): $*" >&2
		sed 's/^/    /' "$W/err" | tail -20 >&2
		return 1
	fi
	read -r s m <"$W/time"
	printf '%s\t%s\t%s\t%s\t%s\n' "$c" "$tool" "$run" "$s" "$m" >>"$RES"
	log "$c $tool run $run: ${s}s, $((m / 1024)) MB"
}

# pull_cmd TOOL IMAGE DEST: sets CMD to the command that pulls bench/IMAGE:1
# into the layout DEST, tag 1.
pull_cmd() {
	if [ "$1" = ocikit ]; then
		CMD=("$OCIKIT" pull --tls-verify=false --quiet "$HOST/bench/$2:1" --image "$3:1")
	else
		CMD=("$SKOPEO" copy -q --src-tls-verify=false "docker://$HOST/bench/$2:1" "oci:$3:1")
	fi
}

# layout_summary DIR IMAGE: checks a pulled layout (tag 1 -> the registry's
# manifest digest, every blob's content matches its name); prints a summary.
layout_summary() {
	local d="$1" img="$2" got bad=0 n=0 bytes f
	got=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "1") | .digest' "$d/index.json" 2>/dev/null || true)
	for f in "$d"/blobs/sha256/*; do
		[ -f "$f" ] || continue
		n=$((n + 1))
		[ "$(sha256sum <"$f" | cut -d' ' -f1)" = "${f##*/}" ] || bad=$((bad + 1))
	done
	bytes=$(du -s --apparent-size -B1 "$d/blobs" | cut -f1)
	printf '%s blobs, %s bytes' "$n" "$bytes"
	[ "$got" = "${DIGEST[$img]}" ] || printf ', TAG 1 IS %s, NOT THE REGISTRY MANIFEST %s' "${got:-missing}" "${DIGEST[$img]}"
	[ "$bad" = 0 ] || printf ', %s BLOBS WITH WRONG CONTENT' "$bad"
}

CMD=()
TOOLS=(skopeo)
if [ "$HAVE_OCIKIT" = 1 ]; then TOOLS+=(ocikit); else log "no 'ocikit pull' in $OCIKIT: timing skopeo only"; fi

for run in $(seq 1 "$RUNS"); do
	if (( run % 2 )); then order=("${TOOLS[@]}"); else order=(); for ((i = ${#TOOLS[@]} - 1; i >= 0; i--)); do order+=("${TOOLS[i]}"); done; fi
	for img in $NAMES; do
		for tool in "${order[@]}"; do
			d="$W/$tool-$img"
			clean "$d"
			pull_cmd "$tool" "$img" "$d"
			timed "cold-$img" "$tool" "$run" "${CMD[@]}" || continue
			if [ "$run" = 1 ]; then NOTE[cold-$img.$tool.layout]=$(layout_summary "$d" "$img"); fi
		done
	done
done

# warm: the layouts of the last cold runs are complete; pull them again.
for run in $(seq 1 "$WARM_RUNS"); do
	if (( run % 2 )); then order=("${TOOLS[@]}"); else order=(); for ((i = ${#TOOLS[@]} - 1; i >= 0; i--)); do order+=("${TOOLS[i]}"); done; fi
	for img in $NAMES; do
		for tool in "${order[@]}"; do
			d="$W/$tool-$img"
			[ -f "$d/index.json" ] || continue
			pull_cmd "$tool" "$img" "$d"
			timed "warm-$img" "$tool" "$run" "${CMD[@]}" || continue
		done
	done
done
for img in $NAMES; do
	for tool in "${TOOLS[@]}"; do
		if [ -f "$W/$tool-$img/index.json" ]; then NOTE[warm-$img.$tool.layout]=$(layout_summary "$W/$tool-$img" "$img"); fi
	done
done

# ---------------------------------------------------------------- report
stat_of() { # CASE TOOL -> "mean median rss_mb n"
	awk -F'\t' -v c="$1" -v t="$2" '$1 == c && $2 == t { print $4, $5 }' "$RES" | sort -n |
		awk '{ s[n++] = $1; sum += $1; if ($2 > m) m = $2 }
			END {
				if (!n) { print "- - - 0"; exit }
				md = (n % 2) ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
				printf "%.2f %.2f %.0f %d\n", sum / n, md, m / 1024, n
			}'
}
size_of() { # IMAGE -> compressed size of the image in MB (manifest, config, layers)
	local m
	m=$(jq -r --arg t "$1" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest | ltrimstr("sha256:")' "$IMAGES/$1/index.json")
	jq '[.config.size, (.layers[].size)] | add' "$IMAGES/$1/blobs/sha256/$m" | awk '{ printf "%.0f", $1 / 1048576 }'
}
echo
echo "ocikit: $OCIKIT ($( ("$OCIKIT" --version 2>/dev/null || echo '?') | head -1))"
echo "skopeo: $("$SKOPEO" --version | head -1); registry: $("$REGISTRY" --version | head -1) on $HOST"
echo "images: $IMAGES (SCALE=$SCALE); cold runs: $RUNS per tool, warm runs: $WARM_RUNS per tool, alternating"
echo "load average: $LOAD0 at start, $(cut -d' ' -f1-3 /proc/loadavg) at end ($(nproc) CPUs)"
echo
echo "| case | skopeo s mean / md | ocikit s mean / md | ratio mean / md | peak RSS MB skopeo / ocikit |"
echo "|---|---|---|---|---|"
SUMMARY='[]'
for kind in cold warm; do
	for img in $NAMES; do
		c=$kind-$img
		read -r sm smd srss sn <<<"$(stat_of "$c" skopeo)"
		read -r om omd orss on <<<"$(stat_of "$c" ocikit)"
		if [ "$on" = 0 ] || [ "$sn" = 0 ]; then ratio=-; ratiomd=-; else
			ratio=$(awk -v a="$om" -v b="$sm" 'BEGIN{printf "%.2f", a/b}')
			ratiomd=$(awk -v a="$omd" -v b="$smd" 'BEGIN{printf "%.2f", a/b}')
		fi
		ocol="$om / $omd"; [ "$HAVE_OCIKIT" = 1 ] || ocol="n/a (no pull)"
		echo "| $c ($(size_of "$img") MB) | $sm / $smd | $ocol | $ratio / $ratiomd | $srss / $orss |"
		SUMMARY=$(jq -c --arg c "$c" --arg sm "$sm" --arg om "$om" --arg smd "$smd" --arg omd "$omd" \
			--arg sr "$srss" --arg orss "$orss" --arg r "$ratio" \
			'. + [{case:$c, skopeo_mean_s:$sm, skopeo_median_s:$smd, ocikit_mean_s:$om, ocikit_median_s:$omd,
				skopeo_rss_mb:$sr, ocikit_rss_mb:$orss, ratio:$r}]' <<<"$SUMMARY")
	done
done
echo "$SUMMARY" | jq . >"$OUT/summary.json"

if [ "${#NOTE[@]}" -gt 0 ]; then
	echo
	echo "notes (pulled layouts: blob count and size must agree between the tools):"
	for k in "${!NOTE[@]}"; do echo "  $k: ${NOTE[$k]}"; done | LC_ALL=C sort
fi
echo
echo "raw results: $RES; summary: $OUT/summary.json"
