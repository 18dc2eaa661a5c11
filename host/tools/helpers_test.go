package tools

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/skillsdev/skills/sdk/wire"
)

func newTestRegistry(t testing.TB, opts Options) *Registry {
	t.Helper()
	tools, err := Builtins(opts)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRegistry(tools...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// call runs a tool with a background context.
func call(t testing.TB, r *Registry, name, input string) (map[string]any, *wire.Error) {
	t.Helper()
	return callCtx(t, context.Background(), r, name, input)
}

func callCtx(t testing.TB, ctx context.Context, r *Registry, name, input string) (map[string]any, *wire.Error) {
	t.Helper()
	tl, ok := r.Lookup(name)
	if !ok {
		t.Fatalf("no tool %q", name)
	}
	out, err := tl.Run(ctx, json.RawMessage(input))
	if err != nil {
		var we *wire.Error
		if !errors.As(err, &we) {
			t.Fatalf("%s: error %T %v is not a *wire.Error", name, err, err)
		}
		if we.Skill != name {
			t.Errorf("%s: error names %q, want the tool", name, we.Skill)
		}
		return nil, we
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("%s: output %q is not a JSON object: %v", name, out, err)
	}
	return m, nil
}

func wantErr(t testing.TB, got *wire.Error, code wire.Code, msg string) {
	t.Helper()
	if got == nil {
		t.Fatalf("no error, want %s containing %q", code, msg)
	}
	if got.Code != code || !strings.Contains(got.Message, msg) {
		t.Fatalf("error = %v, want %s containing %q", got, code, msg)
	}
}

func writeTestFile(path, content string) error {
	return os.WriteFile(path, []byte(content), 0o644)
}
