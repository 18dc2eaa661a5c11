package tools

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/skillsdev/skills/sdk/wire"
)

func echoTool(name string) Tool {
	return Tool{
		Name:        name,
		Description: "echoes its input",
		Run: func(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
			return in, nil
		},
	}
}

func TestNewRegistry(t *testing.T) {
	bad := func(mut func(*Tool)) Tool {
		tl := echoTool("ok")
		mut(&tl)
		return tl
	}
	tests := []struct {
		name    string
		tools   []Tool
		wantErr string // empty: success
	}{
		{"empty", nil, ""},
		{"several", []Tool{echoTool("b"), echoTool("a"), echoTool("c_d-1")}, ""},
		{"duplicate", []Tool{echoTool("a"), echoTool("a")}, `tool "a" registered twice`},
		{"empty name", []Tool{echoTool("")}, "must be 1-64 characters"},
		{"space in name", []Tool{echoTool("read file")}, "must be 1-64 characters"},
		{"long name", []Tool{echoTool(strings.Repeat("x", 65))}, "must be 1-64 characters"},
		{"nil run", []Tool{bad(func(t *Tool) { t.Run = nil })}, "Run is nil"},
		{"no description", []Tool{bad(func(t *Tool) { t.Description = " " })}, "description is empty"},
		{"schema not JSON", []Tool{bad(func(t *Tool) { t.InputSchema = json.RawMessage(`{`) })}, "not a JSON object"},
		{"schema array", []Tool{bad(func(t *Tool) { t.InputSchema = json.RawMessage(`[]`) })}, "not a JSON object"},
		{"schema not object type", []Tool{bad(func(t *Tool) { t.InputSchema = json.RawMessage(`{"type":"string"}`) })}, `"type" is "string"`},
		{"schema object", []Tool{bad(func(t *Tool) { t.InputSchema = json.RawMessage(`{"type":"object","properties":{}}`) })}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewRegistry(tt.tools...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			list := r.List()
			if len(list) != len(tt.tools) {
				t.Fatalf("List has %d tools, want %d", len(list), len(tt.tools))
			}
			for i := 1; i < len(list); i++ {
				if list[i-1].Name >= list[i].Name {
					t.Errorf("List not sorted: %q before %q", list[i-1].Name, list[i].Name)
				}
			}
			for _, tl := range tt.tools {
				got, ok := r.Lookup(tl.Name)
				if !ok {
					t.Fatalf("Lookup(%q) missing", tl.Name)
				}
				if !json.Valid(got.InputSchema) {
					t.Errorf("tool %q schema %q is not JSON", tl.Name, got.InputSchema)
				}
			}
			if _, ok := r.Lookup("missing"); ok {
				t.Error("Lookup(missing) found a tool")
			}
		})
	}
}

func TestRegistryListIsACopy(t *testing.T) {
	r, err := NewRegistry(echoTool("a"), echoTool("b"))
	if err != nil {
		t.Fatal(err)
	}
	l := r.List()
	l[0].Name = "changed"
	if r.List()[0].Name != "a" {
		t.Fatal("modifying List's result changed the registry")
	}
}

// Every error out of a registered tool is a *wire.Error naming the tool.
func TestRegistryTypedErrors(t *testing.T) {
	plain := errors.New("disk on fire")
	tests := []struct {
		name     string
		run      func(context.Context, json.RawMessage) (json.RawMessage, error)
		ctx      func() (context.Context, context.CancelFunc)
		wantCode wire.Code
		wantMsg  string
	}{
		{"plain error", func(context.Context, json.RawMessage) (json.RawMessage, error) { return nil, plain }, nil, wire.CodeToolFailed, "disk on fire"},
		{"wire error kept", func(context.Context, json.RawMessage) (json.RawMessage, error) {
			return nil, wire.Errorf(wire.CodeToolDenied, "", "nope")
		}, nil, wire.CodeToolDenied, "nope"},
		{"canceled ctx", func(ctx context.Context, _ json.RawMessage) (json.RawMessage, error) { return nil, ctx.Err() },
			func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				return ctx, cancel
			}, wire.CodeCanceled, "canceled"},
		{"deadline ctx", func(ctx context.Context, _ json.RawMessage) (json.RawMessage, error) { return nil, ctx.Err() },
			func() (context.Context, context.CancelFunc) {
				return context.WithDeadline(context.Background(), time.Unix(0, 0))
			}, wire.CodeTimeout, "deadline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewRegistry(Tool{Name: "x", Description: "d", Run: tt.run})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if tt.ctx != nil {
				var cancel context.CancelFunc
				ctx, cancel = tt.ctx()
				defer cancel()
			}
			tl, _ := r.Lookup("x")
			_, err = tl.Run(ctx, nil)
			var we *wire.Error
			if !errors.As(err, &we) {
				t.Fatalf("err = %T %v, want *wire.Error", err, err)
			}
			if we.Code != tt.wantCode || we.Skill != "x" || !strings.Contains(we.Message, tt.wantMsg) {
				t.Fatalf("err = %+v, want code %s, skill x, message containing %q", we, tt.wantCode, tt.wantMsg)
			}
		})
	}
}

func TestBuiltinsOptions(t *testing.T) {
	dir := t.TempDir()
	file := dir + "/f"
	if err := writeTestFile(file, "x"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{"zero options", Options{}, ""},
		{"workspace", Options{Workspace: dir}, ""},
		{"workspace missing", Options{Workspace: dir + "/nope"}, "no such file"},
		{"workspace is a file", Options{Workspace: file}, "not a directory"},
		{"negative MaxRead", Options{MaxRead: -1}, "MaxRead"},
		{"hosts", Options{AllowHosts: []string{"example.com", "Example.org:8443", "[::1]:80", "::1", "[fe80::1]", "10.0.0.1"}}, ""},
		{"empty host", Options{AllowHosts: []string{" "}}, "empty entry"},
		{"URL as host", Options{AllowHosts: []string{"https://example.com"}}, "not a URL"},
		{"bad port", Options{AllowHosts: []string{"example.com:http"}}, "not a number"},
		{"port zero", Options{AllowHosts: []string{"example.com:0"}}, "not a number"},
		{"port only", Options{AllowHosts: []string{":80"}}, "empty host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tools, err := Builtins(tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r, err := NewRegistry(tools...)
			if err != nil {
				t.Fatalf("builtins do not register: %v", err)
			}
			var names []string
			for _, tl := range r.List() {
				names = append(names, tl.Name)
			}
			if got := strings.Join(names, " "); got != "http_get now read_file write_file" {
				t.Fatalf("builtins = %s", got)
			}
		})
	}
}

func TestNow(t *testing.T) {
	fixed := time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.FixedZone("X", 3600))
	tests := []struct {
		name  string
		now   func() time.Time
		input string
		check func(t *testing.T, tm time.Time, unix int64)
	}{
		{"fixed clock", func() time.Time { return fixed }, `{}`, func(t *testing.T, tm time.Time, unix int64) {
			if !tm.Equal(fixed) || tm.Nanosecond() != 123456789 || unix != fixed.Unix() {
				t.Errorf("got %v / %d, want %v", tm, unix, fixed)
			}
		}},
		{"real clock, null input", nil, `null`, func(t *testing.T, tm time.Time, unix int64) {
			if tm.Year() < 2024 || tm.Unix() != unix {
				t.Errorf("got %v / %d", tm, unix)
			}
		}},
		{"empty input", nil, ``, func(t *testing.T, tm time.Time, unix int64) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newTestRegistry(t, Options{Now: tt.now})
			out, werr := call(t, r, "now", tt.input)
			if werr != nil {
				t.Fatal(werr)
			}
			s, _ := out["time"].(string)
			tm, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				t.Fatalf("time %q: %v", s, err)
			}
			tt.check(t, tm, int64(out["unix"].(float64)))
		})
	}
}

// Bad arguments are CodeInvalidInput and name the field.
func TestBadInput(t *testing.T) {
	tests := []struct {
		tool, input, want string
	}{
		{"read_file", `{"path": 3}`, "path: want a string, got number"},
		{"read_file", `{"path": "a", "max_bytes": "ten"}`, "max_bytes: want an integer, got string"},
		{"read_file", `{"path": "a", "max_bytes": 1.5}`, "max_bytes: want an integer"},
		{"read_file", `{"path": "a", "max_bytes": 0}`, "max_bytes: must be > 0"},
		{"read_file", `{}`, "path: required"},
		{"read_file", `{"path": "a", "pathh": "b"}`, `unknown field "pathh"`},
		{"read_file", `{"path": `, "not valid JSON"},
		{"read_file", `{"path": "a"} {}`, "unexpected data after"},
		{"read_file", `"a"`, "input: want an object, got string"},
		{"read_file", `{"path": "a\u0000b"}`, "path: contains a NUL byte"},
		{"write_file", `{"path": "a"}`, "content: required"},
		{"write_file", `{"path": "a", "content": "x", "append": "yes"}`, "append: want a boolean"},
		{"write_file", `{"path": "a", "content": 1}`, "content: want a string"},
		{"http_get", `{}`, "url: required"},
		{"http_get", `{"url": ["x"]}`, "url: want a string, got array"},
		{"http_get", `{"url": "ftp://example.com/"}`, `scheme "ftp" is not supported`},
		{"http_get", `{"url": "http:///path"}`, "no host"},
		{"http_get", `{"url": "http://a b/"}`, "url:"},
		{"http_get", `{"url": "http://127.0.0.1/", "max_bytes": -4}`, "max_bytes: must be > 0"},
		{"now", `{"zone": "UTC"}`, `unknown field "zone"`},
		{"now", `[]`, "input: want an object, got array"},
	}
	r := newTestRegistry(t, Options{Workspace: t.TempDir(), AllowHosts: []string{"127.0.0.1"}})
	for _, tt := range tests {
		t.Run(tt.tool+" "+tt.input, func(t *testing.T) {
			_, werr := call(t, r, tt.tool, tt.input)
			wantErr(t, werr, wire.CodeInvalidInput, tt.want)
		})
	}
}
