#!/usr/bin/env bats
# ocikit init --layout L

load helpers

@test "ocikit init [creates an empty layout]" {
	run --separate-stderr "$OCIKIT" init --layout L
	assert_status 0
	assert_eq "$output" "" "stdout"
	assert_eq "$stderr" "" "stderr"
	assert_eq "$(cat L/oci-layout)" '{"imageLayoutVersion":"1.0.0"}'
	assert_eq "$(jq -c . L/index.json)" '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}'
	[[ -d L/blobs/sha256 ]]
	assert_eq "$(find L/blobs -type f | wc -l)" 0 "blob count"
	image-verify L
	run umoci ls --layout L
	assert_status 0
	assert_eq "$output" ""
}

@test "ocikit init [creates missing parent directories]" {
	run --separate-stderr "$OCIKIT" init --layout a/b/c
	assert_status 0
	image-verify a/b/c
}

@test "ocikit init [layout is usable by ocikit new and umoci new]" {
	"$OCIKIT" init --layout L
	"$OCIKIT" new --image L:one
	umoci new --image L:two
	assert_eq "$(layout_tags L | tr '\n' ' ')" "one two "
	image-verify L
}

@test "ocikit init [existing layout]" {
	setup_image L
	refuses L init 'already exists' -- init --layout L
}

@test "ocikit init [existing empty directory]" {
	mkdir E
	refuses E init 'already exists' -- init --layout E
	assert_eq "$(ls -A E)" "" "directory contents"
}

@test "ocikit init [existing file]" {
	echo data >F
	refuses F init 'already exists' -- init --layout F
	assert_eq "$(cat F)" data
}

@test "ocikit init [missing --layout]" {
	refuses "" init 'missing mandatory argument: --layout' -- init
}

@test "ocikit init [layout path with a colon]" {
	refuses "" init "path contains ':'" -- init --layout a:b
	[[ ! -e a:b && ! -e a ]]
}

@test "ocikit init [extra positional argument]" {
	refuses "" init 'positional arguments' -- init --layout L extra
	[[ ! -e L ]]
}
