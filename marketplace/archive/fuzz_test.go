package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzExtract feeds mutated tar streams (gzipped by the harness, so the
// fuzzer works on the tar layer rather than on gzip checksums) to Extract,
// and to ExtractWith with a hashing tee and ReadOnly, and checks that,
// accepted or refused, nothing was written outside dst and nothing but
// regular files and folders inside it, and that what the tee saw is what
// was written.
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
	lim := Limits{MaxEntries: 64, MaxFileSize: 1 << 20, MaxTotalSize: 4 << 20}
	f.Fuzz(func(t *testing.T, data []byte) {
		parent, dst := sandbox(t)
		Extract(context.Background(), bytes.NewReader(gz(t, data)), dst, lim)
		checkContained(t, parent)

		parent, dst = sandbox(t)
		defer writable(t, dst)
		teed := map[string]hash.Hash{}
		tee := func(name string, _ int64) (io.Writer, error) {
			teed[name] = sha256.New()
			return teed[name], nil
		}
		err := ExtractWith(context.Background(), bytes.NewReader(gz(t, data)), dst, Options{Limits: lim, Tee: tee, ReadOnly: true})
		checkContained(t, parent)
		if err != nil {
			return
		}
		for name, h := range teed {
			b, err := os.ReadFile(filepath.Join(dst, filepath.FromSlash(name)))
			if err != nil || sha256.Sum256(b) != [32]byte(h.Sum(nil)) {
				t.Fatalf("%s: the tee saw other bytes than were written (%v)", name, err)
			}
		}
	})
}
