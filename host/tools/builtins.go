package tools

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/skillsdev/skills/sdk/wire"
)

// DefaultMaxRead is the cap on bytes read by read_file and http_get when
// Options.MaxRead is zero.
const DefaultMaxRead = 1 << 20

// Options configures the built-in tools.
type Options struct {
	// Workspace is the directory read_file and write_file are confined to.
	// Empty disables both: they answer CodeToolDenied.
	Workspace string
	// AllowHosts lists the hosts http_get may reach: "example.com" allows any
	// port of that host, "example.com:8443" (or "[::1]:8080") only that port.
	// A URL without a port is matched as its scheme's default port. Empty
	// denies every host.
	AllowHosts []string
	// HTTPClient makes http_get's requests; nil means a client of its own.
	// It is copied, never modified: http_get installs its own CheckRedirect
	// on the copy, so the allowlist holds at every redirect hop.
	HTTPClient *http.Client
	// MaxRead caps what read_file returns and what http_get accepts, in bytes;
	// a call's max_bytes may lower it, never raise it. 0 means DefaultMaxRead.
	MaxRead int64
	// Now is the clock of the now tool; nil means time.Now.
	Now func() time.Time
}

// Builtins returns the built-in tools configured by opts: read_file,
// write_file, http_get and now. It fails on a configuration that cannot work:
// a workspace that is not a directory, a malformed AllowHosts entry, a
// negative MaxRead.
func Builtins(opts Options) ([]Tool, error) {
	if opts.MaxRead < 0 {
		return nil, fmt.Errorf("tools: MaxRead is %d, want >= 0", opts.MaxRead)
	}
	if opts.MaxRead == 0 {
		opts.MaxRead = DefaultMaxRead
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Workspace != "" {
		// Absolute now, so a later change of the process's working directory
		// cannot move the workspace.
		abs, err := filepath.Abs(opts.Workspace)
		if err != nil {
			return nil, fmt.Errorf("tools: workspace %q: %w", opts.Workspace, err)
		}
		fi, err := os.Stat(abs)
		if err != nil {
			return nil, fmt.Errorf("tools: workspace: %w", err)
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("tools: workspace %q is not a directory", abs)
		}
		opts.Workspace = abs
	}
	allow, err := parseAllowHosts(opts.AllowHosts)
	if err != nil {
		return nil, fmt.Errorf("tools: AllowHosts: %w", err)
	}
	ws := workspace{dir: opts.Workspace, maxRead: opts.MaxRead}
	hg := newHTTPGetter(opts.HTTPClient, allow, opts.MaxRead)
	return []Tool{
		ws.readFileTool(),
		ws.writeFileTool(),
		hg.tool(),
		nowTool(opts.Now),
	}, nil
}

// nowTool reports the host's clock, in UTC so that runs recorded on machines
// in different zones compare equal.
func nowTool(now func() time.Time) Tool {
	const name = "now"
	return Tool{
		Name:        name,
		Description: "Returns the current time: RFC 3339 with nanoseconds (UTC) and Unix seconds.",
		InputSchema: json.RawMessage(`{"type":"object","properties":{},"additionalProperties":false}`),
		Run: func(ctx context.Context, input json.RawMessage) (json.RawMessage, error) {
			var in struct{}
			if err := decodeInput(name, input, &in); err != nil {
				return nil, err
			}
			t := now().UTC()
			return marshal(name, struct {
				Time string `json:"time"`
				Unix int64  `json:"unix"`
			}{t.Format(time.RFC3339Nano), t.Unix()})
		},
	}
}

// decodeInput decodes a tool's JSON input strictly: unknown fields, wrong
// types and trailing data are CodeInvalidInput errors naming the field.
// Empty input and null count as {} so that argument-less calls work.
func decodeInput(tool string, input json.RawMessage, v any) *wire.Error {
	data := bytes.TrimSpace(input)
	if len(data) == 0 || string(data) == "null" {
		data = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return invalid(tool, describeJSONError(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return invalid(tool, "input: unexpected data after the JSON object")
	}
	return nil
}

// describeJSONError rewrites encoding/json's errors in terms of the tool's
// fields, which is what a skill author or a model can act on.
func describeJSONError(err error) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "input"
		}
		return fmt.Sprintf("%s: want %s, got %s", field, kindName(typeErr.Type), typeErr.Value)
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("input is not valid JSON (at byte %d): %s", syntaxErr.Offset, strings.TrimPrefix(syntaxErr.Error(), "json: "))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "input is not valid JSON: unexpected end"
	default:
		// Unknown fields come as `json: unknown field "x"`.
		return "input: " + strings.TrimPrefix(err.Error(), "json: ")
	}
}

func kindName(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return t.String()
}

// maxBytes applies a call's optional max_bytes below the configured cap.
func maxBytes(tool string, requested *int64, limit int64) (int64, *wire.Error) {
	if requested == nil {
		return limit, nil
	}
	if *requested <= 0 {
		return 0, invalid(tool, fmt.Sprintf("max_bytes: must be > 0, got %d", *requested))
	}
	return min(*requested, limit), nil
}

// encodeText returns b as a JSON-safe string: the text itself when it is
// UTF-8, otherwise its standard base64 with encoding "base64", so binary
// content survives the trip instead of being mangled into U+FFFD.
func encodeText(b []byte) (content, encoding string) {
	if utf8.Valid(b) {
		return string(b), ""
	}
	return base64.StdEncoding.EncodeToString(b), "base64"
}

// trimPartialRune drops a UTF-8 sequence cut short at the end of b, so that a
// text read truncated mid-character is still text.
func trimPartialRune(b []byte) []byte {
	for i := 1; i < utf8.UTFMax && i <= len(b); i++ {
		if utf8.RuneStart(b[len(b)-i]) {
			if !utf8.FullRune(b[len(b)-i:]) {
				return b[:len(b)-i]
			}
			return b
		}
	}
	return b
}

func marshal(tool string, v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, &wire.Error{Code: wire.CodeInternal, Skill: tool, Message: "encode output: " + err.Error()}
	}
	return b, nil
}

func invalid(tool, msg string) *wire.Error {
	return &wire.Error{Code: wire.CodeInvalidInput, Skill: tool, Message: msg}
}

func denied(tool, msg string) *wire.Error {
	return &wire.Error{Code: wire.CodeToolDenied, Skill: tool, Message: msg}
}

func failed(tool, msg string) *wire.Error {
	return &wire.Error{Code: wire.CodeToolFailed, Skill: tool, Message: msg}
}
