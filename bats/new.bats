#!/usr/bin/env bats
# ocikit new --image L[:T]

load helpers

host_arch() {
	case "$(uname -m)" in
	x86_64) echo amd64 ;;
	aarch64 | arm64) echo arm64 ;;
	armv7l | armv6l) echo arm ;;
	i?86) echo 386 ;;
	ppc64le) echo ppc64le ;;
	s390x) echo s390x ;;
	riscv64) echo riscv64 ;;
	*) uname -m ;;
	esac
}

@test "ocikit new [creates an empty image tagged latest by default]" {
	"$OCIKIT" init --layout L
	run --separate-stderr "$OCIKIT" new --image L
	assert_status 0
	assert_eq "$output$stderr" "" "output"
	assert_eq "$(layout_tags L)" latest "tags"
	assert_eq "$(tag_descriptor L latest | jq -r .mediaType)" application/vnd.oci.image.manifest.v1+json
	local m
	m="$(manifest_blob L latest)"
	assert_eq "$(jq -c '[.schemaVersion, .mediaType, .layers, .config.mediaType]' "$m")" \
		'[2,"application/vnd.oci.image.manifest.v1+json",[],"application/vnd.oci.image.config.v1+json"]'
	assert_eq "$(config_json L latest '[.os, .architecture, .rootfs, .config, has("history")]')" \
		"[\"linux\",\"$(host_arch)\",{\"type\":\"layers\",\"diff_ids\":[]},{},false]"
	image-verify L
}

@test "ocikit new [created is the current time]" {
	"$OCIKIT" init --layout L
	local before after created
	before="$(date -u +%s)"
	"$OCIKIT" new --image L:t
	after="$(date -u +%s)"
	created="$(date -u -d "$(config_json L t .created)" +%s)"
	[[ "$created" -ge "$before" && "$created" -le "$after" ]] ||
		fail "created $created not within [$before, $after]"
	image-verify L
}

@test "ocikit new [SOURCE_DATE_EPOCH sets created]" {
	"$OCIKIT" init --layout L
	SOURCE_DATE_EPOCH=86400 "$OCIKIT" new --image L:t
	assert_eq "$(config_json L t .created)" "1970-01-02T00:00:00Z"
	image-verify L
}

@test "ocikit new [replaces an existing tag and keeps the others]" {
	setup_image L
	local old v1
	old="$(manifest_digest L latest)"
	v1="$(tag_descriptor L v1)"
	run --separate-stderr "$OCIKIT" new --image L:latest
	assert_status 0
	assert_eq "$(layout_tags L | sort | tr '\n' ' ')" "latest v1 " "tags"
	[[ "$(manifest_digest L latest)" != "$old" ]] || fail "latest was not replaced"
	assert_eq "$(tag_descriptor L v1)" "$v1" "v1 descriptor"
	assert_eq "$(config_json L latest .config)" "{}"
	image-verify L
}

@test "ocikit new [tag containing a colon]" {
	"$OCIKIT" init --layout L
	run --separate-stderr "$OCIKIT" new --image L:b:c
	assert_status 0
	assert_eq "$(layout_tags L)" "b:c"
	image-verify L
}

@test "ocikit new [missing layout]" {
	refuses "" new 'no such' -- new --image nope:t
	[[ ! -e nope ]]
}

@test "ocikit new [directory that is not a layout]" {
	mkdir D
	touch D/file
	refuses D new 'not an OCI image layout' -- new --image D:t
}

@test "ocikit new [unsupported imageLayoutVersion]" {
	make_future_layout F
	refuses F new 'imageLayoutVersion.*2\.0\.0' -- new --image F:t
}

@test "ocikit new [invalid tag name]" {
	setup_image L
	refuses L new 'bad!' -- new --image 'L:bad!'
}

@test "ocikit new [corrupt index.json]" {
	setup_image L
	truncate -s 40 L/index.json
	refuses L new 'index\.json' -- new --image L:t
}

@test "ocikit new [missing --image]" {
	refuses "" new 'missing mandatory argument: --image' -- new
}

@test "ocikit new [extra positional argument]" {
	setup_image L
	refuses L new 'positional arguments' -- new --image L:t extra
}

@test "ocikit new [layout path with a colon is read as path:tag]" {
	# Go's split is at the first colon: "a:b:c" is layout "a", tag "b:c".
	refuses "" new 'no such' -- new --image a:b:c
}
