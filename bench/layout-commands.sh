#!/usr/bin/env bash
# Wall time and peak RSS of ocikit against umoci on the small layout commands:
#   stat, ls, config (one change), gc (layout with $GARBAGE garbage blobs), --help.
#
# Both tools run on the same data (a layout built by umoci itself), inside one
# hyperfine invocation per round; the order of the two tools is swapped every
# round so neither always runs first. The figures that matter are the ratios
# (ocikit / umoci): absolute times on the 2-core project machines vary by ±25 %.
#
# Usage: bench/layout-commands.sh            (see bench/README.md)
# Environment:
#   OCIKIT   ocikit executable      (default: <checkout>/bin/ocikit)
#   UMOCI    umoci executable       (default: /usr/bin/umoci)
#   RUNS     timed runs per tool and command, over all rounds (default 20)
#   ROUNDS   hyperfine invocations per command, tool order swapped each time (default 2)
#   WARMUP   warm-up runs per tool per round (default 3)
#   GARBAGE  garbage blobs added for the gc benchmark (default 1000)
#   ONLY     space-separated subset of: stat ls config gc help (default: all)
#   OUT      directory for the JSON exports (default: bench/out/layout-commands)
#   KEEP=1   keep the temporary layouts (printed at the end)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
OCIKIT=${OCIKIT:-$ROOT/bin/ocikit}
UMOCI=${UMOCI:-/usr/bin/umoci}
RUNS=${RUNS:-20}
ROUNDS=${ROUNDS:-2}
WARMUP=${WARMUP:-3}
GARBAGE=${GARBAGE:-1000}
ONLY=${ONLY:-stat ls config gc help}
OUT=${OUT:-$HERE/out/layout-commands}

die() { echo "layout-commands: $*" >&2; exit 1; }
for t in hyperfine jq node; do command -v "$t" >/dev/null || die "$t not found"; done
[ -x "$UMOCI" ] || die "umoci not executable: $UMOCI"
[ -x "$OCIKIT" ] || die "ocikit not executable: $OCIKIT (build it, or set OCIKIT=)"
[ -x /usr/bin/time ] || die "/usr/bin/time not found (apt-get install time)"
(( ROUNDS >= 1 && RUNS >= ROUNDS )) || die "need RUNS >= ROUNDS >= 1"
PER_ROUND=$(( (RUNS + ROUNDS - 1) / ROUNDS ))

mkdir -p "$OUT" "$HERE/out"
W=$(mktemp -d "$HERE/out/work.XXXXXX")
cleanup() { if [ "${KEEP:-0}" = 1 ]; then echo "kept: $W" >&2; else rm -rf "$W"; fi; }
trap cleanup EXIT
rm -f "$OUT"/*.json

log() { echo "== $*" >&2; }
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- data
# base: a layout made by umoci: one small layer, several config changes (so the
# history has entries), a few extra tags, then gc'd so it holds no garbage.
log "building the layout with $UMOCI in $W"
B=$W/base
"$UMOCI" init --layout "$B"
"$UMOCI" new --image "$B:t"
mkdir -p "$W/src/etc" "$W/src/usr/bin"
for i in $(seq 1 20); do echo "file $i" > "$W/src/etc/f$i.conf"; done
printf '#!/bin/sh\necho hi\n' > "$W/src/usr/bin/hello"; chmod 755 "$W/src/usr/bin/hello"
"$UMOCI" insert --image "$B:t" --history.comment "add files" "$W/src" /opt/app >/dev/null
"$UMOCI" tag --image "$B:t" v1
"$UMOCI" config --image "$B:t" --config.env PATH=/usr/local/bin:/usr/bin:/bin \
    --history.created_by "ENV PATH" --history.comment "set path"
"$UMOCI" config --image "$B:t" --config.env LANG=C.UTF-8 --config.workingdir /opt/app \
    --history.created_by "WORKDIR /opt/app"
"$UMOCI" tag --image "$B:t" v2
"$UMOCI" config --image "$B:t" --config.entrypoint /usr/bin/hello --config.cmd --help \
    --history.created_by "ENTRYPOINT" --history.author bench
"$UMOCI" config --image "$B:t" --config.label org.example.a=1 --config.label org.example.b=two \
    --config.user 1000:1000 --config.exposedports 8080/tcp --history.created_by "LABEL"
"$UMOCI" config --image "$B:t" --author "bench <bench@example.com>" --architecture amd64 --os linux \
    --history.created_by "META" --manifest.annotation org.example.m=1
for t in v3 latest; do "$UMOCI" tag --image "$B:t" "$t"; done
"$UMOCI" gc --layout "$B"

# gcbase: base plus $GARBAGE unreferenced blobs (random 64-576 byte files named
# by the sha256 of their content).
log "adding $GARBAGE garbage blobs"
cp -a "$B" "$W/gcbase"
node -e '
  const fs = require("fs"), crypto = require("crypto");
  const dir = process.argv[1], n = +process.argv[2];
  for (let i = 0; i < n; i++) {
    const buf = crypto.randomBytes(64 + crypto.randomInt(512));
    const d = crypto.createHash("sha256").update(buf).digest("hex");
    fs.writeFileSync(dir + "/" + d, buf);
  }' "$W/gcbase/blobs/sha256" "$GARBAGE"
NBASE=$(ls "$B/blobs/sha256" | wc -l)
NTAGS=$(jq '.manifests | length' "$B/index.json")
NGC=$(ls "$W/gcbase/blobs/sha256" | wc -l)
log "base layout: $NBASE blobs; gc layout: $NGC blobs"

# reset.sh NAME FROM: make $W/NAME a fresh copy of $W/FROM (hyperfine --prepare).
cat > "$W/reset.sh" <<EOF
#!/bin/sh
rm -rf "$W/\$1" && cp -a "$W/\$2" "$W/\$1"
EOF
chmod +x "$W/reset.sh"

# ---------------------------------------------------------------- commands
# Each benchmark: ARGS (with @L@ standing for the layout path) and, optionally,
# the layout to copy fresh before every run (one copy per tool).
declare -A ARGS SRC
ARGS[stat]='stat --image @L@:t';                     SRC[stat]=''
ARGS[ls]='ls --layout @L@';                          SRC[ls]=''
ARGS[config]='config --image @L@:t --config.env A=B'; SRC[config]=base
ARGS[gc]='gc --layout @L@';                          SRC[gc]=gcbase
ARGS[help]='--help';                                 SRC[help]=''
ORDER=(stat ls config gc help)

layout_for() { # bench tool -> layout path
  if [ -n "${SRC[$1]}" ]; then echo "$W/$1-$2"; else echo "$B"; fi
}
cmd_for() { # bench tool -> command line (no quoting needed: paths have no spaces)
  local exe; [ "$2" = umoci ] && exe=$UMOCI || exe=$OCIKIT
  echo "$exe ${ARGS[$1]//@L@/$(layout_for "$1" "$2")}"
}
prep_for() { echo "$W/reset.sh $1-$2 ${SRC[$1]}"; }
reset() { [ -z "${SRC[$1]}" ] || "$W/reset.sh" "$1-$2" "${SRC[$1]}"; }

# ---------------------------------------------------------------- smoke + checks
# Run each command once per tool before timing it; a failure is reported with
# the exact command and its stderr, and that benchmark is skipped.
declare -A OK NOTE
for b in "${ORDER[@]}"; do
  [[ " $ONLY " == *" $b "* ]] || continue
  OK[$b]=1; NOTE[$b]=''
  for tool in umoci ocikit; do
    reset "$b" "$tool"
    c=$(cmd_for "$b" "$tool")
    rc=0; $c >"$W/$b.$tool.out" 2>"$W/$b.$tool.err" || rc=$?
    if [ "$rc" != 0 ]; then
      OK[$b]=0
      NOTE[$b]+="FAILED ($tool, exit $rc): $c"$'\n'"$(sed 's/^/      /' "$W/$b.$tool.err" | head -20)"$'\n'
      echo "FAILED ($tool, exit $rc): $c" >&2
      sed 's/^/    /' "$W/$b.$tool.err" | head -20 >&2
    fi
  done
  [ "${OK[$b]}" = 1 ] || continue
  case $b in
    stat|ls)
      cmp -s "$W/$b.umoci.out" "$W/$b.ocikit.out" || NOTE[$b]="stdout differs from umoci"
      ;;
    config)
      # umoci must read the result of either tool, and see the change.
      for tool in umoci ocikit; do
        if ! "$UMOCI" stat --image "$(layout_for config $tool):t" --json >"$W/cfg.$tool.json" 2>"$W/cfg.$tool.err"; then
          NOTE[$b]+="umoci stat fails on $tool's result; "
        elif ! jq -e '.history | length > 0' "$W/cfg.$tool.json" >/dev/null; then
          NOTE[$b]+="no history after $tool; "
        fi
      done
      e=$(cat "$(layout_for config ocikit)"/blobs/sha256/* 2>/dev/null | grep -c '"A=B"' || true)
      [ "$e" -gt 0 ] || NOTE[$b]+="A=B not found in ocikit's blobs; "
      n1=$(jq '.history|length' "$W/cfg.umoci.json" 2>/dev/null || echo ?)
      n2=$(jq '.history|length' "$W/cfg.ocikit.json" 2>/dev/null || echo ?)
      [ "$n1" = "$n2" ] || NOTE[$b]+="history length umoci $n1, ocikit $n2; "
      ;;
    gc)
      a=$(ls "$(layout_for gc umoci)/blobs/sha256" | sort | md5sum)
      o=$(ls "$(layout_for gc ocikit)/blobs/sha256" | sort | md5sum)
      n=$(ls "$(layout_for gc ocikit)/blobs/sha256" | wc -l)
      [ "$a" = "$o" ] || NOTE[$b]="blob set after gc differs from umoci's (ocikit kept $n, umoci $(ls "$(layout_for gc umoci)/blobs/sha256" | wc -l))"
      ;;
    help)
      [ -s "$W/help.ocikit.out" ] || NOTE[$b]="ocikit --help printed nothing on stdout"
      ;;
  esac
done

# ---------------------------------------------------------------- timing
for b in "${ORDER[@]}"; do
  [ "${OK[$b]:-0}" = 1 ] || continue
  for r in $(seq 1 "$ROUNDS"); do
    if (( r % 2 )); then tools=(umoci ocikit); else tools=(ocikit umoci); fi
    hf=(hyperfine -N --style basic --warmup "$WARMUP" --runs "$PER_ROUND"
        --export-json "$OUT/$b.r$r.json")
    for tool in "${tools[@]}"; do
      [ -z "${SRC[$b]}" ] || hf+=(--prepare "$(prep_for "$b" "$tool")")
    done
    for tool in "${tools[@]}"; do hf+=(-n "$tool" "$(cmd_for "$b" "$tool")"); done
    log "$b, round $r/$ROUNDS (${tools[*]})"
    if ! "${hf[@]}" >&2; then
      # A run failed although the smoke run passed: find which, show its stderr.
      OK[$b]=0
      NOTE[$b]+="hyperfine stopped in round $r: a run exited non-zero"$'\n'
      for i in $(seq 1 "$PER_ROUND"); do
        for tool in "${tools[@]}"; do
          reset "$b" "$tool"
          c=$(cmd_for "$b" "$tool"); rc=0
          $c >/dev/null 2>"$W/retry.err" </dev/null || rc=$?
          if [ "$rc" != 0 ]; then
            NOTE[$b]+="      FAILED ($tool, exit $rc, retry $i): $c"$'\n'"$(sed 's/^/        /' "$W/retry.err" | head -20)"$'\n'
            break 2
          fi
        done
      done
      break
    fi
  done
done

# Node's start-up, the floor under every ocikit figure (load varies: measure it now).
NODE_EXE=$(command -v node)
log "node -e 0 (start-up floor)"
hyperfine -N --style basic --warmup "$WARMUP" --runs "$RUNS" --export-json "$OUT/node-floor.json" \
  -n node "$NODE_EXE -e 0" >&2
FLOOR=$(jq -r '.results[0].mean * 1000 | . * 10 | round / 10' "$OUT/node-floor.json")

# ---------------------------------------------------------------- peak RSS
declare -A RSS
for b in "${ORDER[@]}"; do
  [ "${OK[$b]:-0}" = 1 ] || continue
  for tool in umoci ocikit; do
    reset "$b" "$tool"
    /usr/bin/time -o "$W/time.out" -f '%e %M' $(cmd_for "$b" "$tool") >/dev/null 2>&1 || true
    RSS[$b.$tool]=$(tail -1 "$W/time.out")
  done
done

# ---------------------------------------------------------------- report
stats() { # bench tool -> "mean sd median" in ms over all rounds
  jq -rs --arg t "$2" '
    [.[].results[] | select(.command == $t) | .times[]] as $x
    | ($x | add / length) as $m
    | ($x | map(. - $m | . * .) | add / (length - (if length > 1 then 1 else 0 end)) | sqrt) as $sd
    | ($x | sort | if length % 2 == 1 then .[length/2|floor] else (.[length/2 - 1] + .[length/2]) / 2 end) as $md
    | [$m, $sd, $md] | map(. * 1000) | @tsv' "$OUT/$1".r*.json
}

echo
echo "ocikit: $OCIKIT"
echo "umoci:  $($UMOCI --version)"
echo "layout: $NBASE blobs, $NTAGS tags, 1 layer; gc layout: $NGC blobs ($GARBAGE garbage)"
echo "load average: $LOAD0 at start, $(cut -d' ' -f1-3 /proc/loadavg) at end ($(nproc) CPUs; other work on the machine inflates ocikit's figures more than umoci's)"
echo "runs: $RUNS per tool ($ROUNDS rounds of $PER_ROUND, order swapped each round), warmup $WARMUP"
echo
printf '%-40s %16s %16s %8s %8s\n' command "umoci ms" "ocikit ms" ratio "ratio-md"
printf '%-40s %16s %16s %8s %8s\n' "" "mean ± sd" "mean ± sd" mean median
SUMMARY='[]'
for b in "${ORDER[@]}"; do
  [[ " $ONLY " == *" $b "* ]] || continue
  label="${ARGS[$b]//@L@/L}"
  if [ "${OK[$b]}" != 1 ]; then
    printf '%-40s %16s %16s %8s %8s\n' "$label" - FAILED - -
    continue
  fi
  read -r um us umd <<<"$(stats "$b" umoci)"
  read -r om os omd <<<"$(stats "$b" ocikit)"
  ratio=$(awk -v a="$om" -v b="$um" 'BEGIN{printf "%.2f", a/b}')
  ratiomd=$(awk -v a="$omd" -v b="$umd" 'BEGIN{printf "%.2f", a/b}')
  printf '%-40s %16s %16s %8s %8s\n' "$label" \
    "$(printf '%.1f ± %.1f' "$um" "$us")" "$(printf '%.1f ± %.1f' "$om" "$os")" "$ratio" "$ratiomd"
  SUMMARY=$(jq -c --arg c "$label" --argjson um "$um" --argjson om "$om" --argjson umd "$umd" \
    --argjson omd "$omd" --argjson r "$ratio" \
    '. + [{command:$c, umoci_mean_ms:$um, ocikit_mean_ms:$om, umoci_median_ms:$umd, ocikit_median_ms:$omd, ratio:$r}]' <<<"$SUMMARY")
done
echo "$SUMMARY" | jq --argjson f "$FLOOR" '{node_e0_mean_ms: $f, results: .}' > "$OUT/summary.json"
echo "floor: node -e 0 = $FLOOR ms mean (Node $(node --version)) over $RUNS runs"

echo
echo "peak RSS, one run each (/usr/bin/time -f '%e %M'):"
printf '%-40s %18s %18s\n' command "umoci s / MB" "ocikit s / MB"
for b in "${ORDER[@]}"; do
  [ "${OK[$b]:-0}" = 1 ] || continue
  fmt() { awk '{printf "%s s / %.1f MB", $1, $2/1024}' <<<"$1"; }
  printf '%-40s %18s %18s\n' "${ARGS[$b]//@L@/L}" "$(fmt "${RSS[$b.umoci]}")" "$(fmt "${RSS[$b.ocikit]}")"
done

notes=0
for b in "${ORDER[@]}"; do
  if [ -n "${NOTE[$b]:-}" ]; then
    (( notes++ == 0 )) && { echo; echo "checks:"; }
    echo "  $b: ${NOTE[$b]}"
  fi
done
echo
echo "JSON: $OUT/<command>.r<round>.json, summary: $OUT/summary.json"
