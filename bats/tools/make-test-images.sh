#!/usr/bin/env bash
# make-test-images.sh: builds the images of the differential tests, offline,
# with GNU tar and umoci 0.4.7 only (no ocikit), into one layout:
#
#   make-test-images.sh LAYOUT        (LAYOUT must not exist; run as root)
#
# Tags:
#   rich   three hand-made layers exercising what an extractor must get right:
#          whiteouts (file, directory, unicode name), an opaque directory, a
#          file replaced by a directory and the reverse, hardlinks (also one to
#          a lower layer's file), symlinks (relative, absolute, dangling, long
#          target, a symlink to a directory later shadowed by a directory
#          entry: the --keep-dirlinks case), setuid/setgid/sticky, char and
#          block devices, a fifo, user.* xattrs (one binary) and a
#          security.capability from setcap, several owners, /etc/passwd and
#          /etc/group, past and sub-second mtimes, odd names (space, unicode,
#          newline, tab, backslash, a 150-byte name, a 220-byte path).
#          Config: user app:staff, env (HOME set), entrypoint, cmd, workdir,
#          volume /data, labels (one that collides with a generated
#          annotation), exposed ports, stop signal, author.
#   small  one layer of a few files; config user bob (supplementary groups).
# Layers are made from staged directories with
#   tar --format=posix --xattrs --xattrs-include='*' --numeric-owner --sort=name
# with every mtime set explicitly; whiteouts are empty files named .wh.NAME.
# The layer tars are kept next to the layout in LAYOUT.tars/ (layerN.tar).
set -euo pipefail

[[ $# -eq 1 ]] || {
	echo "usage: make-test-images.sh LAYOUT" >&2
	exit 2
}
LAYOUT="$1"
UMOCI="${UMOCI:-umoci}"
[[ ! -e "$LAYOUT" ]] || {
	echo "make-test-images.sh: $LAYOUT exists" >&2
	exit 2
}
[[ "$(id -u)" == 0 ]] || {
	echo "make-test-images.sh: needs root (devices, owners, setcap)" >&2
	exit 2
}
TARS="$LAYOUT.tars"
mkdir -p "$TARS"
TARS="$(cd "$TARS" && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/ocikit-images.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# Every path of a stage gets this mtime unless set otherwise afterwards.
BASE_TIME="2020-01-02T03:04:05Z"
HIST_CREATED="2021-03-04T05:06:07Z"
LONGNAME="$(printf 'n%.0s' {1..150})"
LONGDIR="srv/odd/$(printf 'd%.0s' {1..60})/$(printf 'e%.0s' {1..60})/$(printf 'f%.0s' {1..60})"
LONGTARGET="/$(printf 'target/%.0s' {1..30})end"

# mk MODE UID:GID PATH [CONTENT]: a regular file (parents made 0755 root).
mk() {
	local mode="$1" owner="$2" path="$3"
	mkdir -p "$(dirname "$path")"
	printf '%s' "${4-content of $path
}" >"$path"
	chown "$owner" "$path"
	chmod "$mode" "$path"
}
# dir MODE UID:GID PATH
dir() {
	mkdir -p "$3"
	chown "$2" "$3"
	chmod "$1" "$3"
}
# stamp STAGE: every path gets BASE_TIME (symlinks themselves included).
stamp() {
	find "$1" -exec touch -h -d "$BASE_TIME" {} +
}
# pack STAGE OUT.tar
pack() {
	tar --create --file "$2" --directory "$1" --format=posix \
		--pax-option='exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime' \
		--xattrs --xattrs-include='*' --numeric-owner --sort=name .
}
add_layer() { # IMAGE TAR CREATED_BY
	"$UMOCI" raw add-layer --image "$1" --history.created "$HIST_CREATED" \
		--history.created_by "$3" "$2"
}

# ---------------------------------------------------------------- rich, layer 1
S="$WORK/rich1"
mkdir -p "$S"
(
	cd "$S"
	dir 0755 0:0 .
	mk 0644 0:0 etc/passwd 'root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
app:x:1000:1000:App User:/home/app:/bin/sh
bob:x:1001:50:Bob:/home/bob:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
'
	mk 0644 0:0 etc/group 'root:x:0:
daemon:x:1:
wheel:x:10:app,root
staff:x:50:app,bob
app:x:1000:
audio:x:29:bob
nogroup:x:65534:
'
	mk 0640 0:42 etc/shadow 'root:*:18000:0:99999:7:::
'
	mk 0644 0:0 etc/motd 'Welcome
'
	setfattr -n user.comment -v hello etc/motd
	setfattr -n user.bin -v 0x00ff80c3 etc/motd
	mk 0644 0:0 etc/hosts '127.0.0.1 localhost
'
	mk 0644 0:0 etc/issue 'Rich image
'
	mk 4755 0:0 usr/bin/suid '#!/bin/sh
echo suid
'
	mk 2755 0:50 usr/bin/sgid '#!/bin/sh
echo sgid
'
	mk 6750 0:10 usr/bin/both '#!/bin/sh
'
	mk 0755 0:0 usr/bin/capbin '#!/bin/sh
echo cap
'
	setcap cap_setuid+ep usr/bin/capbin
	mk 0700 1000:1000 usr/bin/owned-by-app 'app
'
	mk 0644 65534:65534 usr/bin/owned-by-nobody ''
	dir 1777 0:0 tmp
	dir 1777 0:0 var/tmp
	dir 3775 0:50 srv/shared
	mkdir -p dev run
	mknod -m 0666 dev/null c 1 3
	mknod -m 0666 dev/zero c 1 5
	mknod -m 0660 dev/loop0 b 7 0
	chown 0:6 dev/loop0
	mknod -m 0620 dev/tty9 c 4 9
	chown 0:5 dev/tty9
	mkfifo -m 0600 run/fifo
	dir 0750 1000:1000 home/app
	mk 0640 1000:1000 home/app/.profile 'export A=1
'
	dir 0700 1001:50 home/bob
	mk 0600 1001:50 home/bob/notes 'secret
'
	mk 0644 0:0 usr/share/hl/a 'linked content
'
	ln usr/share/hl/a usr/share/hl/b
	mk 0600 1000:50 usr/share/hl/c 'three links
'
	ln usr/share/hl/c usr/share/hl/c2
	ln usr/share/hl/c usr/share/hl/c3
	mkdir -p usr/share/sl
	ln -s ../hl/a usr/share/sl/rel
	ln -s /etc/passwd usr/share/sl/abs
	ln -s /nonexistent/x usr/share/sl/dangling
	ln -s "$LONGTARGET" usr/share/sl/long
	ln -s . usr/share/sl/self
	chown -h 1000:1000 usr/share/sl/rel
	mk 0755 0:0 usr/lib/liba.so 'liba
'
	ln -s usr/lib lib
	mk 0644 0:0 opt/old/one '1
'
	mk 0644 0:0 opt/old/two '2
'
	mk 0644 0:0 opt/old/sub/three '3
'
	setfattr -n user.dir -v 1 opt
	mk 0644 0:0 var/lib/f2d 'file that becomes a dir
'
	mk 0644 0:0 var/lib/d2f/child 'child of a dir that becomes a file
'
	mk 0644 0:0 srv/remove-me 'bye
'
	mk 0644 0:0 srv/remove-dir/x 'x
'
	mk 0644 0:0 srv/remove-dir/sub/y 'y
'
	mk 0644 0:0 'srv/odd/with space' 'space
'
	mk 0644 0:0 'srv/odd/ünïcödé' 'unicode
'
	mk 0644 0:0 'srv/odd/日本語' 'cjk
'
	mk 0644 0:0 $'srv/odd/new\nline' 'newline
'
	mk 0644 0:0 $'srv/odd/tab\tname' 'tab
'
	mk 0644 0:0 'srv/odd/back\slash' 'backslash
'
	mk 0644 0:0 'srv/odd/.hidden' ''
	mk 0644 0:0 'srv/odd/#hash' 'hash
'
	mk 0644 0:0 "srv/odd/$LONGNAME" 'long name
'
	mk 0644 0:0 "$LONGDIR/deep" 'long path
'
	mk 0644 0:0 data/seed 'volume content
'
	head -c 300000 /dev/zero | tr '\0' 'z' >usr/share/big-compressible
	: >usr/share/empty
	mk 0644 0:0 usr/share/subsecond 'mtime with nanoseconds
'
	stamp .
	touch -d '2001-02-03T04:05:06Z' etc/hosts
	touch -d '2019-05-06T07:08:09.123456789Z' etc/issue
	touch -h -d '1999-12-31T23:59:59Z' usr/share/sl/abs srv
	touch -d '1970-01-01T00:00:01Z' usr/share/empty
	touch -d '2019-05-06T07:08:09.987654321Z' usr/share/subsecond
)
pack "$S" "$TARS/rich1.tar"

# ---------------------------------------------------------------- rich, layer 2
S="$WORK/rich2"
mkdir -p "$S"
(
	cd "$S"
	dir 0755 0:0 .
	dir 0755 0:0 srv
	: >srv/.wh.remove-me
	: >srv/.wh.remove-dir
	dir 0755 0:0 srv/odd
	: >'srv/odd/.wh.ünïcödé'
	mkdir -p opt/old
	: >opt/old/.wh..wh..opq
	mk 0644 0:0 opt/old/after-opaque 'new
'
	setfattr -n user.dir -v 2 opt
	dir 0755 0:0 var/lib/f2d
	mk 0644 0:0 var/lib/f2d/inside 'now a dir
'
	mk 0600 0:0 var/lib/d2f 'now a file
'
	mk 0644 0:0 usr/share/hl/a 'replaced, b keeps the old content
'
	# a hardlink to a lower layer's file: staged as a pair, then the target's
	# own entry is deleted from the tar below.
	mk 4755 0:0 usr/bin/suid '#!/bin/sh
echo suid
'
	mkdir -p usr/local/bin
	ln usr/bin/suid usr/local/bin/suid-link
	mk 0644 0:0 etc/motd 'Welcome, layer 2
'
	setfattr -n user.comment -v changed etc/motd
	stamp .
	touch -d '2022-06-07T08:09:10Z' etc/motd opt/old/after-opaque
)
pack "$S" "$TARS/rich2.tar"
tar --delete --file "$TARS/rich2.tar" ./usr/bin/suid

# ---------------------------------------------------------------- rich, layer 3
S="$WORK/rich3"
mkdir -p "$S"
(
	cd "$S"
	dir 0755 0:0 .
	dir 0755 0:0 lib
	mk 0755 0:0 lib/libb.so 'libb
'
	mkdir -p usr/share/sl etc dev
	mk 0644 0:0 usr/share/sl/abs 'a symlink became a file
'
	ln -s hosts etc/issue
	mk 0644 0:0 etc/new-in-3 'three
'
	mknod -m 0640 dev/sda b 8 0
	chown 0:6 dev/sda
	dir 0700 1000:1000 home/app
	stamp .
	touch -d '2023-01-01T00:00:00Z' etc/new-in-3
)
pack "$S" "$TARS/rich3.tar"

# ---------------------------------------------------------------- small
S="$WORK/small1"
mkdir -p "$S"
(
	cd "$S"
	dir 0755 0:0 .
	mk 0644 0:0 etc/passwd 'root:x:0:0:root:/root:/bin/sh
bob:x:1001:1001:Bob:/home/bob:/bin/sh
'
	mk 0644 0:0 etc/group 'root:x:0:
bob:x:1001:
staff:x:50:bob
audio:x:29:root,bob
'
	mk 0644 0:0 hello.txt 'hello
'
	mk 0755 0:0 bin/tool '#!/bin/sh
'
	ln -s tool bin/alias
	dir 0700 1001:1001 home/bob
	stamp .
)
pack "$S" "$TARS/small1.tar"

# ---------------------------------------------------------------- the layout
"$UMOCI" init --layout "$LAYOUT"
"$UMOCI" new --image "$LAYOUT:rich"
add_layer "$LAYOUT:rich" "$TARS/rich1.tar" "layer 1: base"
add_layer "$LAYOUT:rich" "$TARS/rich2.tar" "layer 2: whiteouts, opaque, replacements"
add_layer "$LAYOUT:rich" "$TARS/rich3.tar" "layer 3: dir over dirlink, devices"
"$UMOCI" config --image "$LAYOUT:rich" --created 2021-03-04T05:06:07Z \
	--history.created "$HIST_CREATED" --history.created_by "config" \
	--author "Rich Author <rich@example.com>" \
	--config.user app:staff --config.workingdir /srv \
	--config.env PATH=/usr/local/bin:/usr/bin:/bin --config.env LANG=C.UTF-8 \
	--config.env HOME=/custom-home --config.env 'ODD=a b=c' \
	--config.entrypoint /bin/sh --config.entrypoint -c \
	--config.cmd 'echo hi' --config.cmd extra \
	--config.volume /data --config.volume /var/cache \
	--config.label org.example.a=1 --config.label 'org.example.b=two words' \
	--config.label org.opencontainers.image.author=label-author \
	--config.exposedports 8080/tcp --config.exposedports 53/udp \
	--config.stopsignal SIGTERM --manifest.annotation org.example.m=1

"$UMOCI" new --image "$LAYOUT:small"
add_layer "$LAYOUT:small" "$TARS/small1.tar" "small layer"
"$UMOCI" config --image "$LAYOUT:small" --created 2021-03-04T05:06:07Z \
	--history.created "$HIST_CREATED" --history.created_by "config" \
	--config.user bob --config.cmd /bin/tool
