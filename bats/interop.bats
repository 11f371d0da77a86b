#!/usr/bin/env bats
# ocikit and the other tools on the same layouts: umoci 0.4.7 and skopeo read
# what ocikit writes, ocikit reads what they write, and the same edits made by
# umoci and by ocikit give the same bytes.

load helpers

# Flags for a config call that touch every field; fixed times so bytes compare.
CONFIG_FLAGS=(
	--created 2020-02-03T04:05:06.789+01:00
	--history.created 2020-02-03T04:05:07Z
	--history.author "Hist <h@example.com>" --history.comment "c & <d>" --history.created_by "make image"
	--author "Author <a@example.com>"
	--config.user 1000:1000 --config.workingdir /srv --config.stopsignal SIGTERM
	--config.exposedports 80/tcp --config.exposedports 53/udp
	--config.env A=1 --config.env B=x=y --config.env A=2 --config.env 'U=é☃'
	--config.entrypoint /bin/sh --config.entrypoint -c --config.cmd "echo hi"
	--config.volume /data --config.volume /var/log
	--config.label z=1 --config.label a=2 --config.label 'html=<b>&'
	--os linux --architecture arm64
	--manifest.annotation org.example.b=2 --manifest.annotation org.example.a=1
)

# run_both ARGS...: runs "umoci ARGS" on layout U and "ocikit ARGS" on layout O;
# the word LAYOUT in ARGS is replaced by the layout. Both must succeed.
run_both() {
	local tool l out a args
	for tool in umoci "$OCIKIT"; do
		l=O
		[[ "$tool" == umoci ]] && l=U
		args=()
		for a in "$@"; do args+=("${a//LAYOUT/$l}"); done
		out="$("$tool" "${args[@]}" 2>&1)" || fail "$tool ${args[*]} failed:" "$out" || return
	done
}

# Compares config bytes and manifests (structurally: umoci 0.4.7 writes no
# manifest mediaType) of TAG in U and O.
assert_same_image() {
	local tag="$1"
	cmp "$(config_blob U "$tag")" "$(config_blob O "$tag")" ||
		fail "config blobs differ:" "umoci:  $(cat "$(config_blob U "$tag")")" "ocikit: $(cat "$(config_blob O "$tag")")" || return
	assert_eq "$(config_digest O "$tag")" "$(config_digest U "$tag")" "config digest" || return
	assert_eq "$(jq -cS 'del(.mediaType)' "$(manifest_blob O "$tag")")" "$(jq -cS 'del(.mediaType)' "$(manifest_blob U "$tag")")" "manifest" || return
	assert_eq "$(jq -c .annotations "$(manifest_blob O "$tag")")" "$(jq -c .annotations "$(manifest_blob U "$tag")")" "manifest annotations" || return
	assert_eq "$(jq -r .mediaType "$(manifest_blob O "$tag")")" application/vnd.oci.image.manifest.v1+json "ocikit manifest mediaType" || return
}

@test "interop [umoci and skopeo read a layout written by ocikit]" {
	setup_image L
	"$OCIKIT" tag --image L:v1 'other-1.0'
	image-verify L
	assert_eq "$(umoci ls --layout L)" "$("$OCIKIT" ls --layout L)" "umoci ls"
	local inspect
	inspect="$(skopeo inspect oci:L:v1)"
	assert_eq "$(jq -c '[.Created, .Os, .Architecture, .Env, .Labels, .Layers]' <<<"$inspect")" \
		"$(config_json L v1 '[.created, .os, .architecture, .config.Env, .config.Labels, []]')" "skopeo inspect"
	assert_eq "$(skopeo inspect --raw oci:L:v1)" "$(cat "$(manifest_blob L v1)")" "skopeo raw manifest"
	assert_eq "$(skopeo inspect --config --raw oci:L:v1)" "$(cat "$(config_blob L v1)")" "skopeo raw config"
}

@test "interop [stat history matches umoci stat]" {
	setup_image L
	"$OCIKIT" config --image L:v1 --history.comment "a longer comment" --history.author "x <y>" --history.created_by "by & <me>"
	# umoci 0.4.7 prints only the history table; ocikit prints it last. (0.4.7
	# does not quote strings with control characters, 0.6 and ocikit do.)
	assert_eq "$("$OCIKIT" stat --image L:v1 | sed -n '/^== HISTORY ==$/,$p' | tail -n +2)" "$(umoci stat --image L:v1)" "history table"
	assert_eq "$("$OCIKIT" stat --image L:v1 --json | jq -cS .history)" "$(umoci stat --image L:v1 --json | jq -cS .history)" "history JSON"
}

@test "interop [ocikit reads, edits and validates a layout written by umoci]" {
	umoci init --layout U
	umoci new --image U:base
	umoci config --image U:base "${CONFIG_FLAGS[@]}"
	umoci tag --image U:base second
	run --separate-stderr "$OCIKIT" ls --layout U
	assert_status 0
	assert_eq "$output" "$(umoci ls --layout U)" "ls"
	run --separate-stderr "$OCIKIT" validate --layout U
	assert_status 0
	run --separate-stderr "$OCIKIT" stat --image U:base --json
	assert_status 0
	assert_eq "$(jq -cS .config.blob <<<"$output")" "$(jq -cS . "$(config_blob U base)")" "config"
	assert_eq "$(jq -cS .history <<<"$output")" "$(umoci stat --image U:base --json | jq -cS .history)" "history"
	# ocikit edits it, umoci reads the result and edits it again, ocikit reads that.
	"$OCIKIT" config --image U:base --tag edited --config.env C=3 --clear config.labels
	run umoci stat --image U:edited
	assert_status 0
	umoci config --image U:edited --config.label back=1
	assert_eq "$(config_json U edited '[.config.Env, .config.Labels]')" '[["A=2","B=x=y","U=é☃","C=3"],{"back":"1"}]'
	"$OCIKIT" tag --image U:edited t2
	"$OCIKIT" rm --image U:second
	assert_eq "$(umoci ls --layout U | tr '\n' ' ')" "base edited t2 " "umoci ls"
	image-verify U
}

@test "interop [ocikit reads an empty layout written by umoci init]" {
	umoci init --layout U
	run --separate-stderr "$OCIKIT" ls --layout U
	assert_status 0
	assert_eq "$output" "" "ls"
	run --separate-stderr "$OCIKIT" new --image U:t
	assert_status 0
	image-verify U
}

@test "interop [ocikit reads a layout written by skopeo]" {
	setup_image L
	skopeo copy --quiet oci:L:v1 oci:S:copied
	run --separate-stderr "$OCIKIT" ls --layout S
	assert_status 0
	assert_eq "$output" copied "ls"
	run --separate-stderr "$OCIKIT" validate --layout S
	assert_status 0
	assert_eq "$(config_json S copied)" "$(config_json L v1)" "config"
	"$OCIKIT" config --image S:copied --config.user 0
	image-verify S
}

@test "interop [new creates the same image as umoci new]" {
	umoci init --layout U
	umoci new --image U:t
	"$OCIKIT" init --layout O
	"$OCIKIT" new --image O:t
	assert_eq "$(config_json O t 'del(.created)')" "$(config_json U t 'del(.created)')" "config"
	assert_eq "$(jq -cS 'del(.mediaType) | del(.config.digest, .config.size)' "$(manifest_blob O t)")" \
		"$(jq -cS 'del(.mediaType) | del(.config.digest, .config.size)' "$(manifest_blob U t)")" "manifest"
}

@test "interop [config with every flag writes the same bytes as umoci]" {
	run_both init --layout LAYOUT
	run_both new --image LAYOUT:t
	run_both config --image LAYOUT:t "${CONFIG_FLAGS[@]}"
	assert_same_image t
	# A second edit on top, clearing and replacing.
	run_both config --image LAYOUT:t --created 2020-02-03T04:05:06Z --history.created 2021-01-01T00:00:00.000000001Z \
		--clear config.env --config.env ONLY=1 --clear config.labels --clear manifest.annotations \
		--config.entrypoint "" --config.cmd -x --config.exposedports 80/tcp --config.volume /new --author ""
	assert_same_image t
}

@test "interop [config --no-history and --tag write the same bytes as umoci]" {
	run_both init --layout LAYOUT
	run_both new --image LAYOUT:t
	run_both config --image LAYOUT:t --created 2020-02-03T04:05:06Z --no-history --config.user nobody --tag t2
	assert_same_image t2
	run_both config --image LAYOUT:t2 --created 2020-02-03T04:05:06Z --history.created 2020-02-03T04:05:06Z \
		--history.author "" --history.comment "" --history.created_by "" --config.workingdir /
	assert_same_image t2
	assert_eq "$(config_json O t2 '.history | length')" 1 "history length"
}

@test "interop [tag, rm and ls sequences give the same ls output as umoci]" {
	run_both init --layout LAYOUT
	run_both new --image LAYOUT:a
	run_both tag --image LAYOUT:a b
	run_both tag --image LAYOUT:a c
	run_both tag --image LAYOUT:b a
	run_both new --image LAYOUT:d
	run_both tag --image LAYOUT:d b
	run_both rm --image LAYOUT:c
	run_both rm --image LAYOUT:absent
	run_both tag --image LAYOUT:d 'x.y_z-1:2'
	run_both remove --image LAYOUT:a
	run_both new --image LAYOUT:a
	assert_eq "$("$OCIKIT" ls --layout O)" "$(umoci ls --layout U)" "ls"
	assert_eq "$("$OCIKIT" ls --layout U)" "$(umoci ls --layout O)" "ls across"
	assert_eq "$("$OCIKIT" ls --layout O | tr '\n' ' ')" "d b x.y_z-1:2 a " "ls"
	image-verify O
}
