#!/usr/bin/env bats
# ocikit stat --image L[:T] [--json]

load helpers

@test "ocikit stat [text output has the manifest, config and history sections]" {
	setup_image L
	run --separate-stderr "$OCIKIT" stat --image L:v1
	assert_status 0
	assert_eq "$stderr" "" "stderr"
	assert_eq "$(grep -c '^== [A-Z]* ==$' <<<"$output")" 3 "section count"
	assert_eq "$(grep '^== ' <<<"$output" | tr '\n' ' ')" "== MANIFEST == == CONFIG == == HISTORY == " "sections"
	grep -qF "	Digest: $(manifest_digest L v1)" <<<"$output" || fail "manifest digest missing"
	grep -qF "		Digest: $(config_digest L v1)" <<<"$output" || fail "config digest missing"
	grep -qx "Created: $CREATED" <<<"$output" || fail "created missing"
	grep -qx 'Author: "Bats <bats@example.com>"' <<<"$output" || fail "author missing"
	grep -qx '	Working Directory: /srv' <<<"$output" || fail "working directory missing"
	grep -qx 'LAYER  CREATED  *CREATED BY   SIZE   COMMENT' <<<"$output" || fail "history header missing"
	assert_eq "$(sed -n '/^== HISTORY ==$/,$p' <<<"$output" | tail -n +3 | awk '{print $1, $2, $3, $4, $5, $6}' | tr '\n' '|')" \
		"<none> $HISTORY_CREATED umoci config <none> |<none> $HISTORY_CREATED umoci config <none> second|" "history rows"
}

@test "ocikit stat [--json is one parseable line with manifest, config and history]" {
	setup_image L
	# Merged stdout and stderr must still parse.
	run "$OCIKIT" stat --image L:v1 --json
	assert_status 0
	assert_eq "${#lines[@]}" 1 "line count"
	jq -e . >/dev/null <<<"$output" || fail "not JSON: $output"
	assert_eq "$(jq -c .manifest.descriptor <<<"$output")" "$(tag_descriptor L v1)" "manifest descriptor"
	assert_eq "$(jq -cS .manifest.blob <<<"$output")" "$(jq -cS . "$(manifest_blob L v1)")" "manifest blob"
	assert_eq "$(jq -cS .config.blob <<<"$output")" "$(jq -cS . "$(config_blob L v1)")" "config blob"
	assert_eq "$(jq -r .config.descriptor.digest <<<"$output")" "$(config_digest L v1)" "config digest"
	assert_eq "$(jq -c '[.history[] | [.layer, .created_by, .comment, .empty_layer]]' <<<"$output")" \
		'[[null,"umoci config",null,true],[null,"umoci config","second",true]]' "history"
}

@test "ocikit stat [tag defaults to latest]" {
	setup_image L
	run "$OCIKIT" stat --image L --json
	assert_status 0
	assert_eq "$(jq -r .manifest.descriptor.digest <<<"$output")" "$(manifest_digest L latest)"
}

@test "ocikit stat [strings with control characters are Go-quoted]" {
	setup_image L
	"$OCIKIT" config --image L:v1 --author $'a\tb' --history.comment $'x\ny'
	run "$OCIKIT" stat --image L:v1
	assert_status 0
	grep -qxF 'Author: "a\tb"' <<<"$output" || fail "author not quoted: $output"
	grep -qF '"x\ny"' <<<"$output" || fail "comment not quoted: $output"
}

@test "ocikit stat [is read-only]" {
	setup_image L
	local before
	before="$(layout_hash L)"
	"$OCIKIT" stat --image L:v1 >/dev/null
	"$OCIKIT" stat --image L:latest --json >/dev/null
	assert_eq "$(layout_hash L)" "$before" "layout hash"
}

@test "ocikit stat [unknown tag]" {
	setup_image L
	refuses L stat 'tag not found: nope' -- stat --image L:nope
}

@test "ocikit stat [ambiguous tag]" {
	setup_image L
	edit_index L '.manifests += [.manifests[0] | .annotations["org.opencontainers.image.ref.name"] = "v1"]'
	refuses L stat 'ambiguous' -- stat --image L:v1
}

@test "ocikit stat [invalid tag name]" {
	setup_image L
	refuses L stat 'bad!' -- stat --image 'L:bad!'
}

@test "ocikit stat [config blob whose bytes do not match its digest]" {
	setup_image L
	flip_byte "$(config_blob L v1)"
	refuses L stat "digest mismatch.*$(config_digest L v1)" -- stat --image L:v1
}

@test "ocikit stat [manifest blob whose bytes do not match its digest]" {
	setup_image L
	flip_byte "$(manifest_blob L v1)" 30
	refuses L stat 'digest mismatch' -- stat --image L:v1 --json
}

@test "ocikit stat [manifest whose embedded mediaType differs from its descriptor]" {
	setup_image L
	retype_manifest L v1 application/vnd.oci.image.index.v1+json
	refuses L stat 'media type' -- stat --image L:v1
}

@test "ocikit stat [manifest that claims an unrelated mediaType]" {
	setup_image L
	retype_manifest L v1 application/vnd.example.other+json
	refuses L stat 'media type' -- stat --image L:v1
}

@test "ocikit stat [manifest that holds manifests]" {
	setup_image L
	local tmp digest
	tmp="$(mktemp)"
	jq -c '.manifests = []' "$(manifest_blob L v1)" >"$tmp"
	digest="$(put_blob L "$tmp")"
	edit_index L '.manifests[1].digest = $d | .manifests[1].size = $s' --arg d "$digest" --argjson s "$(stat -c %s "$tmp")"
	refuses L stat 'manifests' -- stat --image L:v1
}

@test "ocikit stat [missing config blob]" {
	setup_image L
	rm "$(config_blob L v1)"
	refuses L stat "$(config_digest L v1 | cut -c8-20)" -- stat --image L:v1
}

@test "ocikit stat [descriptor size differs from the blob]" {
	setup_image L
	edit_index L '.manifests[1].size += 1'
	refuses L stat 'size' -- stat --image L:v1
}

@test "ocikit stat [missing --image]" {
	refuses "" stat 'missing mandatory argument: --image' -- stat --json
}

@test "ocikit stat [extra positional argument]" {
	setup_image L
	refuses L stat 'positional arguments' -- stat --image L:v1 extra
}

@test "ocikit stat [missing layout]" {
	refuses "" stat 'no such' -- stat --image nope:v1
}

@test "ocikit stat [directory that is not a layout]" {
	mkdir D
	refuses D stat 'not an OCI image layout' -- stat --image D:v1
}

@test "ocikit stat [unsupported imageLayoutVersion]" {
	make_future_layout F
	refuses F stat 'imageLayoutVersion' -- stat --image F:v1
}

@test "ocikit stat [corrupt index.json]" {
	setup_image L
	truncate -s 40 L/index.json
	refuses L stat 'index\.json' -- stat --image L:v1
}
