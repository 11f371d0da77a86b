#!/usr/bin/env bash
# Builds the layouts the engine benchmark (bench/engine.sh) times, offline,
# with GNU tar, perl and umoci 0.4.7 only (never ocikit):
#
#   bench/make-images.sh DIR         (run as root; DIR/<name> must not exist)
#
#   DIR/distro       tag "distro": ~1 GB uncompressed, 50k+ files, 5 gzip
#                    layers: slices of this machine's /usr (libraries, /usr/share
#                    docs/man/locale, go and python trees, headers, perl, node and gcc)
#                    plus a generated layer of small files and whiteouts
#   DIR/small-files  tag "small-files": one layer of 200k small generated files
#   DIR/large        tag "large": one layer of three big compressible files
#                    (200, 300, 500 MB)
# Sizes and counts scale with SCALE (default 1; e.g. SCALE=0.2 for a quick try).
# Everything is deterministic for a given machine: sorted file lists, fixed
# mtimes, generated content from a counter. Takes ~3-5 minutes at SCALE=1.
set -euo pipefail

[[ $# -eq 1 ]] || {
	echo "usage: bench/make-images.sh DIR" >&2
	exit 2
}
DIR="$1"
SCALE="${SCALE:-1}"
UMOCI="${UMOCI:-umoci}"
ONLY="${ONLY:-distro small-files large}"
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
WORK="$(mktemp -d "$DIR/.work.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
MTIME=2021-01-01T00:00:00Z
HIST=2021-01-01T00:00:00Z

log() { echo "== make-images: $*" >&2; }
scaled() { awk -v a="$1" -v s="$SCALE" 'BEGIN { printf "%d", a * s }'; }

# gen_tar MODE ARGS...: writes a ustar stream to stdout (perl, no file system).
#   files N DIRS PREFIX        N files of 100-2000 bytes in DIRS directories
#   whiteouts LISTFILE         an empty .wh.NAME entry for each path in LISTFILE
#   big SIZE NAME...           files of SIZE bytes of compressible pseudo-random text
gen_tar() {
	perl - "$@" <<'PERL'
use strict; use warnings;
binmode STDOUT;
my $mtime = 1609459200;
sub oct_field { my ($v, $len) = @_; return sprintf("%0*o", $len - 1, $v) . "\0"; }
sub header {
	my ($name, $size, $type, $mode) = @_;
	my $prefix = "";
	if (length($name) > 100) {
		my $i = rindex($name, "/", 155);
		$prefix = substr($name, 0, $i); $name = substr($name, $i + 1);
	}
	my $h = pack("a100 a8 a8 a8 a12 a12 A8 a1 a100 a6 a2 a32 a32 a8 a8 a155 a12",
		$name, oct_field($mode, 8), oct_field(0, 8), oct_field(0, 8),
		oct_field($size, 12), oct_field($mtime, 12), " " x 8, $type, "",
		"ustar", "00", "root", "root", oct_field(0, 8), oct_field(0, 8), $prefix, "");
	my $sum = unpack("%32C*", $h);
	substr($h, 148, 8) = sprintf("%06o\0 ", $sum);
	print $h;
}
sub data { my $d = shift; print $d; my $pad = (512 - length($d) % 512) % 512; print "\0" x $pad; }
sub dir { header("$_[0]/", 0, "5", 0755); }
my $mode = shift @ARGV;
if ($mode eq "files") {
	my ($n, $dirs, $prefix) = @ARGV;
	my @parts = split m{/}, $prefix;
	dir(join("/", @parts[0 .. $_])) for 0 .. $#parts;
	my $per = int(($n + $dirs - 1) / $dirs);
	my $i = 0;
	for my $d (0 .. $dirs - 1) {
		my $dn = sprintf("%s/d%04d", $prefix, $d);
		dir($dn);
		for my $f (0 .. $per - 1) {
			last if $i >= $n;
			my $len = 100 + ($i * 7919) % 1900;
			my $line = "file $i in $dn: the quick brown fox jumps over the lazy dog\n";
			my $c = substr($line x (int($len / length($line)) + 1), 0, $len);
			header(sprintf("%s/f%05d.txt", $dn, $f), length($c), "0", 0644);
			data($c);
			$i++;
		}
	}
} elsif ($mode eq "whiteouts") {
	open my $fh, "<", $ARGV[0] or die;
	my %seen;
	while (my $p = <$fh>) {
		chomp $p;
		my ($d, $b) = $p =~ m{^(.*)/([^/]+)$} or next;
		my @parts = split m{/}, $d;
		for (0 .. $#parts) { my $x = join("/", @parts[0 .. $_]); dir($x) unless $seen{$x}++; }
		header("$d/.wh.$b", 0, "0", 0644);
	}
} elsif ($mode eq "big") {
	my ($size, @names) = @ARGV;
	dir("data");
	my $x = 12345;
	my $block = "";
	while (length($block) < 4 << 20) {
		my $l = "";
		for (1 .. 16) { $x = ($x * 1103515245 + 12345) % 2147483648; $l .= sprintf("%08x", $x >> 3); }
		$block .= $l . "\n";
	}
	my $k = 0;
	for my $name (@names) {
		header("data/$name", $size, "0", 0644);
		my $left = $size;
		while ($left > 0) {
			my $chunk = sprintf("%-63s\n", "block " . $k++) . substr($block, 64 + ($k * 4099) % 65536);
			$chunk = substr($chunk, 0, $left) if length($chunk) > $left;
			print $chunk; $left -= length($chunk);
		}
		my $pad = (512 - $size % 512) % 512; print "\0" x $pad;
	}
} else { die "gen_tar: unknown mode $mode\n"; }
print "\0" x 1024;
PERL
}

# host_slice OUT.tar BUDGET_MB DIR...: the sorted regular files and symlinks
# under DIRs (relative to /) up to BUDGET_MB, with their parent directories
# (files over 20 MB are left out, so that one huge file cannot eat the budget).
host_slice() {
	local out="$1" budget="$2" d dirs=()
	shift 2
	for d in "$@"; do [[ -e "$d" ]] && dirs+=("$d"); done
	find "${dirs[@]}" -xdev \( -type f -o -type l \) -print0 2>/dev/null | LC_ALL=C sort -z |
		perl -0 -ne '
			BEGIN { $budget = shift(@ARGV) * 1048576; $total = 0; }
			chomp; my @st = lstat($_) or next;
			next if -f _ && !-r _;
			next if $total >= $budget || (-f _ && $st[7] > 20 << 20);
			$total += $st[7] if -f _;
			my $p = substr($_, 1);
			my @parts = split m{/}, $p; pop @parts;
			for my $i (0 .. $#parts) { my $d = join("/", @parts[0 .. $i]); print "$d\0" unless $seen{$d}++; }
			print "$p\0";
		' "$budget" >"$WORK/list"
	LC_ALL=C sort -zu "$WORK/list" >"$WORK/list.sorted"
	tar --create --file "$out" --directory / --no-recursion --null --files-from "$WORK/list.sorted" \
		--format=posix --pax-option='exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime' \
		--numeric-owner --owner=0 --group=0 --mtime="$MTIME"
}

add_layer() { # LAYOUT:TAG TAR COMMENT
	"$UMOCI" raw add-layer --image "$1" --history.created "$HIST" --history.created_by "$3" "$2"
	rm -f "$2"
}

new_image() { # LAYOUT TAG
	"$UMOCI" init --layout "$1"
	"$UMOCI" new --image "$1:$2"
	"$UMOCI" config --image "$1:$2" --created "$HIST" --history.created "$HIST" \
		--config.env PATH=/usr/local/bin:/usr/bin:/bin --config.cmd /bin/sh
}

if [[ " $ONLY " == *" distro "* ]]; then
	[[ ! -e "$DIR/distro" ]] || { echo "make-images: $DIR/distro exists" >&2; exit 2; }
	log "distro (SCALE=$SCALE)"
	L="$WORK/distro"
	new_image "$L" distro
	host_slice "$WORK/l1.tar" "$(scaled 300)" /usr/lib/x86_64-linux-gnu
	# whiteouts for the first 100 files of layer 1, used in layer 5
	tar -tf "$WORK/l1.tar" | awk '!/\/$/ && n++ < 100' >"$WORK/wh.list"
	add_layer "$L:distro" "$WORK/l1.tar" "libraries"
	host_slice "$WORK/l2.tar" "$(scaled 250)" /usr/share
	add_layer "$L:distro" "$WORK/l2.tar" "share"
	host_slice "$WORK/l3.tar" "$(scaled 250)" /usr/share/go-1.19 /usr/lib/python3 /usr/lib/python3.11 /usr/share/gocode
	add_layer "$L:distro" "$WORK/l3.tar" "go and python"
	host_slice "$WORK/l4.tar" "$(scaled 150)" /usr/include /usr/share/perl /usr/lib/node_modules /usr/lib/gcc
	add_layer "$L:distro" "$WORK/l4.tar" "headers, perl, node, gcc"
	{
		gen_tar files "$(scaled 15000)" 60 opt/app/generated | head -c -1024
		gen_tar whiteouts "$WORK/wh.list"
	} >"$WORK/l5.tar"
	add_layer "$L:distro" "$WORK/l5.tar" "generated files, whiteouts"
	mv "$L" "$DIR/distro"
fi

if [[ " $ONLY " == *" small-files "* ]]; then
	[[ ! -e "$DIR/small-files" ]] || { echo "make-images: $DIR/small-files exists" >&2; exit 2; }
	log "small-files: $(scaled 200000) files"
	L="$WORK/small-files"
	new_image "$L" small-files
	gen_tar files "$(scaled 200000)" "$(scaled 400)" srv/small >"$WORK/s1.tar"
	add_layer "$L:small-files" "$WORK/s1.tar" "small files"
	mv "$L" "$DIR/small-files"
fi

if [[ " $ONLY " == *" large "* ]]; then
	[[ ! -e "$DIR/large" ]] || { echo "make-images: $DIR/large exists" >&2; exit 2; }
	log "large: 3 files of $(scaled 200)/$(scaled 300)/$(scaled 500) MB"
	L="$WORK/large"
	new_image "$L" large
	{
		gen_tar big "$(scaled 209715200)" big-200 | head -c -1024
		gen_tar big "$(scaled 314572800)" big-300 | tail -c +513 | head -c -1024
		gen_tar big "$(scaled 524288000)" big-500 | tail -c +513
	} >"$WORK/g1.tar"
	add_layer "$L:large" "$WORK/g1.tar" "large files"
	mv "$L" "$DIR/large"
fi

for l in distro small-files large; do
	[[ -d "$DIR/$l" ]] || continue
	log "$l: $("$UMOCI" stat --image "$DIR/$l:$l" --json | jq -r '[.history[] | select(.layer) | .layer.size] | "\(length) layers, \(add / 1048576 | floor) MB compressed"')"
done
