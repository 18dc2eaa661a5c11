package markettest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"testing"
)

// Entry is one raw tar entry for TarGz: a file (Body), or a link, folder or
// device by Type, with a Size that may lie.
type Entry struct {
	Name     string
	Type     byte // tar.TypeReg when zero
	Body     []byte
	Linkname string
	Size     int64 // the header's size; len(Body) when zero
}

// TarGz builds a tar.gz from raw entries, including entries that a safe
// extractor must refuse (absolute paths, "..", links, huge sizes). A
// header that claims more bytes than Body has is written without its data,
// as an attacker would.
func TarGz(t testing.TB, entries ...Entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		typ := e.Type
		if typ == 0 {
			typ = tar.TypeReg
		}
		size := e.Size
		if size == 0 && typ == tar.TypeReg {
			size = int64(len(e.Body))
		}
		hdr := &tar.Header{Name: e.Name, Typeflag: typ, Linkname: e.Linkname, Size: size, Mode: 0o644}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if size != int64(len(e.Body)) {
			// Leave the stream short: the extractor must refuse the header
			// before reading the data.
			zw.Close()
			return buf.Bytes()
		}
		if _, err := tw.Write(e.Body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
