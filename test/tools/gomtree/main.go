// Command gomtree-check validates a directory against an mtree manifest with
// go-mtree's own Check, as an oracle for ocikit's tests. Usage:
//
//	gomtree-check MANIFEST ROOT
//
// It prints one go-mtree difference per line and exits 1 when there are any,
// 2 on error. Build: GOPATH=/usr/share/gocode GO111MODULE=off go build.
package main

import (
	"fmt"
	"os"

	"github.com/vbatts/go-mtree"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: gomtree-check MANIFEST ROOT")
		os.Exit(2)
	}
	fh, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	spec, err := mtree.ParseSpec(fh)
	fh.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "parse:", err)
		os.Exit(2)
	}
	diffs, err := mtree.Check(os.Args[2], spec, spec.UsedKeywords(), nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "check:", err)
		os.Exit(2)
	}
	for _, d := range diffs {
		fmt.Println(d)
	}
	if len(diffs) > 0 {
		os.Exit(1)
	}
}
