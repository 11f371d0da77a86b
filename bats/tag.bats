#!/usr/bin/env bats
# ocikit tag --image L[:T] NEW

load helpers

@test "ocikit tag [new tag points at the same manifest descriptor]" {
	setup_image L
	local src
	src="$(tag_descriptor L v1)"
	run --separate-stderr "$OCIKIT" tag --image L:v1 copy
	assert_status 0
	assert_eq "$output$stderr" "" "output"
	assert_eq "$(tag_descriptor L copy | jq -c 'del(.annotations)')" "$(jq -c 'del(.annotations)' <<<"$src")" "descriptor"
	assert_eq "$(tag_descriptor L v1)" "$src" "source descriptor"
	assert_eq "$(layout_tags L | tr '\n' ' ')" "latest v1 copy " "tags"
	image-verify L
}

@test "ocikit tag [source tag defaults to latest]" {
	setup_image L
	"$OCIKIT" tag --image L other
	assert_eq "$(manifest_digest L other)" "$(manifest_digest L latest)"
	image-verify L
}

@test "ocikit tag [replaces an existing tag]" {
	setup_image L
	"$OCIKIT" tag --image L:v1 latest
	assert_eq "$(layout_tags L | sort | tr '\n' ' ')" "latest v1 " "tags"
	assert_eq "$(manifest_digest L latest)" "$(manifest_digest L v1)"
	image-verify L
}

@test "ocikit tag [tagging a tag as itself keeps one entry]" {
	setup_image L
	local d
	d="$(manifest_digest L v1)"
	run --separate-stderr "$OCIKIT" tag --image L:v1 v1
	assert_status 0
	assert_eq "$(layout_tags L | grep -c '^v1$')" 1 "v1 entries"
	assert_eq "$(manifest_digest L v1)" "$d"
	image-verify L
}

@test "ocikit tag [adds no blob]" {
	setup_image L
	local before
	before="$(find L/blobs -type f | sort)"
	"$OCIKIT" tag --image L:v1 x
	assert_eq "$(find L/blobs -type f | sort)" "$before" "blobs"
}

@test "ocikit tag [new tag with every separator of the grammar]" {
	setup_image L
	"$OCIKIT" tag --image L:v1 'a-b.c_d:e@f+g--h/i'
	assert_eq "$(layout_tags L | tail -n1)" 'a-b.c_d:e@f+g--h/i'
	image-verify L
}

@test "ocikit tag [invalid new tag]" {
	setup_image L
	refuses L tag 'invalid reference' -- tag --image L:v1 'bad!'
}

@test "ocikit tag [invalid new tag with an empty component]" {
	setup_image L
	refuses L tag 'invalid reference' -- tag --image L:v1 'a//b'
}

@test "ocikit tag [invalid source tag]" {
	setup_image L
	refuses L tag 'bad!' -- tag --image 'L:bad!' x
}

@test "ocikit tag [unknown tag]" {
	setup_image L
	refuses L tag 'tag not found: nope' -- tag --image L:nope x
}

@test "ocikit tag [missing new tag]" {
	setup_image L
	refuses L tag 'positional arguments' -- tag --image L:v1
}

@test "ocikit tag [two new tags]" {
	setup_image L
	refuses L tag 'positional arguments' -- tag --image L:v1 a b
}

@test "ocikit tag [missing --image]" {
	refuses "" tag 'missing mandatory argument: --image' -- tag x
}

@test "ocikit tag [missing layout]" {
	refuses "" tag 'no such' -- tag --image nope:v1 x
}

@test "ocikit tag [corrupt index.json]" {
	setup_image L
	truncate -s 40 L/index.json
	refuses L tag 'index\.json' -- tag --image L:v1 x
}
