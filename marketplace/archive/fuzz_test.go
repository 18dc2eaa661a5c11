package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"strings"
	"testing"
)

// FuzzExtract feeds mutated tar streams (gzipped by the harness, so the
// fuzzer works on the tar layer rather than on gzip checksums) to Extract
// and checks that, accepted or refused, nothing was written outside dst and
// nothing but regular files and folders inside it.
func FuzzExtract(f *testing.F) {
	seeds := [][]entry{
		{reg("SKILL.md", "---\nname: x\n---\n"), reg("bin/skill.wasm", "\x00asm")},
		{{hdr: tar.Header{Typeflag: tar.TypeDir, Name: "./", Mode: 0o755}}, reg("./a/b", "x")},
		{reg("../x", "evil")},
		{reg("/etc/x", "evil")},
		{reg("a/../../x", "evil")},
		{{hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: "l", Linkname: ".."}}, reg("l/x", "evil")},
		{reg("a", "x"), {hdr: tar.Header{Typeflag: tar.TypeLink, Name: "b", Linkname: "a"}}},
		{{hdr: tar.Header{Typeflag: tar.TypeChar, Name: "null", Devmajor: 1, Devminor: 3}}},
		{{hdr: tar.Header{Typeflag: tar.TypeFifo, Name: "p"}}},
		{reg("d", "x"), reg("d", "y")},
		{{hdr: tar.Header{Typeflag: tar.TypeReg, Name: "big", Size: 1 << 40}, skipData: true}},
		{reg(strings.Repeat("long/", 40)+"name", "pax")},
	}
	for _, s := range seeds {
		f.Add(rawTar(f, s...))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		parent, dst := sandbox(t)
		Extract(context.Background(), bytes.NewReader(gz(t, data)), dst, Limits{MaxEntries: 64, MaxFileSize: 1 << 20, MaxTotalSize: 4 << 20})
		checkContained(t, parent)
	})
}
