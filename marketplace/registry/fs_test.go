package registry

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/skillsdev/skills/marketplace/index"
	"github.com/skillsdev/skills/marketplace/sign"
)

// mapFS copies the fixture folder into an in-memory file system, as go:embed
// would hold it.
func mapFS(t *testing.T, f *fixture) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	err := filepath.WalkDir(f.dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(f.dir, path)
		m[filepath.ToSlash(rel)] = &fstest.MapFile{Data: data, Mode: 0o444}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestFS(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	state := t.TempDir()
	open := func(fsys fstest.MapFS, keys ...string) *Registry {
		t.Helper()
		if keys == nil {
			keys = []string{f.vkey}
		}
		r, err := NewFS("bundled", keys, fsys, Options{StateDir: state, Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	fsys := mapFS(t, f)
	r := open(fsys)
	if r.Location() != "fs:///" || r.Name() != "bundled" {
		t.Fatalf("location %q name %q", r.Location(), r.Name())
	}
	got, err := r.Fetch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rel, err := got.Index.Lookup("hello", "1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	a := rel.Artifacts[index.AnyPlatform]
	rc, err := r.Open(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(data, f.artifact) {
		t.Fatalf("read %d bytes: %v", len(data), err)
	}
	path, err := r.Download(ctx, a, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); !bytes.Equal(b, f.artifact) {
		t.Fatal("downloaded bytes differ")
	}

	// Refusals: the same checks as for any registry.
	flipped := mapFS(t, f)
	art := flipped["artifacts/hello-1.0.0.tar.gz"]
	art.Data = bytes.Clone(art.Data)
	art.Data[10] ^= 1
	if rc, err := open(flipped).Open(ctx, a); err == nil {
		_, err = io.ReadAll(rc)
		rc.Close()
		if !errors.Is(err, ErrHashMismatch) {
			t.Errorf("flipped artifact: %v", err)
		}
	} else {
		t.Errorf("open flipped: %v", err)
	}
	edited := mapFS(t, f)
	edited[IndexFile].Data = bytes.Replace(edited[IndexFile].Data, []byte("Says hello."), []byte("Says hellO."), 1)
	if _, err := open(edited).Fetch(ctx); !errors.Is(err, sign.ErrMismatch) {
		t.Errorf("edited index: %v", err)
	}
	_, other, _ := sign.GenerateKey("other")
	if _, err := open(fsys, other).Fetch(ctx); !errors.Is(err, sign.ErrUntrusted) {
		t.Errorf("untrusted key: %v", err)
	}
	f.publish(t, 2, now.Add(time.Hour), nil)
	if _, err := open(mapFS(t, f)).Fetch(ctx); err != nil {
		t.Fatalf("v2: %v", err)
	}
	if _, err := open(fsys).Fetch(ctx); !errors.Is(err, ErrRollback) {
		t.Errorf("older embedded index after a newer one: %v", err)
	}
	for _, u := range []string{"file:///etc/passwd", "../x", "/abs"} {
		_, err := r.Open(ctx, index.Artifact{URL: u, SHA256: a.SHA256, Size: a.Size})
		if err == nil {
			t.Errorf("artifact URL %q accepted", u)
		}
	}
	if _, err := NewFS("bundled", nil, fsys, Options{StateDir: state}); err == nil || !strings.Contains(err.Error(), "no verifier keys") {
		t.Errorf("no keys: %v", err)
	}
	if _, err := NewFS("Bad Name", []string{f.vkey}, fsys, Options{StateDir: state}); err == nil {
		t.Error("bad name accepted")
	}
}
