# Shared setup for ocikit's command-line tests (bats 1.5 or later).
#
#   load helpers
#
# gives every test its own temporary directory as the working directory, the
# binary under test as $OCIKIT, and:
#   setup_image [LAYOUT]      a small layout built by ocikit itself (tags latest, v1)
#   image-verify LAYOUT       ocikit validate, then umoci stat and skopeo inspect of every tag
#   layout_hash LAYOUT        one hash of every path, type, mode and content under LAYOUT
#   assert_error CMD [ERE]    status 1, stderr one line "ocikit CMD: ..." (matching ERE)
#   refuses LAYOUT CMD ERE -- ARGS...
#                             runs ocikit ARGS, expects assert_error CMD ERE and LAYOUT
#                             byte-for-byte unchanged
# Nothing here downloads anything; umoci, skopeo and jq are the oracles.

bats_require_minimum_version 1.5.0

HELPERS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OCIKIT="${OCIKIT:-$(cd "$HELPERS_DIR/.." && pwd)/bin/ocikit}"
export OCIKIT

# Fixed times, so that digests in the tests do not depend on the clock.
CREATED="2021-03-04T05:06:07Z"
HISTORY_CREATED="2021-03-04T05:06:08.123456789Z"

setup() {
	if [[ -n "${BATS_TEST_TMPDIR:-}" ]]; then
		TEST_DIR="$BATS_TEST_TMPDIR"
		OWN_TEST_DIR=""
	else
		TEST_DIR="$(mktemp -d "${TMPDIR:-/tmp}/ocikit-bats.XXXXXX")"
		OWN_TEST_DIR="$TEST_DIR"
	fi
	cd "$TEST_DIR" || return 1
}

teardown() {
	cd / || true
	if [[ -n "${OWN_TEST_DIR:-}" ]]; then
		rm -rf -- "$OWN_TEST_DIR"
	fi
}

fail() {
	printf '%s\n' "$@" >&2
	return 1
}

# The ref names of index.json, in file order.
layout_tags() {
	jq -r '.manifests[] | .annotations["org.opencontainers.image.ref.name"] // empty' "$1/index.json"
}

# blob_path LAYOUT DIGEST
blob_path() {
	printf '%s/blobs/%s/%s\n' "$1" "${2%%:*}" "${2#*:}"
}

# The descriptor of TAG in index.json (compact JSON), the first one if several.
tag_descriptor() {
	jq -c --arg t "$2" '[.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t)][0]' "$1/index.json"
}

manifest_digest() {
	tag_descriptor "$1" "$2" | jq -r .digest
}

manifest_blob() {
	blob_path "$1" "$(manifest_digest "$1" "$2")"
}

config_digest() {
	jq -r .config.digest "$(manifest_blob "$1" "$2")"
}

config_blob() {
	blob_path "$1" "$(config_digest "$1" "$2")"
}

# The config of TAG through the jq filter $3 (default "."): compact JSON,
# strings printed raw.
config_json() {
	jq -cr "${3:-.}" "$(config_blob "$1" "$2")"
}

layout_hash() {
	local dir="$1"
	[[ -d "$dir" ]] || {
		echo "no such directory: $dir"
		return 0
	}
	(
		cd "$dir" || exit 1
		find . -printf '%P %y %m %s %l\n' | LC_ALL=C sort
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
	) | sha256sum | cut -d' ' -f1
}

# Builds the reference image with ocikit once per bats run, then copies it.
setup_image() {
	local dest="${1:-image}"
	local cache="${BATS_RUN_TMPDIR:-${BATS_FILE_TMPDIR:-}}"
	if [[ -z "$cache" ]]; then
		build_image "$dest"
		return
	fi
	cache="$cache/ocikit-setup-image"
	if [[ ! -d "$cache" ]]; then
		local tmp
		tmp="$(mktemp -d "$cache.XXXXXX")"
		build_image "$tmp/layout" || {
			rm -rf "$tmp"
			return 1
		}
		mv -T "$tmp" "$cache" 2>/dev/null || rm -rf "$tmp"
	fi
	cp -a "$cache/layout" "$dest"
}

build_image() {
	local l="$1"
	"$OCIKIT" init --layout "$l" || fail "setup_image: init failed" || return
	"$OCIKIT" new --image "$l:latest" || fail "setup_image: new failed" || return
	"$OCIKIT" config --image "$l:latest" \
		--created "$CREATED" --history.created "$HISTORY_CREATED" \
		--author "Bats <bats@example.com>" \
		--config.env PATH=/usr/local/bin:/usr/bin:/bin --config.env LANG=C.UTF-8 \
		--config.entrypoint /bin/sh --config.entrypoint -c --config.cmd "echo hello" \
		--config.label org.example.test=1 --config.exposedports 8080/tcp \
		--config.volume /data --config.user 1000:1000 \
		--manifest.annotation org.example.built-by=bats ||
		fail "setup_image: config failed" || return
	"$OCIKIT" config --image "$l:latest" --tag v1 \
		--history.created "$HISTORY_CREATED" --history.comment "second" \
		--config.workingdir /srv ||
		fail "setup_image: config --tag failed" || return
}

# Everything readers other than ocikit can check about a layout.
image-verify() {
	local l="$1" out tag
	[[ -n "$l" ]] || fail "image-verify: no layout given" || return
	out="$("$OCIKIT" validate --layout "$l" 2>&1)" ||
		fail "image-verify: ocikit validate --layout $l failed:" "$out" || return
	out="$(umoci ls --layout "$l" 2>&1)" ||
		fail "image-verify: umoci ls --layout $l failed:" "$out" || return
	while IFS= read -r tag; do
		[[ -n "$tag" ]] || continue
		out="$(umoci stat --image "$l:$tag" 2>&1)" ||
			fail "image-verify: umoci stat --image $l:$tag failed:" "$out" || return
		out="$(skopeo inspect "oci:$l:$tag" 2>&1)" ||
			fail "image-verify: skopeo inspect oci:$l:$tag failed:" "$out" || return
	done < <(layout_tags "$l")
}

image_verify() {
	image-verify "$@"
}

# assert_status N: after `run`.
assert_status() {
	[[ "$status" -eq "$1" ]] ||
		fail "expected exit status $1, got $status" "stdout: ${output:-}" "stderr: ${stderr:-}"
}

# assert_error CMD [ERE]: after `run --separate-stderr`; CMD "" means the
# program-level prefix "ocikit:".
assert_error() {
	local cmd="$1" re="${2:-}" prefix
	if [[ -n "$cmd" ]]; then prefix="ocikit $cmd: "; else prefix="ocikit: "; fi
	[[ "$status" -eq 1 ]] ||
		fail "expected exit status 1, got $status" "stdout: $output" "stderr: ${stderr:-}" || return
	[[ "${#stderr_lines[@]}" -eq 1 ]] ||
		fail "expected exactly one line on stderr, got ${#stderr_lines[@]}:" "$stderr" || return
	[[ "$stderr" == "$prefix"* ]] ||
		fail "expected stderr to start with '$prefix', got:" "$stderr" || return
	if [[ -n "$re" ]]; then
		[[ "$stderr" =~ $re ]] ||
			fail "expected stderr to match /$re/, got:" "$stderr" || return
	fi
}

# refuses LAYOUT CMD ERE -- ARGS...: ocikit ARGS fails as CMD with ERE and
# leaves LAYOUT exactly as it was (LAYOUT may be "" when there is none).
refuses() {
	local l="$1" cmd="$2" re="$3" before after
	shift 3
	[[ "$1" == "--" ]] && shift
	before="$(layout_hash "$l")"
	run --separate-stderr "$OCIKIT" "$@"
	assert_error "$cmd" "$re" || return
	after="$(layout_hash "$l")"
	[[ "$before" == "$after" ]] || fail "layout $l changed although the command failed" || return
}

# assert_eq ACTUAL EXPECTED [WHAT]
assert_eq() {
	[[ "$1" == "$2" ]] || fail "${3:-value} differs:" "  expected: $2" "  actual:   $1"
}

# Rewrites index.json of LAYOUT through the jq filter $2 (extra jq args after).
edit_index() {
	local l="$1" filter="$2" tmp
	shift 2
	tmp="$(mktemp "$l/.edit.XXXXXX")"
	jq -c "$@" "$filter" "$l/index.json" >"$tmp" && mv "$tmp" "$l/index.json"
}

# Stores FILE as a blob of LAYOUT and prints its digest.
put_blob() {
	local l="$1" file="$2" hex
	hex="$(sha256sum "$file" | cut -d' ' -f1)"
	mkdir -p "$l/blobs/sha256"
	cp "$file" "$l/blobs/sha256/$hex"
	printf 'sha256:%s\n' "$hex"
}

# Flips one bit of byte N (default 10) of FILE, in place.
flip_byte() {
	local file="$1" n="${2:-10}" byte
	byte="$(od -An -tu1 -j "$n" -N1 "$file" | tr -d ' ')"
	chmod u+w "$file"
	printf "$(printf '\\%03o' $((byte ^ 1)))" | dd of="$file" bs=1 seek="$n" conv=notrunc status=none
}

# Gives TAG of LAYOUT a manifest whose embedded mediaType is $3 (re-digested;
# index.json points at the new blob under the same descriptor media type).
retype_manifest() {
	local l="$1" tag="$2" mt="$3" tmp digest size
	tmp="$(mktemp)"
	jq -c --arg mt "$mt" '.mediaType = $mt' "$(manifest_blob "$l" "$tag")" >"$tmp"
	digest="$(put_blob "$l" "$tmp")"
	size="$(stat -c %s "$tmp")"
	rm -f "$tmp"
	edit_index "$l" '(.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t)) |= (.digest = $d | .size = $s)' \
		--arg t "$tag" --arg d "$digest" --argjson s "$size"
}

# A layout with a bad oci-layout version.
make_future_layout() {
	mkdir -p "$1/blobs/sha256"
	printf '{"imageLayoutVersion":"2.0.0"}' >"$1/oci-layout"
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}' >"$1/index.json"
}
