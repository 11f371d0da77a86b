#!/usr/bin/env bats
# Global behaviour: help, version, log levels, errors and Go's flag syntax.

load helpers

COMMANDS=(config gc init list new remove stat tag validate)

assert_global_help() {
	assert_status 0 || return
	assert_eq "${lines[0]}" "NAME:" "first line" || return
	assert_eq "${lines[1]}" "   ocikit - ocikit modifies Open Container images" "second line" || return
	local section cmd
	for section in USAGE: VERSION: COMMANDS: "GLOBAL OPTIONS:"; do
		grep -qx "$section" <<<"$output" || fail "no $section section" || return
	done
	for cmd in "${COMMANDS[@]}"; do
		grep -qE "^ +$cmd[ ,]" <<<"$output" || fail "command $cmd not listed" || return
	done
}

@test "ocikit --help [usage in urfave/cli's shape]" {
	run --separate-stderr "$OCIKIT" --help
	assert_global_help
	assert_eq "$stderr" "" "stderr"
}

@test "ocikit -h, help, h and no arguments [same usage as --help]" {
	local expected
	expected="$("$OCIKIT" --help)"
	for args in -h help h ""; do
		# shellcheck disable=SC2086
		run "$OCIKIT" $args
		assert_global_help
		assert_eq "$output" "$expected" "output of '$args'"
	done
}

@test "ocikit CMD --help [NAME then the command's one-line description]" {
	local cmd name
	for cmd in "${COMMANDS[@]}" ls rm; do
		run --separate-stderr "$OCIKIT" "$cmd" --help
		assert_status 0
		assert_eq "${lines[0]}" "NAME:" "$cmd: first line"
		name="$cmd"
		[[ "$cmd" == ls ]] && name=list
		[[ "$cmd" == rm ]] && name=remove
		[[ "${lines[1]}" =~ ^"   ocikit $name - ". ]] || fail "$cmd: second line: ${lines[1]}"
		grep -qx "OPTIONS:" <<<"$output" || fail "$cmd: no OPTIONS section"
	done
}

@test "ocikit help CMD and CMD -h [same as CMD --help]" {
	local expected
	expected="$("$OCIKIT" config --help)"
	run "$OCIKIT" help config
	assert_status 0
	assert_eq "$output" "$expected" "help config"
	run "$OCIKIT" config -h
	assert_status 0
	assert_eq "$output" "$expected" "config -h"
}

@test "ocikit --version [four lines]" {
	run --separate-stderr "$OCIKIT" --version
	assert_status 0
	assert_eq "$stderr" "" "stderr"
	assert_eq "${#lines[@]}" 4 "line count"
	[[ "${lines[0]}" =~ ^"ocikit version "[0-9]+\.[0-9]+\.[0-9]+ ]] || fail "line 1: ${lines[0]}"
	assert_eq "${lines[1]}" "image spec: 1.1.1"
	assert_eq "${lines[2]}" "runtime spec: 1.2.1"
	[[ "${lines[3]}" =~ ^"node: v"[0-9]+\. ]] || fail "line 4: ${lines[3]}"
	local long="$output"
	run "$OCIKIT" -v
	assert_status 0
	assert_eq "$output" "$long" "-v output"
}

@test "ocikit [program name is the name it was invoked as]" {
	mkdir bin
	ln -s "$OCIKIT" bin/umoci
	run bin/umoci --version
	assert_status 0
	[[ "${lines[0]}" == "umoci version "* ]] || fail "line 1: ${lines[0]}"
	run --separate-stderr bin/umoci ls --layout nope
	assert_status 1
	[[ "$stderr" == "umoci ls: "* ]] || fail "stderr: $stderr"
}

@test "ocikit [unknown command]" {
	refuses "" "" 'no such command: bogus' -- bogus --layout x
}

@test "ocikit [unknown global flag]" {
	refuses "" "" 'flag provided but not defined: -bogus' -- --bogus ls --layout x
}

@test "ocikit ls [unknown command flag]" {
	setup_image L
	refuses L ls 'flag provided but not defined: -bogus' -- ls --layout L --bogus
}

@test "ocikit [--log=bogus]" {
	setup_image L
	refuses L "" 'bogus' -- --log=bogus config --image L:v1 --config.user x
}

@test "ocikit [--log with --verbose]" {
	setup_image L
	refuses L "" 'mutually exclusive' -- --verbose --log=info config --image L:v1 --config.user x
}

@test "ocikit [--verbose with --log=warn]" {
	setup_image L
	refuses L "" 'mutually exclusive' -- --log=warn --verbose config --image L:v1 --config.user x
}

@test "ocikit [every log level is accepted and stdout stays clean]" {
	setup_image L
	local level
	for level in debug info warn error fatal; do
		run --separate-stderr "$OCIKIT" --log="$level" ls --layout L
		assert_status 0
		assert_eq "$output" "$(printf 'latest\nv1')" "stdout at $level"
	done
	run --separate-stderr "$OCIKIT" -log error stat --image L:v1 --json
	assert_status 0
	jq -e . >/dev/null <<<"$output" || fail "stat --json output is not JSON"
}

@test "ocikit [quiet by default, --verbose logs to stderr only]" {
	setup_image L
	run --separate-stderr "$OCIKIT" config --image L:v1 --config.user 1
	assert_status 0
	assert_eq "$output$stderr" "" "default output"
	run --separate-stderr "$OCIKIT" --verbose config --image L:v1 --config.user 2
	assert_status 0
	assert_eq "$output" "" "stdout with --verbose"
	[[ -n "$stderr" ]] || fail "--verbose logged nothing"
	image-verify L
}

@test "ocikit config [umoci's README invocation works unchanged]" {
	setup_image L
	run --separate-stderr "$OCIKIT" config --image L:v1 --author="Aleksa Sarai <asarai@suse.com>" --created="$(date --iso-8601=seconds)" --config.entrypoint="strace" --config.entrypoint="-f" --config.cmd="bash"
	assert_status 0
	assert_eq "$(config_json L v1 '[.author, .config.Entrypoint, .config.Cmd]')" '["Aleksa Sarai <asarai@suse.com>",["strace","-f"],["bash"]]'
	image-verify L
}

@test "ocikit [single-dash long flags]" {
	setup_image L
	run --separate-stderr "$OCIKIT" config -image L:v1 -config.user=single -tag=sd
	assert_status 0
	assert_eq "$(config_json L sd .config.User)" single
	run "$OCIKIT" ls -layout L
	assert_status 0
	assert_eq "$output" "$(printf 'latest\nv1\nsd')"
	image-verify L
}

@test "ocikit [flag values beginning with a dash]" {
	setup_image L
	run --separate-stderr "$OCIKIT" config --image L:v1 --config.cmd -c --config.entrypoint --help --config.workingdir -
	assert_status 0
	assert_eq "$(config_json L v1 '[.config.Cmd, .config.Entrypoint, .config.WorkingDir]')" '[["-c"],["--help"],"-"]'
	image-verify L
}

@test "ocikit [boolean flags take =true]" {
	setup_image L
	run --separate-stderr "$OCIKIT" config --image L:v1 --no-history=true --config.user 7
	assert_status 0
	assert_eq "$(config_json L v1 '.history | length')" 2 "history length"
	image-verify L
}

@test "ocikit [boolean flags take =false]" {
	setup_image L
	run --separate-stderr "$OCIKIT" config --image L:v1 --no-history=false --config.user 8
	assert_status 0
	assert_eq "$(config_json L v1 '[.config.User, (.history | length)]')" '["8",3]'
	image-verify L
}

@test "ocikit [-- ends the options]" {
	setup_image L
	refuses L tag 'invalid reference: "--image"' -- tag --image L:v1 -- --image
	run --separate-stderr "$OCIKIT" tag --image L:v1 -- plain
	assert_status 0
	assert_eq "$(manifest_digest L plain)" "$(manifest_digest L v1)"
}

@test "ocikit [positional arguments before flags]" {
	setup_image L
	run --separate-stderr "$OCIKIT" tag first --image L:v1
	assert_status 0
	assert_eq "$(manifest_digest L first)" "$(manifest_digest L v1)"
	image-verify L
}

@test "ocikit [flag value missing at the end]" {
	setup_image L
	refuses L config 'flag needs an argument: -config.user' -- config --image L:v1 --config.user
}
