// Command gotar is the test oracle for ocikit's tar writer: it reads a JSON
// array of entries on stdin and writes them as a tar with Go's archive/tar
// (Format left unspecified, as umoci does) to stdout.
//
// Each entry: {"typeflag":"0","name":"a","linkname":"","size":3,"mode":420,
// "uid":0,"gid":0,"uname":"","gname":"","mtimeSec":0,"mtimeNsec":0,
// "devmajor":0,"devminor":0,"xattrs":[["user.a","<base64>"]],"body":"<base64>"}
package main

import (
	"archive/tar"
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"time"
)

type entry struct {
	Typeflag  string      `json:"typeflag"`
	Name      string      `json:"name"`
	Linkname  string      `json:"linkname"`
	Size      int64       `json:"size"`
	Mode      int64       `json:"mode"`
	Uid       int         `json:"uid"`
	Gid       int         `json:"gid"`
	Uname     string      `json:"uname"`
	Gname     string      `json:"gname"`
	MtimeSec  int64       `json:"mtimeSec"`
	MtimeNsec int64       `json:"mtimeNsec"`
	Devmajor  int64       `json:"devmajor"`
	Devminor  int64       `json:"devminor"`
	Xattrs    [][2]string `json:"xattrs"`
	Body      string      `json:"body"`
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "gotar:", err)
	os.Exit(1)
}

func main() {
	var entries []entry
	if err := json.NewDecoder(os.Stdin).Decode(&entries); err != nil {
		fatal(err)
	}
	out := bufio.NewWriter(os.Stdout)
	tw := tar.NewWriter(out)
	for _, e := range entries {
		hdr := &tar.Header{
			Typeflag: e.Typeflag[0],
			Name:     e.Name,
			Linkname: e.Linkname,
			Size:     e.Size,
			Mode:     e.Mode,
			Uid:      e.Uid,
			Gid:      e.Gid,
			Uname:    e.Uname,
			Gname:    e.Gname,
			ModTime:  time.Unix(e.MtimeSec, e.MtimeNsec),
			Devmajor: e.Devmajor,
			Devminor: e.Devminor,
		}
		if len(e.Xattrs) > 0 {
			hdr.PAXRecords = map[string]string{}
			for _, x := range e.Xattrs {
				v, err := base64.StdEncoding.DecodeString(x[1])
				if err != nil {
					fatal(err)
				}
				hdr.PAXRecords["SCHILY.xattr."+x[0]] = string(v)
			}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			fatal(fmt.Errorf("%q: %w", e.Name, err))
		}
		body, err := base64.StdEncoding.DecodeString(e.Body)
		if err != nil {
			fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			fatal(fmt.Errorf("%q: %w", e.Name, err))
		}
	}
	if err := tw.Close(); err != nil {
		fatal(err)
	}
	if err := out.Flush(); err != nil {
		fatal(err)
	}
}
