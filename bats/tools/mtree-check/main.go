// mtree-check: an independent go-mtree (Debian's 0.4.4 library) front end for
// the differential tests, so that neither umoci nor ocikit judges its own mtree.
//
//	mtree-check validate MANIFEST ROOT   differences of ROOT against MANIFEST
//	mtree-check compare A B              differences between two manifests
//	mtree-check dump MANIFEST            one sorted line per entry: path and keywords
//
// Differences are printed one per line; exit status 1 if there are any, 2 on error.
// Build: GOPATH=/usr/share/gocode GO111MODULE=off go build -o mtree-check .
package main

import (
	"fmt"
	"os"
	"sort"
	"strings"

	mtree "github.com/vbatts/go-mtree"
)

func parse(path string) *mtree.DirectoryHierarchy {
	f, err := os.Open(path)
	if err != nil {
		fail(err)
	}
	defer f.Close()
	dh, err := mtree.ParseSpec(f)
	if err != nil {
		fail(fmt.Errorf("%s: %w", path, err))
	}
	return dh
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "mtree-check:", err)
	os.Exit(2)
}

func report(deltas []mtree.InodeDelta, err error) {
	if err != nil {
		fail(err)
	}
	lines := []string{}
	for _, d := range deltas {
		lines = append(lines, d.String())
	}
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
	if len(lines) > 0 {
		os.Exit(1)
	}
}

func main() {
	if len(os.Args) < 3 {
		fail(fmt.Errorf("usage: mtree-check validate MANIFEST ROOT | compare A B | dump MANIFEST"))
	}
	switch os.Args[1] {
	case "validate":
		dh := parse(os.Args[2])
		report(mtree.Check(os.Args[3], dh, dh.UsedKeywords(), nil))
	case "compare":
		a, b := parse(os.Args[2]), parse(os.Args[3])
		report(mtree.Compare(a, b, a.UsedKeywords()))
	case "dump":
		dh := parse(os.Args[2])
		lines := []string{}
		for _, e := range dh.Entries {
			if e.Type != mtree.FullType && e.Type != mtree.RelativeType {
				continue
			}
			p, err := e.Path()
			if err != nil {
				fail(err)
			}
			kv := []string{}
			for _, k := range e.AllKeys() {
				kv = append(kv, string(k))
			}
			sort.Strings(kv)
			lines = append(lines, fmt.Sprintf("%q %s", p, strings.Join(kv, " ")))
		}
		sort.Strings(lines)
		for _, l := range lines {
			fmt.Println(l)
		}
	default:
		fail(fmt.Errorf("unknown command %q", os.Args[1]))
	}
}
