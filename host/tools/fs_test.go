package tools

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skillsdev/skills/sdk/wire"
)

const secret = "TOP-SECRET-outside-the-workspace"

// fixture lays out a workspace beside a secret file, with symlinks that lead
// out of the workspace and one that stays inside:
//
//	<tmp>/secret.txt
//	<tmp>/ws/hello.txt, sub/inner.txt, big.txt, accent.txt, binary.bin, dir/
//	<tmp>/ws/link-out -> ../secret.txt      link-abs -> <tmp>/secret.txt
//	<tmp>/ws/link-dir-out -> ..            link-in -> sub/inner.txt
func fixture(t testing.TB) (ws, secretPath string) {
	t.Helper()
	tmp := t.TempDir()
	ws = filepath.Join(tmp, "ws")
	secretPath = filepath.Join(tmp, "secret.txt")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(ws, "sub"), 0o755))
	must(os.MkdirAll(filepath.Join(ws, "dir"), 0o755))
	must(writeTestFile(secretPath, secret))
	must(writeTestFile(filepath.Join(ws, "hello.txt"), "hello, world\n"))
	must(writeTestFile(filepath.Join(ws, "sub", "inner.txt"), "inner"))
	must(writeTestFile(filepath.Join(ws, "big.txt"), strings.Repeat("0123456789", 10)))
	must(writeTestFile(filepath.Join(ws, "accent.txt"), "aé"))
	must(writeTestFile(filepath.Join(ws, "binary.bin"), "\xff\x00\xfe"))
	must(os.Symlink("../secret.txt", filepath.Join(ws, "link-out")))
	must(os.Symlink(secretPath, filepath.Join(ws, "link-abs")))
	must(os.Symlink("..", filepath.Join(ws, "link-dir-out")))
	must(os.Symlink("sub/inner.txt", filepath.Join(ws, "link-in")))
	return ws, secretPath
}

func TestReadFile(t *testing.T) {
	ws, secretPath := fixture(t)
	r := newTestRegistry(t, Options{Workspace: ws})
	small := newTestRegistry(t, Options{Workspace: ws, MaxRead: 16})
	type want struct {
		content, encoding string
		size              float64
		truncated         bool
		path              string
	}
	tests := []struct {
		name     string
		reg      *Registry
		input    string
		want     *want
		wantCode wire.Code
		wantMsg  string
	}{
		{"plain", r, `{"path":"hello.txt"}`, &want{content: "hello, world\n", size: 13, path: "hello.txt"}, "", ""},
		{"nested", r, `{"path":"sub/inner.txt"}`, &want{content: "inner", size: 5, path: "sub/inner.txt"}, "", ""},
		{"dot segments inside", r, `{"path":"./sub/../hello.txt"}`, &want{content: "hello, world\n", size: 13, path: "hello.txt"}, "", ""},
		// Symlinks that stay inside the workspace are followed.
		{"symlink inside", r, `{"path":"link-in"}`, &want{content: "inner", size: 5, path: "link-in"}, "", ""},
		{"max_bytes truncates", r, `{"path":"big.txt","max_bytes":10}`, &want{content: "0123456789", size: 100, truncated: true, path: "big.txt"}, "", ""},
		{"max_bytes exact fit", r, `{"path":"hello.txt","max_bytes":13}`, &want{content: "hello, world\n", size: 13, path: "hello.txt"}, "", ""},
		{"MaxRead caps", small, `{"path":"big.txt"}`, &want{content: "0123456789012345", size: 100, truncated: true, path: "big.txt"}, "", ""},
		{"max_bytes cannot raise MaxRead", small, `{"path":"big.txt","max_bytes":1000}`, &want{content: "0123456789012345", size: 100, truncated: true, path: "big.txt"}, "", ""},
		{"truncation keeps whole characters", r, `{"path":"accent.txt","max_bytes":2}`, &want{content: "a", size: 3, truncated: true, path: "accent.txt"}, "", ""},
		{"binary as base64", r, `{"path":"binary.bin"}`, &want{content: base64.StdEncoding.EncodeToString([]byte("\xff\x00\xfe")), encoding: "base64", size: 3, path: "binary.bin"}, "", ""},

		{"dotdot", r, `{"path":"../secret.txt"}`, nil, wire.CodeToolDenied, "escapes the workspace"},
		{"dotdot etc passwd", r, `{"path":"../../etc/passwd"}`, nil, wire.CodeToolDenied, `"../../etc/passwd" escapes the workspace`},
		{"dotdot after a dir", r, `{"path":"sub/../../secret.txt"}`, nil, wire.CodeToolDenied, "escapes the workspace"},
		{"absolute", r, `{"path":"/etc/passwd"}`, nil, wire.CodeToolDenied, `"/etc/passwd" is absolute`},
		{"absolute to secret", r, `{"path":` + quote(secretPath) + `}`, nil, wire.CodeToolDenied, "is absolute"},
		{"symlink out", r, `{"path":"link-out"}`, nil, wire.CodeToolDenied, "escapes the workspace"},
		{"symlink absolute out", r, `{"path":"link-abs"}`, nil, wire.CodeToolDenied, "escapes the workspace"},
		{"symlinked dir out", r, `{"path":"link-dir-out/secret.txt"}`, nil, wire.CodeToolDenied, "escapes the workspace"},
		{"missing", r, `{"path":"nope.txt"}`, nil, wire.CodeToolFailed, `read "nope.txt": no such file`},
		{"directory", r, `{"path":"dir"}`, nil, wire.CodeToolFailed, "not a regular file (a directory)"},
		{"workspace root", r, `{"path":"."}`, nil, wire.CodeToolFailed, "not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, werr := call(t, tt.reg, "read_file", tt.input)
			if tt.want == nil {
				wantErr(t, werr, tt.wantCode, tt.wantMsg)
				return
			}
			if werr != nil {
				t.Fatal(werr)
			}
			trunc, _ := out["truncated"].(bool)
			enc, _ := out["encoding"].(string)
			got := want{content: out["content"].(string), encoding: enc, size: out["size"].(float64), truncated: trunc, path: out["path"].(string)}
			if got != *tt.want {
				t.Fatalf("got %+v, want %+v", got, *tt.want)
			}
		})
	}
}

func TestNoWorkspace(t *testing.T) {
	r := newTestRegistry(t, Options{})
	for _, tc := range []struct{ tool, input string }{
		{"read_file", `{"path":"a.txt"}`},
		{"write_file", `{"path":"a.txt","content":"x"}`},
	} {
		t.Run(tc.tool, func(t *testing.T) {
			_, werr := call(t, r, tc.tool, tc.input)
			wantErr(t, werr, wire.CodeToolDenied, "no workspace configured")
		})
	}
}

func TestWriteFile(t *testing.T) {
	tests := []struct {
		name string
		// calls are write_file inputs made in order; the last one is checked.
		calls    []string
		wantCode wire.Code
		wantMsg  string
		wantSize float64
		// readBack is the file read back through read_file, and its content.
		readBack, wantContent string
	}{
		{name: "new file", calls: []string{`{"path":"new.txt","content":"data"}`}, wantSize: 4, readBack: "new.txt", wantContent: "data"},
		{name: "creates parents", calls: []string{`{"path":"a/b/c/new.txt","content":"deep"}`}, wantSize: 4, readBack: "a/b/c/new.txt", wantContent: "deep"},
		{name: "empty content", calls: []string{`{"path":"empty.txt","content":""}`}, wantSize: 0, readBack: "empty.txt", wantContent: ""},
		{name: "replace", calls: []string{`{"path":"hello.txt","content":"bye"}`}, wantSize: 3, readBack: "hello.txt", wantContent: "bye"},
		{name: "append to existing", calls: []string{`{"path":"hello.txt","content":"more","append":true}`}, wantSize: 17, readBack: "hello.txt", wantContent: "hello, world\nmore"},
		{name: "append twice creates", calls: []string{
			`{"path":"log/run.log","content":"one\n","append":true}`,
			`{"path":"log/run.log","content":"two\n","append":true}`,
		}, wantSize: 8, readBack: "log/run.log", wantContent: "one\ntwo\n"},
		{name: "write then append", calls: []string{
			`{"path":"w.txt","content":"ab"}`,
			`{"path":"w.txt","content":"cd","append":true}`,
		}, wantSize: 4, readBack: "w.txt", wantContent: "abcd"},
		{name: "through symlink inside appends to target", calls: []string{`{"path":"link-in","content":"+","append":true}`}, wantSize: 6, readBack: "sub/inner.txt", wantContent: "inner+"},

		{name: "dotdot", calls: []string{`{"path":"../evil.txt","content":"x"}`}, wantCode: wire.CodeToolDenied, wantMsg: "escapes the workspace"},
		{name: "absolute", calls: []string{`{"path":"/tmp/evil.txt","content":"x"}`}, wantCode: wire.CodeToolDenied, wantMsg: "is absolute"},
		{name: "into symlinked dir out", calls: []string{`{"path":"link-dir-out/evil.txt","content":"x"}`}, wantCode: wire.CodeToolDenied, wantMsg: "escapes the workspace"},
		{name: "mkdir through symlink out", calls: []string{`{"path":"link-dir-out/newdir/evil.txt","content":"x"}`}, wantCode: wire.CodeToolDenied, wantMsg: "escapes the workspace"},
		{name: "append through symlink out", calls: []string{`{"path":"link-out","content":"x","append":true}`}, wantCode: wire.CodeToolDenied, wantMsg: "escapes the workspace"},
		{name: "onto a directory", calls: []string{`{"path":"dir","content":"x"}`}, wantCode: wire.CodeToolFailed, wantMsg: "is a directory"},
		{name: "under a file", calls: []string{`{"path":"hello.txt/x","content":"x"}`}, wantCode: wire.CodeToolFailed, wantMsg: `"hello.txt/x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws, secretPath := fixture(t)
			r := newTestRegistry(t, Options{Workspace: ws})
			var out map[string]any
			var werr *wire.Error
			for _, in := range tt.calls {
				out, werr = call(t, r, "write_file", in)
			}
			defer checkNoTempFiles(t, ws)
			defer checkSecretIntact(t, secretPath)
			if tt.wantCode != "" {
				wantErr(t, werr, tt.wantCode, tt.wantMsg)
				return
			}
			if werr != nil {
				t.Fatal(werr)
			}
			if out["size"] != tt.wantSize {
				t.Errorf("size = %v, want %v", out["size"], tt.wantSize)
			}
			got, werr := call(t, r, "read_file", `{"path":`+quote(tt.readBack)+`}`)
			if werr != nil {
				t.Fatal(werr)
			}
			if got["content"] != tt.wantContent {
				t.Errorf("read back %q, want %q", got["content"], tt.wantContent)
			}
		})
	}
}

// Replacing a file keeps its permission bits; replacing a symlink replaces
// the link itself, leaving its target (outside the workspace) untouched.
func TestWriteFileReplaceDetails(t *testing.T) {
	ws, secretPath := fixture(t)
	r := newTestRegistry(t, Options{Workspace: ws})
	hello := filepath.Join(ws, "hello.txt")
	if err := os.Chmod(hello, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, werr := call(t, r, "write_file", `{"path":"hello.txt","content":"x"}`); werr != nil {
		t.Fatal(werr)
	}
	fi, err := os.Stat(hello)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode after replace = %v, want 0600", fi.Mode().Perm())
	}

	if _, werr := call(t, r, "write_file", `{"path":"link-out","content":"replaced"}`); werr != nil {
		t.Fatal(werr)
	}
	fi, err = os.Lstat(filepath.Join(ws, "link-out"))
	if err != nil {
		t.Fatal(err)
	}
	if !fi.Mode().IsRegular() {
		t.Errorf("link-out is %v after replace, want a regular file", fi.Mode())
	}
	checkSecretIntact(t, secretPath)
	checkNoTempFiles(t, ws)
}

func checkSecretIntact(t testing.TB, secretPath string) {
	t.Helper()
	b, err := os.ReadFile(secretPath)
	if err != nil || string(b) != secret {
		t.Fatalf("secret file changed: %q, %v", b, err)
	}
	entries, err := os.ReadDir(filepath.Dir(secretPath))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "ws" && e.Name() != "secret.txt" {
			t.Fatalf("file %q appeared outside the workspace", e.Name())
		}
	}
}

func checkNoTempFiles(t testing.TB, ws string) {
	t.Helper()
	filepath.WalkDir(ws, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".write_file-") {
			t.Errorf("temporary file left behind: %s", p)
		}
		return nil
	})
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
