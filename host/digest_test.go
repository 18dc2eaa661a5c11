package host

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestDigests checks that an artifact is read and hashed again exactly when
// it may have changed: rewritten in place (even to the same size and
// mtime), replaced by a rename, or touched.
func TestDigests(t *testing.T) {
	hexOf := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	for _, tc := range []struct {
		name     string
		change   func(t *testing.T, path string) // nil: nothing changes
		want     string                          // content after the change
		wantRead bool                            // the second look reads the file
	}{
		{"unchanged", nil, "version one", false},
		{"rewritten in place, same size, same mtime", func(t *testing.T, path string) {
			fi, _ := os.Stat(path)
			if err := os.WriteFile(path, []byte("version two"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(path, fi.ModTime(), fi.ModTime()); err != nil { // only ctime tells
				t.Fatal(err)
			}
		}, "version two", true},
		{"replaced by a rename", func(t *testing.T, path string) {
			tmp := path + ".tmp"
			if err := os.WriteFile(tmp, []byte("version six"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(tmp, path); err != nil {
				t.Fatal(err)
			}
		}, "version six", true},
		{"touched", func(t *testing.T, path string) {
			now := time.Now().Add(time.Second)
			if err := os.Chtimes(path, now, now); err != nil {
				t.Fatal(err)
			}
		}, "version one", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "a.wasm")
			if err := os.WriteFile(path, []byte("version one"), 0o644); err != nil {
				t.Fatal(err)
			}
			d := digests{}
			digest, code, err := d.artifact(path)
			if err != nil || digest != hexOf([]byte("version one")) || string(code) != "version one" {
				t.Fatalf("first look: %s %q %v", digest, code, err)
			}
			if tc.change != nil {
				time.Sleep(10 * time.Millisecond) // a ctime the coarsest clock tells apart
				tc.change(t, path)
			}
			digest, code, err = d.artifact(path)
			if err != nil || digest != hexOf([]byte(tc.want)) {
				t.Fatalf("second look: digest %s, %v; want the digest of %q", digest, err, tc.want)
			}
			if read := code != nil; read != tc.wantRead || (read && string(code) != tc.want) {
				t.Fatalf("second look read %q (read=%v), want read=%v", code, read, tc.wantRead)
			}
		})
	}
}

func TestDigestsErrorsAndPruning(t *testing.T) {
	dir := t.TempDir()
	d := digests{}
	if _, _, err := d.artifact(filepath.Join(dir, "missing.wasm")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	if _, _, err := d.artifact(dir); err == nil {
		t.Fatal("a folder was hashed as an artifact")
	}
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for _, p := range []string{a, b} {
		if err := os.WriteFile(p, []byte(p), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, _, err := d.artifact(p); err != nil {
			t.Fatal(err)
		}
	}
	d.keep(map[string]bool{a: true})
	if _, ok := d[b]; ok || len(d) != 1 {
		t.Fatalf("after keep(a): %v", d)
	}
}
