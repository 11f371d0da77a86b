#!/usr/bin/env bats
# --rootless as an unprivileged user (nobody, through setpriv): an image with
# a directory of mode 0000 and one of 0555 over which a later layer writes.
# ocikit must unpack it as umoci does (same mtree), validate it, and repack an
# edit inside the unreadable directory with its mode kept.

load helpers

setup() {
	[ "$(id -u)" = 0 ] || skip "needs root to switch to nobody"
	command -v setpriv >/dev/null || skip "setpriv (util-linux) not installed"
	# A directory nobody can reach: bats' own temp dirs are root-only.
	TEST_DIR="$(mktemp -d /tmp/ocikit-rootless.XXXXXX)"
	chmod 0777 "$TEST_DIR"
	cd "$TEST_DIR" || return 1
	umoci init --layout L
	umoci new --image L:t
	mkdir -p s/ro/sub s/noread s2/ro
	echo x >s/ro/sub/f
	echo y >s/noread/g
	echo z >s2/ro/new
	chmod 555 s/ro
	chmod 000 s/noread
	umoci insert --image L:t s /
	umoci insert --image L:t s2 /
	chmod -R a+rwX L
}

teardown() {
	cd / && chmod -R u+rwx "$TEST_DIR" 2>/dev/null; rm -rf "$TEST_DIR"
}

as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}

@test "rootless as nobody: unpack gives umoci's mtree, and repack keeps a 0000 directory's mode" {
	as_nobody "$OCIKIT" unpack --rootless --image L:t "$TEST_DIR/b"
	as_nobody umoci unpack --rootless --image L:t "$TEST_DIR/u"
	[ "$(stat -c %a b/rootfs/noread)" = 0 ]
	diff <(sed 1,5d u/*.mtree) <(sed 1,5d b/*.mtree)
	as_nobody "$OCIKIT" raw mtree-validate -f "$(echo u/*.mtree)" -p b/rootfs
	as_nobody sh -c "chmod 700 $TEST_DIR/b/rootfs/noread && echo new >$TEST_DIR/b/rootfs/noread/h && chmod 000 $TEST_DIR/b/rootfs/noread"
	as_nobody "$OCIKIT" repack --image L:r "$TEST_DIR/b"
	[ "$(stat -c %a b/rootfs/noread)" = 0 ]
	"$OCIKIT" unpack --image L:r c
	[ "$(cat c/rootfs/noread/h)" = new ]
	[ "$(stat -c %a c/rootfs/noread)" = 0 ]
	[ "$(cat c/rootfs/ro/new)" = z ]
}

@test "rootless as nobody: a failed unpack removes the partial rootfs, unreadable directories included" {
	as_nobody "$OCIKIT" unpack --rootless --image L:t "$TEST_DIR/b"
	# Corrupt the second layer's blob: the first layer (with the 0000 directory) is already extracted when it fails.
	layer=$(jq -r '.layers[1].digest' "L/blobs/sha256/$(jq -r '.manifests[0].digest' L/index.json | cut -d: -f2)" | cut -d: -f2)
	printf 'X' | dd of="L/blobs/sha256/$layer" bs=1 seek=40 conv=notrunc 2>/dev/null
	run -1 as_nobody "$OCIKIT" unpack --rootless --image L:t "$TEST_DIR/d"
	[ ! -e d/rootfs ]
}
