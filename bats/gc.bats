#!/usr/bin/env bats
# ocikit gc --layout L

load helpers

blob_list() {
	find "$1/blobs" -type f -printf '%P\n' | LC_ALL=C sort
}

@test "ocikit gc [changes nothing when every blob is reachable]" {
	setup_image L
	"$OCIKIT" gc --layout L
	local before
	before="$(layout_hash L)"
	run --separate-stderr "$OCIKIT" gc --layout L
	assert_status 0
	assert_eq "$output$stderr" "" "output"
	assert_eq "$(layout_hash L)" "$before" "layout hash"
	image-verify L
}

@test "ocikit gc [removes what no tag reaches, like umoci gc]" {
	setup_image L
	"$OCIKIT" rm --image L:latest
	cp -a L U
	run --separate-stderr "$OCIKIT" gc --layout L
	assert_status 0
	umoci gc --layout U
	assert_eq "$(blob_list L)" "$(blob_list U)" "blobs left"
	# v1's manifest and config stay, latest's and the older configs go.
	assert_eq "$(blob_list L | wc -l)" 2 "blob count"
	[[ -f "$(manifest_blob L v1)" && -f "$(config_blob L v1)" ]] || fail "v1 blobs removed"
	image-verify L
}

@test "ocikit gc [keeps blobs of untagged index entries]" {
	setup_image L
	edit_index L 'del(.manifests[1].annotations)'
	local m
	m="$(jq -r '.manifests[1].digest' L/index.json)"
	"$OCIKIT" gc --layout L
	[[ -f "$(blob_path L "$m")" ]] || fail "untagged manifest removed"
	[[ -f "$(blob_path L "$(jq -r .config.digest "$(blob_path L "$m")")")" ]] || fail "untagged config removed"
	image-verify L
}

@test "ocikit gc [removes a stray blob]" {
	setup_image L
	printf 'stray' >stray
	local d
	d="$(put_blob L stray)"
	"$OCIKIT" gc --layout L
	[[ ! -e "$(blob_path L "$d")" ]] || fail "stray blob kept"
	image-verify L
}

@test "ocikit gc [empty index removes every blob]" {
	setup_image L
	"$OCIKIT" rm --image L:latest
	"$OCIKIT" rm --image L:v1
	"$OCIKIT" gc --layout L
	assert_eq "$(blob_list L)" "" "blobs left"
	[[ -d L/blobs/sha256 ]] || fail "blobs/sha256 removed"
	image-verify L
}

@test "ocikit gc [removes leftover temporary directories]" {
	setup_image L
	mkdir -p L/.umoci-old L/.ocikit-tmp-old
	touch L/.umoci-old/f L/.ocikit-tmp-old/f
	touch -d '2 hours ago' L/.umoci-old
	"$OCIKIT" gc --layout L
	[[ ! -e L/.umoci-old && ! -e L/.ocikit-tmp-old ]] || fail "temporary directories kept: $(ls -A L)"
	image-verify L
}

@test "ocikit gc [manifest whose embedded mediaType differs from its descriptor]" {
	setup_image L
	retype_manifest L v1 application/vnd.oci.image.index.v1+json
	refuses L gc 'media type' -- gc --layout L
}

@test "ocikit gc [missing blob]" {
	setup_image L
	rm "$(manifest_blob L v1)"
	refuses L gc "$(manifest_digest L v1 | cut -c8-20)" -- gc --layout L
}

@test "ocikit gc [corrupt index.json]" {
	setup_image L
	truncate -s 40 L/index.json
	refuses L gc 'index\.json' -- gc --layout L
}

@test "ocikit gc [missing layout]" {
	refuses "" gc 'no such' -- gc --layout nope
}

@test "ocikit gc [directory that is not a layout]" {
	mkdir -p D/blobs/sha256
	echo x >D/blobs/sha256/0000
	refuses D gc 'not an OCI image layout' -- gc --layout D
}

@test "ocikit gc [unsupported imageLayoutVersion]" {
	make_future_layout F
	refuses F gc 'imageLayoutVersion' -- gc --layout F
}

@test "ocikit gc [missing --layout]" {
	refuses "" gc 'missing mandatory argument: --layout' -- gc
}

@test "ocikit gc [layout path with a colon]" {
	refuses "" gc "path contains ':'" -- gc --layout a:b
}

@test "ocikit gc [extra positional argument]" {
	setup_image L
	"$OCIKIT" rm --image L:latest
	refuses L gc 'positional arguments' -- gc --layout L extra
}
