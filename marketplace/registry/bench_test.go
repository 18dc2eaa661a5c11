package registry

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"testing"

	"github.com/skillsdev/skills/marketplace/index"
)

// benchArtifact serves a 10 MiB artifact from an httptest server on
// 127.0.0.1 and returns a client and the artifact's index entry.
func benchArtifact(b *testing.B) (*Registry, index.Artifact) {
	b.Helper()
	f := newFixture(b)
	data := make([]byte, 10<<20)
	rand.Read(data)
	srv := newServer(b, f.dir)
	srv.handle("/big.tar.gz", func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "big.tar.gz", now, bytes.NewReader(data))
	})
	sum := sha256.Sum256(data)
	r := f.client(b, srv.URL)
	return r, index.Artifact{URL: "big.tar.gz", SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data))}
}

// BenchmarkOpenVerify10MiB streams a 10 MiB artifact over HTTP through the
// size and SHA-256 check into io.Discard.
func BenchmarkOpenVerify10MiB(b *testing.B) {
	r, a := benchArtifact(b)
	ctx := context.Background()
	b.SetBytes(a.Size)
	b.ResetTimer()
	for b.Loop() {
		rc, err := r.Open(ctx, a)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, rc); err != nil {
			b.Fatal(err)
		}
		rc.Close()
	}
}

// BenchmarkDownload10MiB is the install path: HTTP, verify, write and fsync
// a temporary file.
func BenchmarkDownload10MiB(b *testing.B) {
	r, a := benchArtifact(b)
	ctx := context.Background()
	dir := b.TempDir()
	b.SetBytes(a.Size)
	b.ResetTimer()
	for b.Loop() {
		path, err := r.Download(ctx, a, dir)
		if err != nil {
			b.Fatal(err)
		}
		os.Remove(path)
	}
}

// BenchmarkRawHTTP10MiB is the baseline: the same transfer with no size cap,
// no hashing and no file, to show what verification costs.
func BenchmarkRawHTTP10MiB(b *testing.B) {
	r, a := benchArtifact(b)
	u, err := r.ResolveURL(a)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(a.Size)
	b.ResetTimer()
	for b.Loop() {
		resp, err := r.client.Get(u.String())
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
