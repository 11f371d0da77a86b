#!/usr/bin/env bats
# ocikit unpack refuses hostile and broken images: exit status 1, one stderr
# line naming the problem, the layout byte-for-byte unchanged, no rootfs/ nor
# config.json left in the bundle, and nothing beside the bundle touched. The
# images come from test/tools/make-hostile.mjs (the compiled test helpers:
# build with `npx tsc -p tsconfig.json` first); test/engine/hostile-unpack.test.ts
# holds the whole corpus.

load helpers

MAKE_HOSTILE="$HELPERS_DIR/../test/tools/make-hostile.mjs"

# hostile CASE: the image "image:hostile" for CASE, and outside/ beside the
# bundle with a canary file that escapes aim at.
hostile() {
	mkdir -p outside
	printf 'canary\n' >outside/canary
	node "$MAKE_HOSTILE" image "$1" || fail "make-hostile.mjs $1 failed"
}

# unpack_refused ERE [FLAGS...]: ocikit unpack of image:hostile into bundle
# fails with ERE and leaves everything as it was.
unpack_refused() {
	local re="$1" outside_before
	shift
	outside_before="$(layout_hash outside)"
	refuses image unpack "$re" -- unpack "$@" --image image:hostile bundle || return
	[[ ! -e bundle/rootfs ]] || fail "rootfs/ left behind after a failure" || return
	[[ ! -e bundle/config.json ]] || fail "config.json left behind after a failure" || return
	assert_eq "$(layout_hash outside)" "$outside_before" "outside/"
	assert_eq "$(cat outside/canary)" "canary" "outside/canary"
}

@test "ocikit unpack [../ climbing out of the rootfs]" {
	hostile dotdot
	unpack_refused 'escapes the root'
}

@test "ocikit unpack [hardlink to ../ outside]" {
	hostile hardlink-dotdot
	unpack_refused 'escapes the root'
}

@test "ocikit unpack [hardlink to an entry not yet extracted]" {
	hostile hardlink-missing
	unpack_refused 'does not exist'
}

@test "ocikit unpack [bare .wh. whiteout]" {
	hostile wh-bare
	unpack_refused 'whiteout'
}

@test "ocikit unpack [whiteout of the root]" {
	hostile wh-root
	unpack_refused 'whiteout'
}

@test "ocikit unpack [PAX path with a NUL byte]" {
	hostile pax-nul
	unpack_refused 'NUL'
}

@test "ocikit unpack [diff_id mismatch]" {
	hostile diffid
	unpack_refused 'diff_?id'
}

@test "ocikit unpack [layer blob bytes do not match the digest]" {
	hostile corrupt-blob
	unpack_refused 'digest mismatch'
}

@test "ocikit unpack [truncated gzip layer]" {
	hostile gzip-truncated
	unpack_refused '[Gg][Zz][Ii][Pp]|unexpected end|truncat'
}

@test "ocikit unpack [unknown layer media type]" {
	hostile media-type
	unpack_refused '[Mm]edia ?[Tt]ype|unsupported'
}

@test "ocikit unpack [layer larger than OCIKIT_MAX_LAYER_SIZE]" {
	hostile bomb
	export OCIKIT_MAX_LAYER_SIZE=1048576
	unpack_refused 'decompresses to more than 1048576 bytes'
}

@test "ocikit unpack [bundle already holding rootfs/]" {
	hostile diffid
	mkdir -p bundle/rootfs
	printf 'mine\n' >bundle/rootfs/keep
	refuses image unpack 'already holds rootfs' -- unpack --image image:hostile bundle
	assert_eq "$(cat bundle/rootfs/keep)" "mine" "bundle/rootfs/keep"
}
