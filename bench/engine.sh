#!/usr/bin/env bash
# Wall time and peak RSS of ocikit against umoci on the engine commands:
# unpack, repack after editing files, raw unpack, on the layouts built by
# bench/make-images.sh (built on first use, kept in $IMAGES).
#
# Every run starts from nothing: the previous output is deleted (and the
# deletion synced) before each run, and the tools alternate run by run, the
# order swapped every round, so neither profits from the other's cache or
# suffers from the disk still discarding the last tree's blocks
# (reference/performance.md). Times are /usr/bin/time -f '%e %M' (elapsed s,
# peak RSS KB). The figure to read is the ratio ocikit / umoci.
#
# Usage: bench/engine.sh                (see bench/README.md)
# Environment:
#   OCIKIT  ocikit executable (default: <checkout>/bin/ocikit)
#   UMOCI   umoci executable (default: /usr/bin/umoci)
#   IMAGES  where the bench layouts live (default: bench/out/images; built if missing)
#   SCALE   passed to make-images.sh when it builds them (default 1)
#   RUNS    runs per tool and case (default 3)
#   CASES   subset of: unpack-distro repack-distro raw-unpack-distro
#           unpack-small repack-small unpack-large
#           extract-distro extract-small extract-large (ocikit extract
#           against umoci raw unpack)   (default: the first six)
#   EDITS   files modified before each repack (default 2000)
# A repack case edits the bundle its image's unpack case just made (when both
# are in CASES), so the untimed unpack is not paid twice.
#   OUT     output directory (default: bench/out/engine)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
OCIKIT=${OCIKIT:-$ROOT/bin/ocikit}
UMOCI=${UMOCI:-/usr/bin/umoci}
IMAGES=${IMAGES:-$HERE/out/images}
RUNS=${RUNS:-3}
EDITS=${EDITS:-2000}
CASES=${CASES:-unpack-distro repack-distro raw-unpack-distro unpack-small repack-small unpack-large}
OUT=${OUT:-$HERE/out/engine}

die() { echo "engine: $*" >&2; exit 1; }
log() { echo "== $*" >&2; }
for t in jq perl; do command -v "$t" >/dev/null || die "$t not found"; done
[ -x /usr/bin/time ] || die "/usr/bin/time not found (apt-get install time)"
[ -x "$UMOCI" ] || die "umoci not executable: $UMOCI"
[ "$(id -u)" = 0 ] || die "run as root (unpack restores owners and devices)"

for img in distro small-files large; do
	[ -d "$IMAGES/$img" ] || { log "building $img in $IMAGES"; ONLY=$img "$HERE/make-images.sh" "$IMAGES"; }
done

mkdir -p "$OUT"
W=$(mktemp -d "$OUT/work.XXXXXX")
trap 'rm -rf "$W"' EXIT
RES="$OUT/results.tsv"
printf 'case\ttool\trun\tseconds\trss_kb\n' >"$RES"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

# Which commands the ocikit under test has (the engine may be partial).
has_ocikit() { [ -x "$OCIKIT" ] && "$OCIKIT" "$@" --help >/dev/null 2>&1; }
exe() { if [ "$1" = umoci ]; then echo "$UMOCI"; else echo "$OCIKIT"; fi; }

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

# edit_files ROOTFS: append a line to the first $EDITS regular files (sorted).
edit_files() {
	find "$1" -type f -size -1024k -print0 | LC_ALL=C sort -z | perl -0 -ne "print if \$. <= $EDITS" |
		xargs -0 -r sh -c 'for f; do printf "edited by bench\n" >>"$f"; done' sh
}

# tree_summary DIR: file count and apparent size, to check both tools agree.
tree_summary() { printf '%s files, %s bytes' "$(find "$1" | wc -l)" "$(du -s --apparent-size -B1 "$1" | cut -f1)"; }

image_of() { case "$1" in *distro) echo distro ;; *small) echo small-files ;; *large) echo large ;; esac; }

run_case() { # CASE TOOL RUN
	local c="$1" tool="$2" run="$3" img x
	img=$(image_of "$c")
	x=$(exe "$tool")
	local b="$W/$tool-bundle"
	case "$c" in
	unpack-*)
		clean "$b"
		timed "$c" "$tool" "$run" "$x" unpack --image "$IMAGES/$img:$img" "$b" || return 0
		if [ "$run" = 1 ]; then
			NOTE[$c.$tool.tree]=$(tree_summary "$b/rootfs")
		fi
		# the repack case of the same image, next in CASES, edits this bundle
		if [[ " $CASES " == *" repack-${c#unpack-} "* ]]; then
			mv "$b" "$W/$tool-$img-for-repack"
		else
			clean "$b"
		fi
		;;
	raw-unpack-*)
		clean "$b"
		timed "$c" "$tool" "$run" "$x" raw unpack --image "$IMAGES/$img:$img" "$b" || return 0
		clean "$b"
		;;
	extract-*)
		# umoci's nearest command is raw unpack (the layers only, no bundle)
		clean "$b"
		if [ "$tool" = umoci ]; then
			timed "$c" "$tool" "$run" "$x" raw unpack --image "$IMAGES/$img:$img" "$b" || return 0
		else
			timed "$c" "$tool" "$run" "$x" extract "oci:$IMAGES/$img:$img" "$b" || return 0
		fi
		if [ "$run" = 1 ]; then NOTE[$c.$tool.tree]=$(tree_summary "$b"); fi
		clean "$b"
		;;
	repack-*)
		# untimed: the bundle of this round's unpack case (or a fresh unpack
		# with the same tool), edited; timed: repack to a new tag
		clean "$b"
		if [ -d "$W/$tool-$img-for-repack" ]; then
			mv "$W/$tool-$img-for-repack" "$b"
		else
			"$x" unpack --image "$IMAGES/$img:$img" "$b" >/dev/null 2>"$W/err" ||
				{ NOTE[$c.$tool]="FAILED: unpack before repack: $(tail -c 300 "$W/err")"; return 0; }
		fi
		edit_files "$b/rootfs"
		sync
		timed "$c" "$tool" "$run" "$x" repack --image "$IMAGES/$img:bench-$tool-$run" "$b" || { clean "$b"; return 0; }
		if [ "$run" = 1 ]; then
			NOTE[$c.$tool.tree]="new layer $(jq -r '.layers[-1].size' "$IMAGES/$img/blobs/sha256/$(jq -r --arg t "bench-$tool-$run" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest | ltrimstr("sha256:")' "$IMAGES/$img/index.json")") bytes compressed"
		fi
		"$UMOCI" rm --image "$IMAGES/$img:bench-$tool-$run" >/dev/null 2>&1 || true
		clean "$b"
		;;
	esac
}

needs_for() { case "$1" in unpack-*) echo unpack ;; raw-unpack-*) echo "raw unpack" ;; extract-*) echo extract ;; repack-*) echo repack ;; esac; }

declare -A HAVE
for c in $CASES; do
	# shellcheck disable=SC2046
	if has_ocikit $(needs_for "$c") && { [[ "$c" != repack-* ]] || has_ocikit unpack; }; then HAVE[$c]=1; else HAVE[$c]=0; fi
done

for run in $(seq 1 "$RUNS"); do
	if (( run % 2 )); then tools=(umoci ocikit); else tools=(ocikit umoci); fi
	for c in $CASES; do
		for tool in "${tools[@]}"; do
			if [ "$tool" = ocikit ] && [ "${HAVE[$c]}" != 1 ]; then continue; fi
			run_case "$c" "$tool" "$run"
		done
	done
done
for img in distro small-files large; do "$UMOCI" gc --layout "$IMAGES/$img" >/dev/null 2>&1 || true; done

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
echo
echo "ocikit: $OCIKIT ($("$OCIKIT" --version 2>/dev/null | head -1 || echo '?'))"
echo "umoci:  $UMOCI ($("$UMOCI" --version | head -1))"
echo "images: $IMAGES; runs: $RUNS per tool, alternating; edits before repack: $EDITS files"
echo "load average: $LOAD0 at start, $(cut -d' ' -f1-3 /proc/loadavg) at end ($(nproc) CPUs)"
echo
printf '%-18s %20s %20s %8s %8s\n' case "umoci s (mean/md)" "ocikit s (mean/md)" ratio ratio-md
printf '%-18s %20s %20s %8s %8s\n' "" "peak RSS MB" "peak RSS MB" mean median
SUMMARY='[]'
for c in $CASES; do
	read -r um umd urss un <<<"$(stat_of "$c" umoci)"
	read -r om omd orss on <<<"$(stat_of "$c" ocikit)"
	if [ "$on" = 0 ] || [ "$un" = 0 ]; then ratio=-; ratiomd=-; else
		ratio=$(awk -v a="$om" -v b="$um" 'BEGIN{printf "%.2f", a/b}')
		ratiomd=$(awk -v a="$omd" -v b="$umd" 'BEGIN{printf "%.2f", a/b}')
	fi
	ocol="$om / $omd"; [ "${HAVE[$c]}" = 1 ] || ocol="n/a (no command)"
	printf '%-18s %20s %20s %8s %8s\n' "$c" "$um / $umd" "$ocol" "$ratio" "$ratiomd"
	printf '%-18s %20s %20s\n' "" "$urss" "$orss"
	SUMMARY=$(jq -c --arg c "$c" --arg um "$um" --arg om "$om" --arg ur "$urss" --arg orss "$orss" --arg r "$ratio" \
		'. + [{case:$c, umoci_mean_s:$um, ocikit_mean_s:$om, umoci_rss_mb:$ur, ocikit_rss_mb:$orss, ratio:$r}]' <<<"$SUMMARY")
done
echo "$SUMMARY" | jq . >"$OUT/summary.json"

if [ "${#NOTE[@]}" -gt 0 ]; then
	echo
	echo "notes (first-run tree summaries: both tools must agree):"
	for k in "${!NOTE[@]}"; do echo "  $k: ${NOTE[$k]}"; done | LC_ALL=C sort
fi
echo
echo "raw results: $RES; summary: $OUT/summary.json"
