#!/usr/bin/env bats
# A bundle unpacked by ocikit runs under runc, and what the container changed
# comes back through ocikit repack as a layer (new file, whiteout for a
# deleted one) that umoci and ocikit unpack.
#
# Nothing is downloaded: the image holds the host's own /bin/sh and rm with
# the shared libraries ldd lists. Tests skip, saying why, when runc cannot
# create a container on this machine (found out by trying with a bundle
# made by umoci) or when ocikit lacks unpack/repack.

load helpers

UMOCI="${UMOCI:-umoci}"
SCRIPT='echo hi > /newfile; rm /etc/removeme'

setup_file() {
	export L="$BATS_FILE_TMPDIR/layout"
	local s="$BATS_FILE_TMPDIR/stage" bin lib
	mkdir -p "$s/bin" "$s/etc" "$s/tmp" "$s/root"
	chmod 1777 "$s/tmp"
	cp -L "$(readlink -f /bin/sh)" "$s/bin/sh"
	cp -L "$(command -v rm)" "$s/bin/rm"
	for bin in "$s/bin/sh" "$s/bin/rm"; do
		# "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)"
		for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
			mkdir -p "$s$(dirname "$lib")"
			cp -L "$lib" "$s$lib"
		done
	done
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$s/etc/passwd"
	printf 'root:x:0:\n' >"$s/etc/group"
	printf 'delete me\n' >"$s/etc/removeme"
	tar --create --file "$BATS_FILE_TMPDIR/layer.tar" --directory "$s" --format=posix \
		--pax-option='exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime' \
		--numeric-owner --sort=name --mtime=2020-01-01T00:00:00Z .
	"$UMOCI" init --layout "$L"
	"$UMOCI" new --image "$L:shell"
	"$UMOCI" raw add-layer --image "$L:shell" "$BATS_FILE_TMPDIR/layer.tar"
	# The command through ocikit config when it can, else umoci's.
	local tool="$OCIKIT"
	"$tool" config --help >/dev/null 2>&1 || tool="$UMOCI"
	"$tool" config --image "$L:shell" --config.cmd /bin/sh --config.cmd -c --config.cmd "$SCRIPT"
}

# runc_run BUNDLE: terminal off, then runc run; output in $BUNDLE.runc.
runc_run() {
	local b="$1" tmp
	tmp="$(mktemp)"
	jq '.process.terminal = false' "$b/config.json" >"$tmp" && mv "$tmp" "$b/config.json"
	runc run --bundle "$b" "ctr-$$-$BATS_TEST_NUMBER" </dev/null >"$b.runc" 2>&1
}

# skip unless runc can run a bundle made by umoci (the machine's limits, not ocikit's).
need_runc() {
	command -v runc >/dev/null || skip "runc is not installed"
	[[ "$(id -u)" == 0 ]] || skip "runc needs root here"
	if [[ ! -e "$BATS_FILE_TMPDIR/runc-ok" && ! -e "$BATS_FILE_TMPDIR/runc-bad" ]]; then
		local b="$BATS_FILE_TMPDIR/probe"
		"$UMOCI" unpack --image "$L:shell" "$b" >/dev/null 2>&1 || fail "umoci unpack failed" || return
		if runc_run "$b" && [[ "$(cat "$b/rootfs/newfile" 2>/dev/null)" == hi ]]; then
			touch "$BATS_FILE_TMPDIR/runc-ok"
		else
			cp "$b.runc" "$BATS_FILE_TMPDIR/runc-bad"
		fi
	fi
	[[ -e "$BATS_FILE_TMPDIR/runc-ok" ]] ||
		skip "runc cannot create containers on this machine: $(tr '\n' ' ' <"$BATS_FILE_TMPDIR/runc-bad" | cut -c1-300)"
}

need_ocikit() {
	"$OCIKIT" "$@" --help >/dev/null 2>&1 || skip "ocikit has no '$*' command yet"
}

@test "runc [a bundle unpacked by umoci runs (the baseline)]" {
	need_runc
	run cat "$BATS_FILE_TMPDIR/probe/rootfs/newfile"
	assert_eq "$output" hi "newfile"
	[[ ! -e "$BATS_FILE_TMPDIR/probe/rootfs/etc/removeme" ]] || fail "/etc/removeme still there"
}

@test "runc [ocikit unpack, runc run, ocikit repack: umoci and ocikit see the change]" {
	need_ocikit unpack
	need_ocikit repack
	need_runc
	cp -a "$L" L
	run --separate-stderr "$OCIKIT" unpack --image L:shell B
	assert_status 0
	assert_eq "$(jq -c .process.args B/config.json)" "$(jq -cn --arg s "$SCRIPT" '["/bin/sh","-c",$s]')" "process.args"
	runc_run B || fail "runc run failed on ocikit's bundle:" "$(cat B.runc)"
	assert_eq "$(cat B/rootfs/newfile)" hi "newfile"
	run --separate-stderr "$OCIKIT" repack --image L:after B
	assert_status 0
	# the new layer: the file and a whiteout
	local m layer
	m="$(manifest_blob L after)"
	layer="$(blob_path L "$(jq -r '.layers[-1].digest' "$m")")"
	run sh -c "gzip -dc '$layer' | tar -t"
	assert_status 0
	[[ "$output" == *newfile* ]] || fail "newfile not in the new layer:" "$output"
	[[ "$output" == *etc/.wh.removeme* ]] || fail "no whiteout for etc/removeme in the new layer:" "$output"
	local tool
	for tool in "$UMOCI" "$OCIKIT"; do
		rm -rf X
		run --separate-stderr "$tool" unpack --image L:after X
		assert_status 0
		assert_eq "$(cat X/rootfs/newfile)" hi "newfile ($tool)"
		[[ ! -e X/rootfs/etc/removeme ]] || fail "$tool: /etc/removeme is back"
		[[ -x X/rootfs/bin/sh ]] || fail "$tool: /bin/sh missing"
	done
	# the source tag is unchanged
	rm -rf X
	"$UMOCI" unpack --image L:shell X >/dev/null
	[[ -e X/rootfs/etc/removeme && ! -e X/rootfs/newfile ]] || fail "the source tag changed"
}

@test "runc [ocikit unpack --rootless: a bundle runc runs when it runs umoci's]" {
	need_ocikit unpack
	need_runc
	"$UMOCI" unpack --rootless --image "$L:shell" U >/dev/null 2>&1
	runc_run U || skip "runc cannot run umoci's rootless bundle here either: $(tr '\n' ' ' <U.runc | cut -c1-300)"
	run --separate-stderr "$OCIKIT" unpack --rootless --image "$L:shell" B
	assert_status 0
	jq -e '.linux.namespaces | any(.type == "user")' B/config.json >/dev/null || fail "no user namespace"
	runc_run B || fail "runc runs umoci's rootless bundle but not ocikit's:" "$(cat B.runc)"
	assert_eq "$(cat B/rootfs/newfile)" hi "newfile"
}
