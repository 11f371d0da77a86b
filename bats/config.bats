#!/usr/bin/env bats
# ocikit config --image L[:T] [flags]

load helpers

cfg() {
	config_json L "${2:-v1}" "$1"
}

@test "ocikit config [sets every image config field]" {
	setup_image L
	run --separate-stderr "$OCIKIT" config --image L:v1 \
		--config.user nobody:nogroup --config.workingdir /work --config.stopsignal SIGINT \
		--config.label a=1 --config.label org.example.test=2 \
		--author "New <new@example.com>" --created 2022-01-02T03:04:05.5+02:00
	assert_status 0
	assert_eq "$output$stderr" "" "output"
	assert_eq "$(cfg '.config | [.User, .WorkingDir, .StopSignal, .Labels]')" \
		'["nobody:nogroup","/work","SIGINT",{"a":"1","org.example.test":"2"}]' "config"
	assert_eq "$(cfg '[.author, .created]')" '["New <new@example.com>","2022-01-02T03:04:05.5+02:00"]' "author, created"
	image-verify L
}

@test "ocikit config [writes a new manifest and keeps the old blobs]" {
	setup_image L
	local old_m old_c
	old_m="$(manifest_blob L v1)"
	old_c="$(config_blob L v1)"
	"$OCIKIT" config --image L:v1 --config.user 0
	[[ "$(manifest_blob L v1)" != "$old_m" ]] || fail "manifest unchanged"
	[[ -f "$old_m" && -f "$old_c" ]] || fail "old blobs removed"
	assert_eq "$(jq -c .annotations "$(manifest_blob L v1)")" '{"org.example.built-by":"bats"}' "annotations kept"
	image-verify L
}

@test "ocikit config [env replaces a variable in place and appends new ones]" {
	setup_image L
	"$OCIKIT" config --image L:v1 --config.env LANG=en_US.UTF-8 --config.env NEW=a=b --config.env NEW=c
	assert_eq "$(cfg .config.Env)" '["PATH=/usr/local/bin:/usr/bin:/bin","LANG=en_US.UTF-8","NEW=c"]'
	image-verify L
}

@test "ocikit config [entrypoint and cmd replace the whole list]" {
	setup_image L
	"$OCIKIT" config --image L:v1 --config.entrypoint /usr/bin/env --config.cmd -i --config.cmd --config.cmd=-x
	assert_eq "$(cfg '[.config.Entrypoint, .config.Cmd]')" '[["/usr/bin/env"],["-i","--config.cmd=-x"]]'
	image-verify L
}

@test "ocikit config [exposed ports and volumes are added to the set]" {
	setup_image L
	"$OCIKIT" config --image L:v1 --config.exposedports 53/udp --config.exposedports 8080/tcp --config.volume /a --config.volume /data
	assert_eq "$(cfg '[.config.ExposedPorts, .config.Volumes]')" '[{"53/udp":{},"8080/tcp":{}},{"/a":{},"/data":{}}]'
	image-verify L
}

@test "ocikit config [platform flags and their aliases]" {
	setup_image L
	"$OCIKIT" config --image L:v1 --platform.os freebsd --platform.arch arm --platform.variant v7
	assert_eq "$(cfg '[.os, .architecture, .variant]')" '["freebsd","arm","v7"]'
	"$OCIKIT" config --image L:v1 --os linux --architecture riscv64
	assert_eq "$(cfg '[.os, .architecture, .variant]')" '["linux","riscv64","v7"]'
	image-verify L
}

@test "ocikit config [manifest annotations]" {
	setup_image L
	"$OCIKIT" config --image L:v1 --manifest.annotation org.example.x=1 --manifest.annotation 'org.example.built-by=a=b'
	assert_eq "$(jq -c .annotations "$(manifest_blob L v1)")" '{"org.example.built-by":"a=b","org.example.x":"1"}'
	image-verify L
}

@test "ocikit config [appends a history entry]" {
	setup_image L
	"$OCIKIT" config --image L:v1 --author "Hist <h@example.com>" --config.user 1
	assert_eq "$(cfg '.history | length')" 3 "history length"
	assert_eq "$(cfg '.history[2] | [.created_by, .author, .empty_layer, has("comment")]')" '["umoci config","Hist <h@example.com>",true,false]'
	local created
	created="$(date -u -d "$(cfg '.history[2].created')" +%s)"
	[[ $(($(date -u +%s) - created)) -lt 60 ]] || fail "history created is not now: $(cfg '.history[2].created')"
	image-verify L
}

@test "ocikit config [history flags set the entry]" {
	setup_image L
	"$OCIKIT" config --image L:v1 --history.author me --history.comment "why" \
		--history.created 2020-01-01T10:00:00.120+02:00 --history.created_by "bats test"
	assert_eq "$(cfg '.history[-1]')" '{"created":"2020-01-01T10:00:00.12+02:00","created_by":"bats test","author":"me","comment":"why","empty_layer":true}'
	image-verify L
}

@test "ocikit config [--no-history adds no entry]" {
	setup_image L
	"$OCIKIT" config --image L:v1 --no-history --config.user 2
	assert_eq "$(cfg '.history | length')" 2
	image-verify L
}

@test "ocikit config [--tag writes a new tag and leaves the source alone]" {
	setup_image L
	local src
	src="$(tag_descriptor L v1)"
	"$OCIKIT" config --image L:v1 --tag v2 --config.user 3
	assert_eq "$(tag_descriptor L v1)" "$src" "source descriptor"
	assert_eq "$(layout_tags L | tr '\n' ' ')" "latest v1 v2 " "tags"
	assert_eq "$(cfg .config.User v2)" 3
	image-verify L
}

@test "ocikit config [--clear removes each key]" {
	setup_image L
	"$OCIKIT" config --image L:latest --clear config.labels --clear config.env --clear config.entrypoint \
		--clear config.cmd --clear config.volume --clear config.exposedports --clear manifest.annotations
	assert_eq "$(cfg .config latest)" '{"User":"1000:1000"}' "config"
	assert_eq "$(jq -c 'has("annotations")' "$(manifest_blob L latest)")" false "annotations"
	image-verify L
}

@test "ocikit config [clears run before setters]" {
	setup_image L
	"$OCIKIT" config --image L:v1 --config.env ONLY=1 --clear config.env --config.label x=y --clear config.labels
	assert_eq "$(cfg '[.config.Env, .config.Labels]')" '[["ONLY=1"],{"x":"y"}]'
	image-verify L
}

@test "ocikit config [--save writes the new config]" {
	setup_image L
	"$OCIKIT" config --image L:v1 --config.user 4 --save saved.json
	cmp saved.json "$(config_blob L v1)"
	image-verify L
}

@test "ocikit config [with no setter writes only a history entry]" {
	setup_image L
	local before
	before="$(cfg .config)"
	"$OCIKIT" config --image L:v1
	assert_eq "$(cfg .config)" "$before" "config"
	assert_eq "$(cfg '.history | length')" 3 "history length"
	image-verify L
}

@test "ocikit config [--clear rootfs.diffids]" {
	setup_image L
	refuses L config 'rootfs\.diffids.*not safe' -- config --image L:v1 --clear rootfs.diffids
}

@test "ocikit config [--clear bogus]" {
	setup_image L
	refuses L config 'unknown key to --clear: bogus' -- config --image L:v1 --clear bogus
}

@test "ocikit config [--config.env noeq]" {
	setup_image L
	refuses L config "config\.env: must contain '='" -- config --image L:v1 --config.env noeq
}

@test "ocikit config [--config.env with an empty name]" {
	setup_image L
	refuses L config 'config\.env: must have non-empty name' -- config --image L:v1 --config.env =v
}

@test "ocikit config [--config.label noeq]" {
	setup_image L
	refuses L config "config\.label: must contain '='" -- config --image L:v1 --config.label noeq
}

@test "ocikit config [--manifest.annotation noeq]" {
	setup_image L
	refuses L config "manifest\.annotation: must contain '='" -- config --image L:v1 --manifest.annotation noeq
}

@test "ocikit config [--created notatime]" {
	setup_image L
	refuses L config 'parse --created.*notatime' -- config --image L:v1 --created notatime
}

@test "ocikit config [--history.created notatime]" {
	setup_image L
	refuses L config 'parse --history\.created.*notatime' -- config --image L:v1 --history.created notatime
}

@test "ocikit config [--no-history with --history.comment]" {
	setup_image L
	refuses L config '--no-history and --history\.comment may not be specified together' -- \
		config --image L:v1 --no-history --history.comment x
}

@test "ocikit config [--no-history with --history.created]" {
	setup_image L
	refuses L config '--no-history and --history\.created may not be specified together' -- \
		config --image L:v1 --no-history --history.created "$CREATED"
}

@test "ocikit config [--no-history with an invalid boolean]" {
	setup_image L
	refuses L config 'invalid boolean value "bogus"' -- config --image L:v1 --no-history=bogus
}

@test "ocikit config [invalid --tag name]" {
	setup_image L
	refuses L config 'invalid reference' -- config --image L:v1 --tag 'bad!' --config.user 5
}

@test "ocikit config [invalid --image tag]" {
	setup_image L
	refuses L config 'bad!' -- config --image 'L:bad!' --config.user 5
}

@test "ocikit config [unknown tag]" {
	setup_image L
	refuses L config 'tag not found: nope' -- config --image L:nope --config.user 5
}

@test "ocikit config [config blob whose bytes do not match its digest]" {
	setup_image L
	flip_byte "$(config_blob L v1)"
	refuses L config 'digest mismatch' -- config --image L:v1 --config.user 5
}

@test "ocikit config [manifest whose embedded mediaType differs from its descriptor]" {
	setup_image L
	retype_manifest L v1 application/vnd.oci.image.index.v1+json
	refuses L config 'media type' -- config --image L:v1 --config.user 5
}

@test "ocikit config [--save to a directory that does not exist]" {
	setup_image L
	refuses L config 'nonexistent' -- config --image L:v1 --config.user 5 --save "$PWD/nonexistent/x.json"
}

@test "ocikit config [missing --image]" {
	refuses "" config 'missing mandatory argument: --image' -- config --config.user 5
}

@test "ocikit config [extra positional argument]" {
	setup_image L
	refuses L config 'positional arguments' -- config --image L:v1 extra
}

@test "ocikit config [missing layout]" {
	refuses "" config 'no such' -- config --image nope:v1 --config.user 5
}

@test "ocikit config [corrupt index.json]" {
	setup_image L
	truncate -s 40 L/index.json
	refuses L config 'index\.json' -- config --image L:v1 --config.user 5
}
