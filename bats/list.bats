#!/usr/bin/env bats
# ocikit list|ls --layout L [--long]

load helpers

@test "ocikit ls [empty layout prints nothing]" {
	"$OCIKIT" init --layout L
	run "$OCIKIT" ls --layout L
	assert_status 0
	assert_eq "$output" "" "output"
}

@test "ocikit ls [one tag per line in index.json order]" {
	"$OCIKIT" init --layout L
	"$OCIKIT" new --image L:zz
	"$OCIKIT" tag --image L:zz aa
	"$OCIKIT" tag --image L:zz mm
	# Merged stdout and stderr: nothing but the tags.
	run "$OCIKIT" ls --layout L
	assert_status 0
	assert_eq "$output" "$(printf 'zz\naa\nmm')" "output"
}

@test "ocikit list [is the same command as ls]" {
	setup_image L
	run "$OCIKIT" list --layout L
	assert_status 0
	assert_eq "$output" "$(printf 'latest\nv1')" "output"
}

@test "ocikit ls [duplicate names are printed twice, untagged entries not at all]" {
	setup_image L
	edit_index L '.manifests += [(.manifests[0] | .annotations["org.opencontainers.image.ref.name"] = "v1"), (.manifests[0] | del(.annotations))]'
	run "$OCIKIT" ls --layout L
	assert_status 0
	assert_eq "$output" "$(printf 'latest\nv1\nv1')" "output"
	assert_eq "$output" "$(umoci ls --layout L)" "umoci ls output"
}

@test "ocikit ls [--long prints tag, digest, total size, created and platform]" {
	setup_image L
	run --separate-stderr "$OCIKIT" ls --layout L --long
	assert_status 0
	local d size
	d="$(tag_descriptor L latest)"
	# manifest + config + layers
	size=$(($(jq -r .size <<<"$d") + $(jq '.config.size + ([.layers[].size] | add // 0)' "$(manifest_blob L latest)")))
	assert_eq "${lines[0]}" "$(printf 'latest\t%s\t%s\t%s\t%s' "$(jq -r .digest <<<"$d")" "$size" "$CREATED" \
		"$(config_json L latest '.os + "/" + .architecture')")" "first line"
	assert_eq "${#lines[@]}" 2 "line count"
	[[ "${lines[1]}" == v1$'\t'"$(manifest_digest L v1)"$'\t'* ]] || fail "second line: ${lines[1]}"
}

@test "ocikit ls [--long shows the variant]" {
	setup_image L
	"$OCIKIT" config --image L:v1 --platform.os linux --platform.arch arm64 --platform.variant v8
	run "$OCIKIT" ls --layout L --long
	assert_status 0
	[[ "${lines[1]}" == *$'\t'linux/arm64/v8 ]] || fail "second line: ${lines[1]}"
	image-verify L
}

@test "ocikit ls [--long reports an unreadable tag and lists the others]" {
	setup_image L
	rm "$(config_blob L latest)"
	run --separate-stderr "$OCIKIT" ls --layout L --long
	assert_status 0
	assert_eq "${#lines[@]}" 2 "line count"
	[[ "${lines[0]}" == latest$'\t'*$'\t'error:* ]] || fail "first line: ${lines[0]}"
	[[ "${lines[1]}" == v1$'\t'* && "${lines[1]}" != *error:* ]] || fail "second line: ${lines[1]}"
}

@test "ocikit ls [--long=false is the short form]" {
	setup_image L
	run "$OCIKIT" ls --layout L --long=false
	assert_status 0
	assert_eq "$output" "$(printf 'latest\nv1')" "output"
}

@test "ocikit ls [is read-only]" {
	setup_image L
	local before
	before="$(layout_hash L)"
	"$OCIKIT" ls --layout L >/dev/null
	"$OCIKIT" ls --layout L --long >/dev/null
	assert_eq "$(layout_hash L)" "$before" "layout hash"
}

@test "ocikit ls [missing --layout]" {
	refuses "" ls 'missing mandatory argument: --layout' -- ls
}

@test "ocikit ls [layout path with a colon]" {
	refuses "" ls "path contains ':'" -- ls --layout a:b
}

@test "ocikit ls [missing layout]" {
	refuses "" ls 'no such' -- ls --layout nope
}

@test "ocikit ls [directory that is not a layout]" {
	mkdir D
	echo '{}' >D/index.json
	refuses D ls 'not an OCI image layout' -- ls --layout D
}

@test "ocikit ls [unsupported imageLayoutVersion]" {
	make_future_layout F
	refuses F ls 'imageLayoutVersion.*2\.0\.0' -- ls --layout F
}

@test "ocikit ls [corrupt index.json]" {
	setup_image L
	truncate -s 40 L/index.json
	refuses L ls 'index\.json' -- ls --layout L
}

@test "ocikit ls [index.json that is not an index]" {
	setup_image L
	echo '{"schemaVersion":2,"manifests":{}}' >L/index.json
	refuses L ls 'manifests' -- ls --layout L
}

@test "ocikit ls [extra positional argument]" {
	setup_image L
	refuses L ls 'positional arguments' -- ls --layout L extra
}
