package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

func benchTool(b *testing.B, r *Registry, name, input string) {
	b.Helper()
	tl, ok := r.Lookup(name)
	if !ok {
		b.Fatalf("no tool %q", name)
	}
	in := json.RawMessage(input)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tl.Run(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadFile is one read_file of a 13-byte file: OpenRoot, Stat,
// Open, read, JSON out.
func BenchmarkReadFile(b *testing.B) {
	ws, _ := fixture(b)
	benchTool(b, newTestRegistry(b, Options{Workspace: ws}), "read_file", `{"path":"sub/inner.txt"}`)
}

// BenchmarkWriteFile is one atomic replace (temp, fsync, rename); the fsync
// dominates and depends on the disk.
func BenchmarkWriteFile(b *testing.B) {
	ws, _ := fixture(b)
	benchTool(b, newTestRegistry(b, Options{Workspace: ws}), "write_file", `{"path":"out/bench.txt","content":"hello"}`)
}

func BenchmarkAppendFile(b *testing.B) {
	ws, _ := fixture(b)
	benchTool(b, newTestRegistry(b, Options{Workspace: ws}), "write_file", `{"path":"bench.log","content":"line\n","append":true}`)
}

// BenchmarkHTTPGet is one http_get against a local server over a kept-alive
// connection.
func BenchmarkHTTPGet(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "hello")
	}))
	defer srv.Close()
	benchTool(b, newTestRegistry(b, Options{AllowHosts: []string{"127.0.0.1"}}), "http_get", `{"url":"`+srv.URL+`/"}`)
}

func BenchmarkNow(b *testing.B) {
	benchTool(b, newTestRegistry(b, Options{}), "now", `{}`)
}

func BenchmarkLookup(b *testing.B) {
	r := newTestRegistry(b, Options{})
	for b.Loop() {
		if _, ok := r.Lookup("read_file"); !ok {
			b.Fatal("missing")
		}
	}
}
