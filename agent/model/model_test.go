package model

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	script := filepath.Join(t.TempDir(), "s.json")
	if err := os.WriteFile(script, []byte(`[{"content":"hi"}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"OPENAI_BASE_URL": "http://127.0.0.1:11434/v1"}
	getenv := func(k string) string { return env[k] }
	tests := []struct{ spec, wantName, wantErr string }{
		{"", "offline", ""},
		{"offline", "offline", ""},
		{"scripted:" + script, "scripted:" + script, ""},
		{"openai:llama3.1", "openai:llama3.1", ""},
		{"anthropic:claude-sonnet-4-5", "anthropic:claude-sonnet-4-5", ""},
		{"openai:", "", `missing the part after "openai:"`},
		{"scripted:/does/not/exist.json", "", "no such file"},
		{"gemini:pro", "", "unknown; want offline"},
		{"openai", "", "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			m, err := NewWithEnv(tt.spec, getenv)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || m.Name() != tt.wantName {
				t.Fatalf("New = %v, %v", m, err)
			}
		})
	}
	env["OPENAI_BASE_URL"] = "ftp://x"
	if _, err := NewWithEnv("openai:x", getenv); err == nil || !strings.Contains(err.Error(), "base URL") {
		t.Fatalf("bad base URL: %v", err)
	}
}
