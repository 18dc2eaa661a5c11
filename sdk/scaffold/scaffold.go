// Package scaffold writes a new skill folder (`skills init`): a SKILL.md and a
// main.go that build and run as they are, for either runtime. The same
// main.go serves both; only the SKILL.md's metadata.runtime and entry differ.
package scaffold

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"

	"github.com/skillsdev/skills/sdk/manifest"
)

// ModulePath is the module the generated code imports the SDK from.
const ModulePath = "github.com/skillsdev/skills"

var nameRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Options says what to create.
type Options struct {
	Dir     string           // the new folder; its base name is the skill's name
	Runtime manifest.Runtime // wasm or plugin
	// SDKDir is a checkout of ModulePath to build against when Dir is not
	// inside a module that already provides the SDK. Empty: look upward from
	// Dir and from the working folder for such a checkout.
	SDKDir string
	// SDKVersion, when set and SDKDir is empty, is the released version of
	// ModulePath to require instead of a local checkout.
	SDKVersion string
	Go         string // go command, default "go"
}

// Create writes the skill folder. It refuses to overwrite an existing
// SKILL.md or main.go. When the folder is outside a module that provides the
// SDK, it also writes a go.mod (and runs `go mod tidy`) so the skill builds
// on its own.
func Create(ctx context.Context, o Options) ([]string, error) {
	name := filepath.Base(filepath.Clean(o.Dir))
	if !nameRE.MatchString(name) || len(name) > 64 {
		return nil, fmt.Errorf("init %s: %q is not a valid skill name (1-64 characters: lowercase letters, digits, single hyphens between them)", o.Dir, name)
	}
	entry := ""
	switch o.Runtime {
	case manifest.RuntimeWasm:
		entry = name + ".wasm"
	case manifest.RuntimePlugin:
		entry = name
	default:
		return nil, fmt.Errorf("init %s: runtime must be wasm or plugin, not %q", o.Dir, o.Runtime)
	}
	for _, f := range []string{"SKILL.md", "main.go"} {
		if _, err := os.Stat(filepath.Join(o.Dir, f)); err == nil {
			return nil, fmt.Errorf("init %s: %s already exists; refusing to overwrite it", o.Dir, f)
		}
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("init %s: %w", o.Dir, err)
	}
	data := map[string]string{"Name": name, "Runtime": string(o.Runtime), "Entry": entry}
	files := map[string]*template.Template{"SKILL.md": skillTmpl, "main.go": mainTmpl, ".gitignore": ignoreTmpl}
	var written []string
	for _, f := range []string{"SKILL.md", "main.go", ".gitignore"} {
		var b bytes.Buffer
		if err := files[f].Execute(&b, data); err != nil {
			return nil, fmt.Errorf("init %s: %s: %w", o.Dir, f, err)
		}
		p := filepath.Join(o.Dir, f)
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			return nil, fmt.Errorf("init %s: %w", o.Dir, err)
		}
		written = append(written, p)
	}
	gomod, err := ensureModule(ctx, o, name)
	if err != nil {
		return written, err
	}
	if gomod != "" {
		written = append(written, gomod)
	}
	return written, nil
}

// ensureModule makes the new folder buildable: nothing to do inside a module
// that provides the SDK; otherwise a go.mod requiring it.
func ensureModule(ctx context.Context, o Options, name string) (string, error) {
	abs, err := filepath.Abs(o.Dir)
	if err != nil {
		return "", fmt.Errorf("init %s: %w", o.Dir, err)
	}
	if mod, path := enclosingModule(abs); mod != "" && providesSDK(mod, path) {
		return "", nil
	}
	var req string
	switch {
	case o.SDKDir != "":
		d, err := filepath.Abs(o.SDKDir)
		if err != nil {
			return "", fmt.Errorf("init %s: %w", o.Dir, err)
		}
		if mod, _ := readModule(filepath.Join(d, "go.mod")); mod != ModulePath {
			return "", fmt.Errorf("init %s: --sdk %s is not a checkout of %s (no go.mod declaring it)", o.Dir, o.SDKDir, ModulePath)
		}
		req = fmt.Sprintf("require %s v0.0.0\n\nreplace %s => %s\n", ModulePath, ModulePath, d)
	case o.SDKVersion != "":
		req = fmt.Sprintf("require %s %s\n", ModulePath, o.SDKVersion)
	default:
		wd, _ := os.Getwd()
		for _, start := range []string{abs, wd} {
			if mod, path := enclosingModule(start); mod == ModulePath {
				req = fmt.Sprintf("require %s v0.0.0\n\nreplace %s => %s\n", ModulePath, ModulePath, filepath.Dir(path))
				break
			}
		}
		if req == "" {
			return "", fmt.Errorf("init %s: the folder is outside a Go module that provides %s; pass --sdk DIR (a checkout of it) so the skill can build", o.Dir, ModulePath)
		}
	}
	gomod := filepath.Join(o.Dir, "go.mod")
	content := fmt.Sprintf("module %s\n\ngo 1.26\n\n%s", name, req)
	if err := os.WriteFile(gomod, []byte(content), 0o644); err != nil {
		return "", fmt.Errorf("init %s: %w", o.Dir, err)
	}
	goCmd := o.Go
	if goCmd == "" {
		goCmd = "go"
	}
	cmd := exec.CommandContext(ctx, goCmd, "mod", "tidy")
	cmd.Dir = o.Dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return gomod, fmt.Errorf("init %s: go mod tidy: %s", o.Dir, strings.TrimSpace(string(out)))
	}
	return gomod, nil
}

// enclosingModule finds the go.mod at or above dir and returns its module path and file.
func enclosingModule(dir string) (string, string) {
	for d := dir; ; d = filepath.Dir(d) {
		p := filepath.Join(d, "go.mod")
		if mod, err := readModule(p); err == nil {
			return mod, p
		}
		if filepath.Dir(d) == d {
			return "", ""
		}
	}
}

func readModule(gomod string) (string, error) {
	b, err := os.ReadFile(gomod)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`), nil
		}
	}
	return "", errors.New("no module line")
}

// providesSDK reports whether the module at path is the SDK's or requires it.
func providesSDK(mod, path string) bool {
	if mod == ModulePath {
		return true
	}
	b, err := os.ReadFile(path)
	return err == nil && bytes.Contains(b, []byte(ModulePath+" "))
}

var skillTmpl = template.Must(template.New("SKILL.md").Parse(`---
name: {{.Name}}
description: Greets the caller and measures the text it was given. Replace this with what your skill does; the model reads it to decide when to call the skill.
license: Apache-2.0
allowed-tools: now
metadata:
  version: 0.1.0
  runtime: {{.Runtime}}
  entry: {{.Entry}}
  timeout: 5s
---
# {{.Name}}

Describe the skill for people and models: what it does, when to use it,
and an example call.

    skills run {{.Name}} --input '{"text": "hello"}'

## Input

` + "```json" + `
{
  "type": "object",
  "properties": {
    "text": {"type": "string", "description": "Text to greet and measure."}
  },
  "required": ["text"]
}
` + "```" + `

## Output

` + "```json" + `
{
  "type": "object",
  "properties": {
    "greeting": {"type": "string"},
    "characters": {"type": "integer"},
    "at": {"type": "string", "description": "host time of the call (RFC 3339)"}
  }
}
` + "```" + `
`))

var mainTmpl = template.Must(template.New("main.go").Parse(`// Command {{.Name}} is a skill. The same code builds for both runtimes:
// ` + "`skills build`" + ` picks the target from SKILL.md's metadata.runtime.
package main

import (
	"encoding/json"
	"unicode/utf8"

	"github.com/skillsdev/skills/sdk"
)

type input struct {
	Text string ` + "`json:\"text\"`" + `
}

type output struct {
	Greeting   string ` + "`json:\"greeting\"`" + `
	Characters int    ` + "`json:\"characters\"`" + `
	At         string ` + "`json:\"at,omitempty\"`" + `
}

func handle(ctx sdk.Context, raw json.RawMessage) (any, error) {
	var in input
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, sdk.Errorf(sdk.ErrInvalidInput.Code, "decode input: %v", err)
	}
	out := output{Greeting: "Hello, " + in.Text + "!", Characters: utf8.RuneCountInString(in.Text)}
	// Host tools are typed: a denial or failure is an *sdk.Error with a Code.
	if res, err := ctx.CallTool("now", nil); err == nil {
		var now struct {
			Time string ` + "`json:\"time\"`" + `
		}
		if json.Unmarshal(res, &now) == nil {
			out.At = now.Time
		}
	} else {
		ctx.Log(sdk.LevelWarn, "now: "+err.Error())
	}
	return out, nil
}

func main() { sdk.Serve(handle) }
`))

var ignoreTmpl = template.Must(template.New(".gitignore").Parse("/{{.Entry}}\n"))
