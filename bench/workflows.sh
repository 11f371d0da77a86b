#!/usr/bin/env bash
# Wall time and peak RSS of the workflow commands against their nearest
# reference, on the layouts built by bench/make-images.sh:
#
#   save-NAME   ocikit save --image L:T FILE   vs  skopeo copy oci:L:T docker-archive:FILE:bench:1
#   mount-warm  ocikit mount of an image whose layers are already cached
#               (then umount, untimed); the target is under 0.5 s
#
# Tools alternate run by run; outputs are deleted and synced before each
# run. Times are /usr/bin/time -f '%e %M' (elapsed s, peak RSS KB).
#
# Usage: bench/workflows.sh           Environment: OCIKIT, SKOPEO, IMAGES,
#   NAMES (default "large distro"), RUNS (default 3), OUT (default bench/out/workflows)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
OCIKIT=${OCIKIT:-$ROOT/bin/ocikit}
SKOPEO=${SKOPEO:-skopeo}
IMAGES=${IMAGES:-$HERE/out/images}
NAMES=${NAMES:-large distro}
RUNS=${RUNS:-3}
OUT=${OUT:-$HERE/out/workflows}

mkdir -p "$OUT"
for n in $NAMES; do
	[ -d "$IMAGES/$n" ] || ONLY="$n" "$HERE/make-images.sh" "$IMAGES" >&2
done
W=$(mktemp -d "$OUT/work.XXXXXX")
RES="$OUT/results.tsv"
: >"$RES"
cleanup() {
	mountpoint -q "$W/mnt" 2>/dev/null && "$OCIKIT" umount "$W/mnt" >/dev/null 2>&1 || true
	rm -rf "$W"
}
trap cleanup EXIT

timed() { # CASE TOOL CMD...
	local c="$1" tool="$2"
	shift 2
	/usr/bin/time -o "$W/time" -f '%e %M' "$@" >/dev/null 2>"$W/err" || { echo "FAILED: $*" >&2; cat "$W/err" >&2; return 1; }
	read -r s m <"$W/time"
	printf '%s\t%s\t%s\t%s\n' "$c" "$tool" "$s" "$m" >>"$RES"
	echo "== $c $tool: ${s}s, $((m / 1024)) MB" >&2
}

for run in $(seq 1 "$RUNS"); do
	for n in $NAMES; do
		if (( run % 2 )); then tools=(skopeo ocikit); else tools=(ocikit skopeo); fi
		for tool in "${tools[@]}"; do
			rm -f "$W/out.tar"; sync
			if [ "$tool" = skopeo ]; then
				timed "save-$n" skopeo "$SKOPEO" copy -q "oci:$IMAGES/$n:$n" "docker-archive:$W/out.tar:bench:1"
			else
				timed "save-$n" ocikit "$OCIKIT" save --image "$IMAGES/$n:$n" "$W/out.tar"
			fi
		done
	done
done
rm -f "$W/out.tar"

mount_ok=0
if [ "$(id -u)" = 0 ]; then
	n=${NAMES%% *}
	mkdir -p "$W/mnt"
	# The first mount extracts and caches the layers (untimed).
	if "$OCIKIT" mount "oci:$IMAGES/$n:$n" "$W/mnt" >/dev/null 2>"$W/err"; then
		"$OCIKIT" umount "$W/mnt" >/dev/null
		mount_ok=1
		for run in $(seq 1 "$RUNS"); do
			timed mount-warm ocikit "$OCIKIT" mount "oci:$IMAGES/$n:$n" "$W/mnt"
			"$OCIKIT" umount "$W/mnt" >/dev/null
		done
	else
		echo "mount failed: $(cat "$W/err")" >&2
	fi
fi

stat_of() { # CASE TOOL -> "mean median rssMB n"
	awk -F'\t' -v c="$1" -v t="$2" '$1 == c && $2 == t { print $3, $4 }' "$RES" | sort -n |
		awk '{ s[n++] = $1; sum += $1; if ($2 > m) m = $2 }
			END { if (!n) { print "- - - 0"; exit }
				md = (n % 2) ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
				printf "%.2f %.2f %.0f %d\n", sum / n, md, m / 1024, n }'
}
echo
echo "ocikit: $OCIKIT; skopeo: $("$SKOPEO" --version); runs: $RUNS; load: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)"
echo
echo "| case | reference s mean / md | ocikit s mean / md | ratio mean / md | peak RSS MB ref / ocikit |"
echo "|---|---|---|---|---|"
for n in $NAMES; do
	read -r sm smd srss _ <<<"$(stat_of "save-$n" skopeo)"
	read -r om omd orss _ <<<"$(stat_of "save-$n" ocikit)"
	r=$(awk -v a="$om" -v b="$sm" 'BEGIN{ if (b > 0) printf "%.2f", a/b; else print "-" }')
	rmd=$(awk -v a="$omd" -v b="$smd" 'BEGIN{ if (b > 0) printf "%.2f", a/b; else print "-" }')
	echo "| save-$n (skopeo docker-archive) | $sm / $smd | $om / $omd | $r / $rmd | $srss / $orss |"
done
if [ "$mount_ok" = 1 ]; then
	read -r om omd orss _ <<<"$(stat_of mount-warm ocikit)"
	echo "| mount-warm (layers cached) | - | $om / $omd | - | - / $orss |"
fi
