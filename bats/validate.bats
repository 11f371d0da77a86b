#!/usr/bin/env bats
# ocikit validate --layout L (ocikit only): exit 1 and one problem per stdout line.

load helpers

# After `run --separate-stderr`: status 1, N problems on stdout, the summary on stderr.
assert_problems() {
	local n="$1" plural=s
	[[ "$n" -eq 1 ]] && plural=""
	assert_error validate "^ocikit validate: validation failed: $n problem$plural found\$" || return
	assert_eq "${#lines[@]}" "$n" "problem lines" || return
}

@test "ocikit validate [a clean layout prints nothing]" {
	setup_image L
	local before
	before="$(layout_hash L)"
	run "$OCIKIT" validate --layout L
	assert_status 0
	assert_eq "$output" "" "output"
	assert_eq "$(layout_hash L)" "$before" "layout hash"
}

@test "ocikit validate [an empty layout is valid]" {
	"$OCIKIT" init --layout L
	run "$OCIKIT" validate --layout L
	assert_status 0
	assert_eq "$output" "" "output"
}

@test "ocikit validate [blob whose bytes do not match its digest]" {
	setup_image L
	local d
	d="$(config_digest L v1)"
	flip_byte "$(config_blob L v1)"
	refuses L validate 'validation failed: 1 problem found' -- validate --layout L
	assert_problems 1
	[[ "$output" == *"digest mismatch"*"$d"* ]] || fail "problem does not name the digest: $output"
}

@test "ocikit validate [missing blob]" {
	setup_image L
	local d
	d="$(config_digest L v1)"
	rm "$(config_blob L v1)"
	refuses L validate 'validation failed' -- validate --layout L
	assert_problems 1
	[[ "$output" == *"$d"* ]] || fail "problem does not name the digest: $output"
}

@test "ocikit validate [descriptor size differs from the blob]" {
	setup_image L
	edit_index L '.manifests[0].size += 5'
	refuses L validate 'validation failed' -- validate --layout L
	assert_problems 1
	[[ "$output" == "index.json manifests[0]"*size* || "$output" == "index.json manifests[0]"*bytes* ]] ||
		fail "problem does not name the entry: $output"
}

@test "ocikit validate [manifest whose embedded mediaType differs from its descriptor]" {
	setup_image L
	retype_manifest L v1 application/vnd.oci.image.index.v1+json
	refuses L validate 'validation failed' -- validate --layout L
	assert_problems 1
	[[ "$output" == *"$(manifest_digest L v1)"*"media type"* ]] || fail "problem: $output"
}

@test "ocikit validate [invalid tag name in index.json]" {
	setup_image L
	edit_index L '.manifests[1].annotations["org.opencontainers.image.ref.name"] = "bad!"'
	refuses L validate 'validation failed' -- validate --layout L
	assert_problems 1
	[[ "$output" == "index.json"*'"bad!"'* ]] || fail "problem: $output"
}

@test "ocikit validate [stray blob whose content does not match its name]" {
	setup_image L
	local name=0000000000000000000000000000000000000000000000000000000000000000
	echo junk >"L/blobs/sha256/$name"
	refuses L validate 'validation failed' -- validate --layout L
	assert_problems 1
	[[ "$output" == *"sha256:$name"* ]] || fail "problem: $output"
}

@test "ocikit validate [corrupt index.json]" {
	setup_image L
	truncate -s 40 L/index.json
	refuses L validate 'validation failed' -- validate --layout L
	assert_problems 1
	[[ "$output" == *index.json* ]] || fail "problem does not name index.json: $output"
}

@test "ocikit validate [reports every problem, one per line]" {
	setup_image L
	flip_byte "$(config_blob L latest)"
	rm "$(config_blob L v1)"
	edit_index L '.manifests += [{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111","size":2,"annotations":{"org.opencontainers.image.ref.name":"gone"}}]'
	refuses L validate 'validation failed: 3 problems found' -- validate --layout L
	assert_problems 3
}

@test "ocikit validate [missing --layout]" {
	refuses "" validate 'missing mandatory argument: --layout' -- validate
}

@test "ocikit validate [layout path with a colon]" {
	refuses "" validate "path contains ':'" -- validate --layout a:b
}

@test "ocikit validate [extra positional argument]" {
	setup_image L
	refuses L validate 'positional arguments' -- validate --layout L extra
}

@test "ocikit validate [missing layout]" {
	refuses "" validate 'no such' -- validate --layout nope
}

@test "ocikit validate [directory that is not a layout]" {
	mkdir D
	refuses D validate 'not an OCI image layout' -- validate --layout D
}

@test "ocikit validate [unsupported imageLayoutVersion]" {
	make_future_layout F
	refuses F validate 'imageLayoutVersion' -- validate --layout F
}
