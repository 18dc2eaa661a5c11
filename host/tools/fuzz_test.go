package tools

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skillsdev/skills/sdk/wire"
)

// pathSeeds are paths that have escaped sandboxes before: dot segments,
// absolute paths, symlinks out, backslashes, NUL, encoded forms.
func pathSeeds(secretPath string) []string {
	return []string{
		"hello.txt", "sub/inner.txt", "link-in", "./hello.txt", "sub/../hello.txt",
		"../secret.txt", "../../etc/passwd", "sub/../../secret.txt", "./../secret.txt",
		"/etc/passwd", secretPath, "//" + secretPath, "link-out", "link-abs",
		"link-dir-out/secret.txt", "link-dir-out/ws/link-out", "link-dir-out/../secret.txt",
		`..\secret.txt`, `\etc\passwd`, "hello.txt\x00../secret.txt", "%2e%2e/secret.txt",
		"sub/./../link-out", "link-in/../../secret.txt", ".", "..", "", " ", "sub/",
	}
}

// FuzzReadFilePath: whatever the path, read_file never returns the secret
// that sits beside the workspace, and always answers with a typed error
// when it refuses.
func FuzzReadFilePath(f *testing.F) {
	ws, secretPath := fixture(f)
	for _, s := range pathSeeds(secretPath) {
		f.Add(s)
	}
	r := newTestRegistry(f, Options{Workspace: ws})
	tl, _ := r.Lookup("read_file")
	f.Fuzz(func(t *testing.T, path string) {
		in, _ := json.Marshal(map[string]string{"path": path})
		out, err := tl.Run(context.Background(), in)
		if err != nil {
			checkRefusal(t, path, err)
			return
		}
		var got readOutput
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("output %q: %v", out, err)
		}
		content := got.Content
		if got.Encoding == "base64" {
			b, err := base64.StdEncoding.DecodeString(content)
			if err != nil {
				t.Fatalf("bad base64 %q: %v", content, err)
			}
			content = string(b)
		}
		if strings.Contains(content, secret) {
			t.Fatalf("path %q returned the secret outside the workspace", path)
		}
		if !filepath.IsLocal(filepath.FromSlash(got.Path)) {
			t.Fatalf("path %q answered as %q, which is not inside the workspace", path, got.Path)
		}
	})
}

// FuzzWriteFilePath: whatever the path, write_file never creates or changes
// anything outside the workspace.
func FuzzWriteFilePath(f *testing.F) {
	ws, secretPath := fixture(f)
	for _, s := range pathSeeds(secretPath) {
		f.Add(s, false)
		f.Add(s, true)
	}
	r := newTestRegistry(f, Options{Workspace: ws})
	tl, _ := r.Lookup("write_file")
	f.Fuzz(func(t *testing.T, path string, appendTo bool) {
		in, _ := json.Marshal(map[string]any{"path": path, "content": "pwned", "append": appendTo})
		if _, err := tl.Run(context.Background(), in); err != nil {
			checkRefusal(t, path, err)
		}
		checkSecretIntact(t, secretPath)
	})
}

func checkRefusal(t *testing.T, path string, err error) {
	t.Helper()
	var we *wire.Error
	if !errors.As(err, &we) {
		t.Fatalf("path %q: error %T %v is not a *wire.Error", path, err, err)
	}
	switch we.Code {
	case wire.CodeInvalidInput, wire.CodeToolDenied, wire.CodeToolFailed:
	default:
		t.Fatalf("path %q: unexpected code %s: %v", path, we.Code, we)
	}
}
