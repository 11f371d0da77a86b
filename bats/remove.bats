#!/usr/bin/env bats
# ocikit remove|rm --image L[:T]

load helpers

@test "ocikit rm [removes the tag and keeps the others and every blob]" {
	setup_image L
	local blobs v1
	blobs="$(find L/blobs -type f | sort)"
	v1="$(tag_descriptor L v1)"
	run --separate-stderr "$OCIKIT" rm --image L:latest
	assert_status 0
	assert_eq "$output$stderr" "" "output"
	assert_eq "$(layout_tags L)" v1 "tags"
	assert_eq "$(tag_descriptor L v1)" "$v1" "v1 descriptor"
	assert_eq "$(find L/blobs -type f | sort)" "$blobs" "blobs"
	image-verify L
}

@test "ocikit remove [is the same command as rm]" {
	setup_image L
	run --separate-stderr "$OCIKIT" remove --image L:v1
	assert_status 0
	assert_eq "$(layout_tags L)" latest "tags"
	image-verify L
}

@test "ocikit rm [tag defaults to latest]" {
	setup_image L
	"$OCIKIT" rm --image L
	assert_eq "$(layout_tags L)" v1 "tags"
	image-verify L
}

@test "ocikit rm [removes every entry with the name]" {
	setup_image L
	edit_index L '.manifests += [.manifests[1] | .annotations["org.opencontainers.image.ref.name"] = "latest"]'
	assert_eq "$(layout_tags L | grep -c '^latest$')" 2
	"$OCIKIT" rm --image L:latest
	assert_eq "$(layout_tags L)" v1 "tags"
	image-verify L
}

@test "ocikit rm [last tag leaves an empty index]" {
	setup_image L
	"$OCIKIT" rm --image L:latest
	"$OCIKIT" rm --image L:v1
	assert_eq "$(jq -c .manifests L/index.json)" "[]"
	image-verify L
}

@test "ocikit rm [absent tag succeeds and changes nothing]" {
	setup_image L
	local before
	before="$(layout_hash L)"
	run --separate-stderr "$OCIKIT" rm --image L:absent
	assert_status 0
	assert_eq "$output$stderr" "" "output"
	assert_eq "$(layout_hash L)" "$before" "layout hash"
}

@test "ocikit rm [invalid tag name]" {
	setup_image L
	refuses L rm 'bad!' -- rm --image 'L:bad!'
}

@test "ocikit rm [missing --image]" {
	refuses "" rm 'missing mandatory argument: --image' -- rm
}

@test "ocikit rm [extra positional argument]" {
	setup_image L
	refuses L rm 'positional arguments' -- rm --image L:v1 extra
}

@test "ocikit rm [missing layout]" {
	refuses "" rm 'no such' -- rm --image nope:v1
}

@test "ocikit rm [directory that is not a layout]" {
	mkdir D
	refuses D rm 'not an OCI image layout' -- rm --image D:v1
}

@test "ocikit rm [corrupt index.json]" {
	setup_image L
	truncate -s 40 L/index.json
	refuses L rm 'index\.json' -- rm --image L:v1
}
