#!/usr/bin/env bash
# tree-listing.sh: a canonical, sorted listing of a directory tree, for
# comparing what two tools extracted (umoci and ocikit) with diff(1).
#
#   tree-listing.sh [-x FIELD[,FIELD...]] [-X XATTR-NAME]... ROOT
#
# One line per path (ROOT itself is "."), sorted bytewise by path:
#   PATH type=T mode=OOOO uid=U gid=G nlink=N [size=S sha256=H] [link=TARGET]
#        [rdev=MAJ,MIN] mtime=SEC.NSEC [ino=FIRST] [xattr.NAME=HEX ...]
# - type: f d l c b p s; mode: permission bits in octal with setuid/setgid/sticky.
# - size and sha256 for regular files only; link for symlinks; rdev for devices.
# - mtime for every type, symlinks included (both tools set it with lutimes),
#   with nanoseconds as the file system stores them.
# - ino: for non-directories with nlink > 1, the first path (in sorted order)
#   sharing the inode, so hardlink groups compare across trees.
# - xattrs read with getfattr (no symlink following), sorted by name, values
#   in hex; security.selinux is always left out.
# PATH, TARGET and xattr names escape bytes outside printable ASCII, space and
# backslash as \ooo (so newlines in names stay on one line).
# -x drops fields (type mode uid gid nlink size sha256 link rdev mtime ino xattr),
# -X drops one xattr name (repeatable).
# Needs: perl (with Digest::SHA), GNU find, getfattr (package attr).
set -euo pipefail

EXCLUDE=""
DROP_XATTRS="security.selinux"
while getopts "x:X:" opt; do
	case "$opt" in
	x) EXCLUDE+=",$OPTARG" ;;
	X) DROP_XATTRS+=",$OPTARG" ;;
	*)
		echo "usage: tree-listing.sh [-x FIELDS] [-X XATTR] ROOT" >&2
		exit 2
		;;
	esac
done
shift $((OPTIND - 1))
[[ $# -eq 1 && -d "$1" ]] || {
	echo "tree-listing.sh: need one directory, got: $*" >&2
	exit 2
}
ROOT="$(cd "$1" && pwd -P)"
export LC_ALL=C

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# Exact nanosecond mtimes (perl's lstat has whole seconds only).
find "$ROOT" -printf '%P\0%T@\0' >"$TMP/mtimes"
# All xattrs in one getfattr run (it prints only files that have some).
find "$ROOT" -print0 | xargs -0 -r getfattr -h -d -m - -e hex --absolute-names -- \
	>"$TMP/xattrs" 2>"$TMP/xattrs.err" || true
if grep -v -e 'Operation not supported' "$TMP/xattrs.err" | grep -q .; then
	cat "$TMP/xattrs.err" >&2
	exit 2
fi

perl -e '
use strict;
use warnings;
use Fcntl qw(:mode);
use Digest::SHA;
use File::Find;

my ($root, $tmp, $exclude, $drop) = @ARGV;
my %skip = map { $_ => 1 } grep { length } split /,/, $exclude;
my %dropx = map { $_ => 1 } grep { length } split /,/, $drop;

sub esc {
	my $s = shift;
	$s =~ s/([^\x21-\x5b\x5d-\x7e])/sprintf("\\%03o", ord($1))/ge;
	return $s;
}
sub unoct {
	my $s = shift;
	$s =~ s/\\([0-7]{3})/chr(oct($1))/ge;
	return $s;
}

my %mtime;
{
	local $/;
	open my $fh, "<", "$tmp/mtimes" or die;
	my @f = split /\0/, <$fh>, -1;
	pop @f;
	while (@f) {
		my ($p, $t) = splice @f, 0, 2;
		$p = "." if $p eq "";
		my ($s, $n) = split /\./, $t;
		$n = "0" unless defined $n;
		$n = substr($n . "000000000", 0, 9);
		$mtime{$p} = "$s.$n";
	}
}

my %xattr;
{
	open my $fh, "<", "$tmp/xattrs" or die;
	my $cur;
	while (my $line = <$fh>) {
		chomp $line;
		if ($line =~ /^# file: (.*)$/) {
			my $abs = unoct($1);
			my $rel = $abs eq $root ? "." : substr($abs, length($root) + 1);
			$cur = $xattr{$rel} = {};
		} elsif ($line =~ /^(.+?)(?:=(.*))?$/ && defined $cur) {
			my ($name, $val) = (unoct($1), $2 // "");
			next if $dropx{$name};
			$val =~ s/^0x//;
			$val = "" if $val eq "\"\"";
			$cur->{$name} = $val;
		}
	}
}

my @paths;
find({ no_chdir => 1, wanted => sub {
	my $p = $File::Find::name;
	push @paths, $p eq $root ? "." : substr($p, length($root) + 1);
} }, $root);
@paths = sort @paths;

my %first_of_inode;
my @out;
for my $p (@paths) {
	my $abs = $p eq "." ? $root : "$root/$p";
	my @st = lstat($abs) or die "lstat $abs: $!";
	my ($dev, $ino, $mode, $nlink, $uid, $gid, $rdev, $size) = @st[0 .. 7];
	my $t = S_ISREG($mode) ? "f" : S_ISDIR($mode) ? "d" : S_ISLNK($mode) ? "l"
		: S_ISCHR($mode) ? "c" : S_ISBLK($mode) ? "b" : S_ISFIFO($mode) ? "p"
		: S_ISSOCK($mode) ? "s" : "?";
	my @f;
	push @f, "type=$t" unless $skip{type};
	push @f, sprintf("mode=%04o", S_IMODE($mode)) unless $skip{mode};
	push @f, "uid=$uid" unless $skip{uid};
	push @f, "gid=$gid" unless $skip{gid};
	push @f, "nlink=$nlink" unless $skip{nlink};
	if ($t eq "f") {
		push @f, "size=$size" unless $skip{size};
		unless ($skip{sha256}) {
			my $sha = Digest::SHA->new(256);
			$sha->addfile($abs, "b");
			push @f, "sha256=" . $sha->hexdigest;
		}
	}
	if ($t eq "l" && !$skip{link}) {
		my $target = readlink($abs);
		die "readlink $abs: $!" unless defined $target;
		push @f, "link=" . esc($target);
	}
	if (($t eq "c" || $t eq "b") && !$skip{rdev}) {
		my $maj = (($rdev >> 8) & 0xfff) | (($rdev >> 32) & ~0xfff);
		my $min = ($rdev & 0xff) | (($rdev >> 12) & ~0xff);
		push @f, "rdev=$maj,$min";
	}
	push @f, "mtime=" . ($mtime{$p} // "?") unless $skip{mtime};
	if ($t ne "d" && $nlink > 1) {
		my $key = "$dev:$ino";
		$first_of_inode{$key} //= $p;
		push @f, "ino=" . esc($first_of_inode{$key}) unless $skip{ino};
	}
	if (!$skip{xattr} && $xattr{$p}) {
		my $x = $xattr{$p};
		push @f, map { "xattr." . esc($_) . "=" . $x->{$_} } sort keys %$x;
	}
	push @out, esc($p) . " " . join(" ", @f) . "\n";
}
print @out;
' "$ROOT" "$TMP" "$EXCLUDE" "$DROP_XATTRS"
