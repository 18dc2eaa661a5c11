package registry

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skillsdev/skills/marketplace/index"
	"github.com/skillsdev/skills/marketplace/sign"
	"github.com/skillsdev/skills/sdk/manifest"
)

// now is the fixed clock of these tests.
var now = time.Date(2026, 9, 15, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return now }

// fixture is a real registry folder: artifacts, index.json, index.json.sig.
type fixture struct {
	dir        string
	skey, vkey string
	artifact   []byte // artifacts/hello-1.0.0.tar.gz
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	skey, vkey, err := sign.GenerateKey("test-registry")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{dir: t.TempDir(), skey: skey, vkey: vkey, artifact: make([]byte, 64<<10)}
	rand.Read(f.artifact)
	if err := os.MkdirAll(filepath.Join(f.dir, "artifacts"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.dir, "artifacts", "hello-1.0.0.tar.gz"), f.artifact, 0o644); err != nil {
		t.Fatal(err)
	}
	f.publish(t, 1, now.Add(24*time.Hour), nil)
	return f
}

func (f *fixture) artifactEntry() index.Artifact {
	sum := sha256.Sum256(f.artifact)
	return index.Artifact{URL: "artifacts/hello-1.0.0.tar.gz", SHA256: hex.EncodeToString(sum[:]), Size: int64(len(f.artifact))}
}

// publish writes a signed index with the given version and expiry; edit may
// change the index before it is encoded.
func (f *fixture) publish(t testing.TB, version int64, expires time.Time, edit func(*index.Index)) []byte {
	t.Helper()
	x := &index.Index{
		Schema: index.SchemaVersion, Version: version,
		Generated: expires.Add(-48 * time.Hour), Expires: expires,
		Skills: map[string]*index.Skill{"hello": {
			Description: "Says hello.",
			Versions: map[string]*index.Release{"1.0.0": {
				Runtime:   manifest.RuntimeWasm,
				Artifacts: map[string]index.Artifact{index.AnyPlatform: f.artifactEntry()},
				Published: expires.Add(-48 * time.Hour),
			}},
		}},
	}
	if edit != nil {
		edit(x)
	}
	raw, err := index.Encode(x)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := sign.Sign(f.skey, raw, sign.Meta{Version: x.Version, Expires: x.Expires})
	if err != nil {
		t.Fatal(err)
	}
	f.write(t, IndexFile, raw)
	f.write(t, SigFile, sig)
	return raw
}

func (f *fixture) write(t testing.TB, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(f.dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) client(t testing.TB, url string, keys ...string) *Registry {
	t.Helper()
	if keys == nil {
		keys = []string{f.vkey}
	}
	r, err := New(Config{Name: "test", URL: url, Keys: keys}, Options{StateDir: filepath.Join(f.dir, "..", "state-"+filepath.Base(f.dir)), Now: clock, StallTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// server serves the fixture folder on 127.0.0.1, except for paths given a
// handler in override.
type server struct {
	*httptest.Server
	mu       sync.Mutex
	override map[string]http.HandlerFunc
}

func newServer(t testing.TB, dir string) *server {
	s := &server{override: map[string]http.HandlerFunc{}}
	files := http.FileServer(http.Dir(dir))
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		h := s.override[r.URL.Path]
		s.mu.Unlock()
		if h != nil {
			h(w, r)
			return
		}
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) handle(path string, h http.HandlerFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.override[path] = h
}

func TestFetchLocations(t *testing.T) {
	f := newFixture(t)
	srv := newServer(t, f.dir)
	for name, loc := range map[string]string{
		"plain path": f.dir,
		"file URL":   "file://" + filepath.ToSlash(f.dir),
		"http":       srv.URL,
		"http slash": srv.URL + "/",
	} {
		t.Run(name, func(t *testing.T) {
			r := f.client(t, loc)
			got, err := r.Fetch(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got.Index.Version != 1 || got.Signed.Version != 1 || got.Signed.KeyName != "test-registry" || len(got.Raw) == 0 {
				t.Fatalf("fetched %+v", got.Signed)
			}
			rel, err := got.Index.Lookup("hello", "1.0.0")
			if err != nil {
				t.Fatal(err)
			}
			dl := t.TempDir()
			path, err := r.Download(context.Background(), rel.Artifacts[index.AnyPlatform], dl)
			if err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(data, f.artifact) {
				t.Fatalf("downloaded %d bytes, %v", len(data), err)
			}
			if filepath.Dir(path) != dl {
				t.Fatalf("download landed in %s, not %s", path, dl)
			}
		})
	}
}

func TestFetchRefuses(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, f *fixture)
		keys  func(f *fixture) []string
		is    error
		want  []string
	}{
		{
			name:  "unsigned",
			setup: func(t *testing.T, f *fixture) { os.Remove(filepath.Join(f.dir, SigFile)) },
			is:    sign.ErrUnsigned, want: []string{"index.json.sig"},
		},
		{
			name: "index edited after signing",
			setup: func(t *testing.T, f *fixture) {
				raw, _ := os.ReadFile(filepath.Join(f.dir, IndexFile))
				f.write(t, IndexFile, bytes.Replace(raw, []byte("Says hello."), []byte("Says hellO."), 1))
			},
			is: sign.ErrMismatch,
		},
		{
			name: "untrusted key",
			keys: func(f *fixture) []string {
				_, other, _ := sign.GenerateKey("other")
				return []string{other}
			},
			is: sign.ErrUntrusted, want: []string{"signed by test-registry+", "trusted: other+"},
		},
		{
			name:  "malformed signature",
			setup: func(t *testing.T, f *fixture) { f.write(t, SigFile, []byte("garbage\n")) },
			is:    sign.ErrMalformed,
		},
		{
			name:  "expired",
			setup: func(t *testing.T, f *fixture) { f.publish(t, 2, now.Add(-time.Hour), nil) },
			is:    ErrExpired, want: []string{"expired at 2026-09-15T11:00:00Z", "now 2026-09-15T12:00:00Z"},
		},
		{
			name:  "expires exactly now",
			setup: func(t *testing.T, f *fixture) { f.publish(t, 2, now, nil) },
			is:    ErrExpired,
		},
		{
			name: "signature meta disagrees with index",
			setup: func(t *testing.T, f *fixture) {
				raw := f.publish(t, 2, now.Add(time.Hour), nil)
				sig, _ := sign.Sign(f.skey, raw, sign.Meta{Version: 3, Expires: now.Add(time.Hour)})
				f.write(t, SigFile, sig)
			},
			is: sign.ErrMismatch, want: []string{"signature says version 3", "index says version 2"},
		},
		{
			name: "signed but invalid index",
			setup: func(t *testing.T, f *fixture) {
				raw := []byte(`{"schema": 1, "version": 2}`)
				sig, _ := sign.Sign(f.skey, raw, sign.Meta{Version: 2, Expires: now.Add(time.Hour)})
				f.write(t, IndexFile, raw)
				f.write(t, SigFile, sig)
			},
			want: []string{"line 1, col 1", `missing field "expires"`},
		},
		{
			name:  "no index",
			setup: func(t *testing.T, f *fixture) { os.Remove(filepath.Join(f.dir, IndexFile)) },
			is:    fs.ErrNotExist,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			if tc.setup != nil {
				tc.setup(t, f)
			}
			var keys []string
			if tc.keys != nil {
				keys = tc.keys(f)
			}
			srv := newServer(t, f.dir)
			for _, loc := range []string{f.dir, srv.URL} {
				r := f.client(t, loc, keys...)
				got, err := r.Fetch(context.Background())
				if err == nil {
					t.Fatalf("%s: accepted version %d", loc, got.Index.Version)
				}
				if tc.is != nil && !errors.Is(err, tc.is) {
					t.Fatalf("%s: error %v, want %v", loc, err, tc.is)
				}
				for _, w := range tc.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("%s: error %q does not contain %q", loc, err, w)
					}
				}
				if _, ok, _ := r.State(); ok {
					t.Errorf("%s: a refused index was recorded as seen", loc)
				}
			}
		})
	}
}

func TestFreshness(t *testing.T) {
	f := newFixture(t)
	srv := newServer(t, f.dir)
	r := f.client(t, srv.URL)
	ctx := context.Background()

	v2 := f.publish(t, 2, now.Add(time.Hour), nil)
	if _, err := r.Fetch(ctx); err != nil {
		t.Fatal(err)
	}
	st, ok, err := r.State()
	if err != nil || !ok || st.Version != 2 {
		t.Fatalf("state after v2: %+v %v %v", st, ok, err)
	}
	// The same index again is fine (a mirror that has not moved on).
	if _, err := r.Fetch(ctx); err != nil {
		t.Fatalf("equal version refused: %v", err)
	}
	// A validly signed older index replayed: rollback.
	f.publish(t, 1, now.Add(time.Hour), nil)
	_, err = r.Fetch(ctx)
	if !errors.Is(err, ErrRollback) || !strings.Contains(err.Error(), "got index version 1") || !strings.Contains(err.Error(), "version 2 was already seen") {
		t.Fatalf("rollback: %v", err)
	}
	// The same version number with other content: refused.
	f.publish(t, 2, now.Add(2*time.Hour), nil)
	if _, err := r.Fetch(ctx); !errors.Is(err, ErrConflict) {
		t.Fatalf("changed content at the same version: %v", err)
	}
	// The record did not move.
	if st, _, _ := r.State(); st.Version != 2 || st.SHA256 != sha(v2) {
		t.Fatalf("state moved: %+v", st)
	}
	// A newer one moves it forward.
	f.publish(t, 3, now.Add(time.Hour), nil)
	if got, err := r.Fetch(ctx); err != nil || got.Index.Version != 3 {
		t.Fatalf("v3: %v", err)
	}
	if st, _, _ := r.State(); st.Version != 3 || !st.Accepted.Equal(now) {
		t.Fatalf("state after v3: %+v", st)
	}
	// A fresh client on the same state folder remembers.
	f.publish(t, 2, now.Add(time.Hour), nil)
	if _, err := f.client(t, f.dir).Fetch(ctx); !errors.Is(err, ErrRollback) {
		t.Fatalf("rollback after restart: %v", err)
	}
	// A damaged record fails closed.
	f.publish(t, 4, now.Add(time.Hour), nil)
	if err := os.WriteFile(r.statePath(), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Fetch(ctx); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("damaged state: %v", err)
	}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestFetchCaps(t *testing.T) {
	f := newFixture(t)
	srv := newServer(t, f.dir)
	endless := func(w http.ResponseWriter, r *http.Request) {
		chunk := bytes.Repeat([]byte(" "), 32<<10)
		for {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}
	srv.handle("/"+IndexFile, endless)
	r := f.client(t, srv.URL)
	r.maxIndex = 1 << 20 // the same code path as index.MaxSize, without streaming 32 MiB under -race
	if _, err := r.Fetch(context.Background()); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("endless index: %v", err)
	}
	srv.handle("/"+SigFile, endless)
	if _, err := r.Fetch(context.Background()); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("endless signature: %v", err)
	}
	srv.handle("/"+SigFile, func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	if _, err := r.Fetch(context.Background()); !errors.Is(err, sign.ErrUnsigned) {
		t.Fatalf("404 signature: %v", err)
	}
}

func TestArtifactHTTP(t *testing.T) {
	f := newFixture(t)
	srv := newServer(t, f.dir)
	const path = "/artifacts/hello-1.0.0.tar.gz"
	data := f.artifact
	flipped := bytes.Clone(data)
	flipped[len(flipped)/2] ^= 1
	withLength := func(body []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.Write(body)
		}
	}
	chunked := func(body []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush() // headers out now: no Content-Length
			w.Write(body)
		}
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
		is      error
		want    string
	}{
		{"happy path", nil, nil, ""},
		{"one byte flipped", func(w http.ResponseWriter, r *http.Request) { w.Write(flipped) }, ErrHashMismatch, "the index says"},
		{"short, with length", withLength(data[:len(data)-1]), ErrSizeMismatch, "it is 65535 bytes, the index says 65536"},
		{"long, with length", withLength(append(bytes.Clone(data), 'x')), ErrSizeMismatch, "it is 65537 bytes"},
		{"short, chunked", chunked(data[:len(data)-1]), ErrSizeMismatch, "ended after 65535 of 65536 bytes"},
		{"long, chunked", chunked(append(bytes.Clone(data), 'x')), ErrSizeMismatch, "longer than the 65536 bytes"},
		{"flipped, chunked", chunked(flipped), ErrHashMismatch, ""},
		{"endless", func(w http.ResponseWriter, r *http.Request) {
			for {
				if _, err := w.Write(data); err != nil {
					return
				}
			}
		}, ErrSizeMismatch, "longer than"},
		{"404", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }, fs.ErrNotExist, "404"},
		{"500", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) }, nil, "500 Internal Server Error"},
		{"gzip applied by server", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(data)
		}, nil, `Content-Encoding "gzip"`},
		{"connection closed mid-download", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "65536")
			w.WriteHeader(http.StatusOK)
			w.Write(data[:1000])
			w.(http.Flusher).Flush()
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
		}, nil, "after 1000 of 65536 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv.handle(path, tc.handler)
			r := f.client(t, srv.URL)
			dir := t.TempDir()
			got, err := r.Download(context.Background(), f.artifactEntry(), dir)
			if tc.handler == nil {
				if err != nil {
					t.Fatal(err)
				}
				if b, _ := os.ReadFile(got); !bytes.Equal(b, data) {
					t.Fatal("content differs")
				}
				return
			}
			if err == nil {
				t.Fatal("download accepted")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("error %v, want %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), srv.URL+path) && tc.is != fs.ErrNotExist && tc.want != "" && !strings.Contains(tc.name, "500") && !strings.Contains(tc.name, "gzip") {
				t.Errorf("error %q does not name the URL", err)
			}
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Fatalf("failed download left %d files", len(left))
			}
		})
	}
}

func TestArtifactStall(t *testing.T) {
	f := newFixture(t)
	srv := newServer(t, f.dir)
	srv.handle("/artifacts/hello-1.0.0.tar.gz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "65536")
		w.Write(f.artifact[:100])
		w.(http.Flusher).Flush()
		<-r.Context().Done() // never sends the rest
	})
	r, err := New(Config{Name: "test", URL: srv.URL, Keys: []string{f.vkey}}, Options{StateDir: t.TempDir(), StallTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Download(context.Background(), f.artifactEntry(), t.TempDir())
	if !errors.Is(err, ErrStalled) {
		t.Fatalf("stalled transfer: %v", err)
	}
}

func TestArtifactLocal(t *testing.T) {
	f := newFixture(t)
	r := f.client(t, f.dir)
	ctx := context.Background()
	a := f.artifactEntry()

	rc, err := r.Open(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, f.artifact) {
		t.Fatalf("Open: %d bytes, %v", len(got), err)
	}

	abs := a
	abs.URL = "file://" + filepath.ToSlash(filepath.Join(f.dir, "artifacts", "hello-1.0.0.tar.gz"))
	if _, err := r.Download(ctx, abs, t.TempDir()); err != nil {
		t.Fatalf("absolute file URL: %v", err)
	}

	wrongSize := a
	wrongSize.Size++
	if _, err := r.Download(ctx, wrongSize, t.TempDir()); !errors.Is(err, ErrSizeMismatch) {
		t.Fatalf("wrong size: %v", err)
	}
	wrongHash := a
	wrongHash.SHA256 = strings.Repeat("0", 64)
	if _, err := r.Download(ctx, wrongHash, t.TempDir()); !errors.Is(err, ErrHashMismatch) {
		t.Fatalf("wrong hash: %v", err)
	}
	missing := a
	missing.URL = "artifacts/nope.tar.gz"
	if _, err := r.Download(ctx, missing, t.TempDir()); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing: %v", err)
	}
	dirURL := a
	dirURL.URL = "artifacts"
	if _, err := r.Download(ctx, dirURL, t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("folder as artifact: %v", err)
	}

	// A remote registry cannot point at local files.
	srv := newServer(t, f.dir)
	if _, err := f.client(t, srv.URL).Download(ctx, abs, t.TempDir()); err == nil || !strings.Contains(err.Error(), "cannot point at local files") {
		t.Fatalf("http registry, file artifact: %v", err)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := r.Download(cancelled, a, t.TempDir()); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestVerifyingReader(t *testing.T) {
	data := []byte("hello, world")
	sum := sha(data)
	tests := []struct {
		name  string
		input []byte
		size  int64
		is    error
	}{
		{"exact", data, int64(len(data)), nil},
		{"short", data[:5], int64(len(data)), ErrSizeMismatch},
		{"long", append(bytes.Clone(data), '!'), int64(len(data)), ErrSizeMismatch},
		{"flipped", []byte("hello, World"), int64(len(data)), ErrHashMismatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// One byte at a time, to cover every boundary.
			v, err := NewVerifyingReader(oneByte{bytes.NewReader(tc.input)}, tc.size, sum, "x")
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(v)
			if tc.is == nil {
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("%q, %v", got, err)
				}
				return
			}
			if !errors.Is(err, tc.is) {
				t.Fatalf("error %v, want %v", err, tc.is)
			}
			if int64(len(got)) > tc.size {
				t.Fatalf("passed %d bytes, over the declared %d", len(got), tc.size)
			}
			// The failure is sticky.
			if _, err2 := v.Read(make([]byte, 1)); !errors.Is(err2, tc.is) {
				t.Fatalf("second read: %v", err2)
			}
		})
	}
	if _, err := NewVerifyingReader(bytes.NewReader(data), 1, "ABC", "x"); err == nil {
		t.Fatal("bad hex accepted")
	}
}

type oneByte struct{ r io.Reader }

func (o oneByte) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return o.r.Read(p)
}
