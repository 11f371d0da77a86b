#!/usr/bin/env bats
# ocikit pull, push, inspect, digest and tags against a real registry
# (Debian's docker-registry on 127.0.0.1, started once for this file), with
# skopeo as the oracle; and the whole round trip pull -> unpack -> repack -> push.

load helpers

# Flags every registry command needs for the plain-HTTP test registry.
TLS=(--tls-verify=false)

setup_file() {
	command -v docker-registry >/dev/null 2>&1 || skip "docker-registry is not installed"
	local dir="$BATS_FILE_TMPDIR/registry" port i
	mkdir -p "$dir/data"
	port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
	cat >"$dir/config.yml" <<-EOF
		version: 0.1
		log:
		  level: error
		storage:
		  filesystem:
		    rootdirectory: $dir/data
		  delete:
		    enabled: true
		http:
		  addr: 127.0.0.1:$port
	EOF
	# fd 3 closed: bats waits for it otherwise
	docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 3>&- &
	echo $! >"$dir/pid"
	for i in $(seq 1 150); do
		curl -fsS -o /dev/null "http://127.0.0.1:$port/v2/" 2>/dev/null && break
		kill -0 "$(cat "$dir/pid")" 2>/dev/null || fail "docker-registry exited:" "$(cat "$dir/log")" || return
		sleep 0.1
	done
	curl -fsS -o /dev/null "http://127.0.0.1:$port/v2/" || fail "docker-registry did not start:" "$(cat "$dir/log")" || return
	export REGISTRY="127.0.0.1:$port"
	# pushes must upload, not mount from what another test pushed
	export OCIKIT_BLOB_SOURCES="$BATS_FILE_TMPDIR/blob-sources.json"
	export OCIKIT_RETRY_BASE_MS=10
}

teardown_file() {
	local pidfile="$BATS_FILE_TMPDIR/registry/pid"
	if [[ -f "$pidfile" ]]; then
		kill "$(cat "$pidfile")" 2>/dev/null || true
		rm -f "$pidfile"
	fi
}

# A repository name of its own for each test.
repo() {
	printf '%s/bats/t%s-%s\n' "$REGISTRY" "$BATS_TEST_NUMBER" "${1:-app}"
}

# The sha256 digest of stdin.
sha() {
	printf 'sha256:%s\n' "$(sha256sum | cut -d' ' -f1)"
}

@test "ocikit push [an image built by ocikit: prints its digest, skopeo reads the same bytes]" {
	setup_image L
	local ref
	ref="$(repo)"
	run --separate-stderr "$OCIKIT" push "${TLS[@]}" --quiet --image L:latest "$ref:latest"
	assert_status 0
	assert_eq "$output" "$(manifest_digest L latest)" "printed digest"
	assert_eq "$stderr" "" "stderr"
	assert_eq "$(skopeo inspect --tls-verify=false --raw "docker://$ref:latest" | sha)" "$(manifest_digest L latest)" "registry digest"
	assert_eq "$(skopeo inspect --tls-verify=false --config --raw "docker://$ref:latest" | sha)" "$(config_digest L latest)" "config digest"
	# progress on stderr when not quiet; a second push uploads nothing
	run --separate-stderr "$OCIKIT" push "${TLS[@]}" --image L:latest "$ref:again"
	assert_status 0
	assert_eq "$output" "$(manifest_digest L latest)" "printed digest"
	[[ "$stderr" != *"done"* ]] || fail "second push uploaded again:" "$stderr"
}

@test "ocikit digest [HEAD digest equals the pushed manifest's]" {
	setup_image L
	local ref
	ref="$(repo)"
	"$OCIKIT" push "${TLS[@]}" --quiet --image L:v1 "$ref:v1"
	run --separate-stderr "$OCIKIT" digest "${TLS[@]}" "$ref:v1"
	assert_status 0
	assert_eq "$output" "$(manifest_digest L v1)" "digest"
	assert_eq "$stderr" "" "stderr"
	run --separate-stderr "$OCIKIT" digest "${TLS[@]}" "$ref@$(manifest_digest L v1)"
	assert_status 0
	assert_eq "$output" "$(manifest_digest L v1)" "digest by digest"
}

@test "ocikit tags [lists every tag, --json as skopeo list-tags]" {
	setup_image L
	local ref
	ref="$(repo)"
	"$OCIKIT" push "${TLS[@]}" --quiet --image L:latest "$ref:latest"
	"$OCIKIT" push "${TLS[@]}" --quiet --image L:v1 "$ref:v1"
	"$OCIKIT" push "${TLS[@]}" --quiet --image L:v1 "$ref:2.0"
	run --separate-stderr "$OCIKIT" tags "${TLS[@]}" "$ref"
	assert_status 0
	assert_eq "$(sort <<<"$output" | tr '\n' ' ')" "2.0 latest v1 " "tags"
	assert_eq "$stderr" "" "stderr"
	run --separate-stderr "$OCIKIT" tags "${TLS[@]}" --json "$ref"
	assert_status 0
	assert_eq "$(jq -c '.Tags | sort' <<<"$output")" "$(skopeo list-tags --tls-verify=false "docker://$ref" | jq -c '.Tags | sort')" "tags vs skopeo"
	assert_eq "$(jq -r .Repository <<<"$output")" "$(skopeo list-tags --tls-verify=false "docker://$ref" | jq -r .Repository)" "repository vs skopeo"
}

@test "ocikit inspect [summary, --raw and --config agree with skopeo]" {
	setup_image L
	local ref
	ref="$(repo)"
	"$OCIKIT" push "${TLS[@]}" --quiet --image L:v1 "$ref:v1"
	run --separate-stderr "$OCIKIT" inspect "${TLS[@]}" "$ref:v1"
	assert_status 0
	assert_eq "$(jq -r .Digest <<<"$output")" "$(manifest_digest L v1)" "Digest"
	assert_eq "$(jq -c .Labels <<<"$output")" '{"org.example.test":"1"}' "Labels"
	assert_eq "$(jq -c '.Layers | length' <<<"$output")" "$(jq '.layers | length' "$(manifest_blob L v1)")" "layer count"
	assert_eq "$(jq -c '[.Architecture, .Os, .Layers, .Env]' <<<"$output")" \
		"$(skopeo inspect --tls-verify=false "docker://$ref:v1" | jq -c '[.Architecture, .Os, .Layers, .Env]')" "vs skopeo inspect"
	run --separate-stderr "$OCIKIT" inspect "${TLS[@]}" --raw "$ref:v1"
	assert_status 0
	assert_eq "$output" "$(cat "$(manifest_blob L v1)")" "--raw"
	run --separate-stderr "$OCIKIT" inspect "${TLS[@]}" --config --raw "$ref:v1"
	assert_status 0
	assert_eq "$output" "$(cat "$(config_blob L v1)")" "--config --raw"
}

@test "ocikit pull [into a new layout: same digest, tagged, readable by umoci and skopeo]" {
	setup_image L
	local ref
	ref="$(repo)"
	"$OCIKIT" push "${TLS[@]}" --quiet --image L:v1 "$ref:v1"
	run --separate-stderr "$OCIKIT" pull "${TLS[@]}" "$ref:v1" --image P
	assert_status 0
	assert_eq "$output" "" "stdout"
	[[ "$stderr" =~ Stored\ .*\ as\ P:v1\ \((sha256:[0-9a-f]{64})\) ]] || fail "no Stored line:" "$stderr"
	assert_eq "${BASH_REMATCH[1]}" "$(manifest_digest L v1)" "digest in the Stored line"
	assert_eq "$(layout_tags P | tr '\n' ' ')" "v1 " "tags"
	assert_eq "$(manifest_digest P v1)" "$(manifest_digest L v1)" "digest"
	image-verify P
	# again into the same layout under another tag: nothing fetched
	run --separate-stderr "$OCIKIT" pull "${TLS[@]}" --json "$ref:v1" --image P:copy
	assert_status 0
	assert_eq "$(tail -n1 <<<"$output" | jq -c '[.event, .fetched]')" '["done",0]' "second pull"
	assert_eq "$(layout_tags P | tr '\n' ' ')" "v1 copy " "tags"
	image-verify P
}

@test "ocikit pull [pull -> unpack -> add a file -> repack -> push: one more layer]" {
	local ref layers
	ref="$(repo)"
	# an image of ocikit's own making, pushed with skopeo
	"$OCIKIT" init --layout src
	"$OCIKIT" new --image src:base
	mkdir -p content/etc
	echo "hello from bats" >content/etc/greeting
	"$OCIKIT" insert --image src:base content/etc /etc
	echo "second" >second.txt
	"$OCIKIT" insert --image src:base second.txt /srv/second.txt
	skopeo copy --quiet --dest-tls-verify=false oci:src:base "docker://$ref:base"
	layers="$(skopeo inspect --tls-verify=false "docker://$ref:base" | jq '.Layers | length')"
	assert_eq "$layers" 2 "layers pushed"

	run --separate-stderr "$OCIKIT" pull "${TLS[@]}" --quiet "$ref:base" --image work
	assert_status 0
	image-verify work
	run --separate-stderr "$OCIKIT" unpack --image work:base bundle
	assert_status 0
	assert_eq "$(cat bundle/rootfs/etc/greeting)" "hello from bats" "unpacked file"
	assert_eq "$(cat bundle/rootfs/srv/second.txt)" "second" "unpacked file"
	echo "added after pull" >bundle/rootfs/etc/added
	rm bundle/rootfs/srv/second.txt
	run --separate-stderr "$OCIKIT" repack --image work:next bundle
	assert_status 0
	image-verify work

	run --separate-stderr "$OCIKIT" push "${TLS[@]}" --quiet --image work:next "$ref:next"
	assert_status 0
	assert_eq "$output" "$(manifest_digest work next)" "pushed digest"
	assert_eq "$(skopeo inspect --tls-verify=false "docker://$ref:next" | jq '.Layers | length')" 3 "layers after repack"

	# skopeo sees the new layer's content
	skopeo copy --quiet --src-tls-verify=false "docker://$ref:next" oci:back:next
	run --separate-stderr "$OCIKIT" unpack --image back:next bundle2
	assert_status 0
	assert_eq "$(cat bundle2/rootfs/etc/added)" "added after pull" "added file"
	[[ ! -e bundle2/rootfs/srv/second.txt ]] || fail "removed file is back"
}

@test "ocikit pull [unknown host: exit 1, one line, layout unchanged, none created]" {
	"$OCIKIT" init --layout L
	refuses L pull '^ocikit pull: no-such-host\.invalid(:443)?: unknown host$' -- \
		pull "${TLS[@]}" --retry-times 1 no-such-host.invalid/app:1 --image L:t
	refuses "" pull 'unknown host' -- pull "${TLS[@]}" --retry-times 1 no-such-host.invalid/app:1 --image N:t
	[[ ! -e N ]] || fail "a layout was created"
}

@test "ocikit pull [404: exit 1, one line, layout unchanged, none created]" {
	"$OCIKIT" init --layout L
	local ref
	ref="$(repo)"
	refuses L pull 'not found: 404 Not Found' -- pull "${TLS[@]}" "$ref:nope" --image L:t
	refuses "" pull 'not found: 404' -- pull "${TLS[@]}" "$ref:nope" --image N:t
	[[ ! -e N ]] || fail "a layout was created"
}

@test "ocikit inspect, digest, tags [404: exit 1, one line]" {
	local ref
	ref="$(repo)"
	run --separate-stderr "$OCIKIT" inspect "${TLS[@]}" "$ref:nope"
	assert_error inspect 'not found: 404'
	run --separate-stderr "$OCIKIT" digest "${TLS[@]}" "$ref:nope"
	assert_error digest 'not found'
	run --separate-stderr "$OCIKIT" tags "${TLS[@]}" "$ref"
	assert_error tags 'not found: 404'
}

@test "ocikit push [a tag the layout lacks: exit 1, one line, nothing pushed]" {
	setup_image L
	local ref
	ref="$(repo)"
	refuses L push 'tag not found: nope' -- push "${TLS[@]}" --image L:nope "$ref:x"
	run --separate-stderr "$OCIKIT" tags "${TLS[@]}" "$ref"
	assert_status 1
}
