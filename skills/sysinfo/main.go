// Command sysinfo is the sysinfo skill: it reports the machine it runs on
// (OS, architecture, CPUs, Go version, hostname, load, memory, uptime). It
// is a go-plugin binary because a wasm sandbox cannot see any of that (see
// SKILL.md).
package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"slices"
	"strings"

	"github.com/skillsdev/skills/sdk"
	"github.com/skillsdev/skills/sdk/wire"
	"github.com/skillsdev/skills/skills/internal/skillkit"
)

func main() { sdk.Serve(handle) }

// allFields are the selectable fields, in output order.
var allFields = []string{"os", "arch", "cpus", "go_version", "hostname", "load", "memory", "uptime"}

// input is the skill's input; a nil Fields means all fields.
type input struct {
	Fields []string `json:"fields"`
}

// info is the skill's output: the selected fields that could be read, and
// why the others could not.
type info struct {
	OS          *string       `json:"os,omitempty"`
	Arch        *string       `json:"arch,omitempty"`
	CPUs        *int          `json:"cpus,omitempty"`
	GoVersion   *string       `json:"go_version,omitempty"`
	Hostname    *string       `json:"hostname,omitempty"`
	Load        *load         `json:"load,omitempty"`
	Memory      *memory       `json:"memory,omitempty"`
	Uptime      *uptime       `json:"uptime,omitempty"`
	Unavailable []unavailable `json:"unavailable,omitempty"`
}

type unavailable struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// machine is where the facts come from, so that tests can give fixtures.
type machine struct {
	goos, goarch, goVersion string
	numCPU                  int
	hostname                func() (string, error)
	proc                    fs.FS // the /proc file system; nil where there is none
}

// thisMachine is the machine the plugin process runs on.
func thisMachine() machine {
	m := machine{
		goos: runtime.GOOS, goarch: runtime.GOARCH, goVersion: runtime.Version(),
		numCPU: runtime.NumCPU(), hostname: os.Hostname,
	}
	if runtime.GOOS == "linux" {
		m.proc = os.DirFS("/proc")
	}
	return m
}

func handle(_ sdk.Context, raw json.RawMessage) (any, error) {
	var in input
	if err := skillkit.Decode(raw, &in); err != nil {
		return nil, err
	}
	fields, err := selectFields(in.Fields)
	if err != nil {
		return nil, err
	}
	return thisMachine().collect(fields), nil
}

// selectFields checks the requested fields; none requested means all.
func selectFields(requested []string) (map[string]bool, error) {
	if requested == nil {
		requested = allFields
	}
	if len(requested) == 0 {
		return nil, sdk.Errorf(wire.CodeInvalidInput, "input: fields is empty: list at least one of %s, or leave fields out for all", strings.Join(allFields, ", "))
	}
	sel := make(map[string]bool, len(requested))
	for _, f := range requested {
		if !slices.Contains(allFields, f) {
			return nil, sdk.Errorf(wire.CodeInvalidInput, "input: unknown field %q: want one of %s", f, strings.Join(allFields, ", "))
		}
		sel[f] = true
	}
	return sel, nil
}

// collect reads the selected fields. A field that cannot be read is listed
// under Unavailable with the reason, and the others are still reported.
func (m machine) collect(sel map[string]bool) info {
	var out info
	missing := func(field string, err error) {
		out.Unavailable = append(out.Unavailable, unavailable{Field: field, Reason: err.Error()})
	}
	if sel["os"] {
		out.OS = &m.goos
	}
	if sel["arch"] {
		out.Arch = &m.goarch
	}
	if sel["cpus"] {
		out.CPUs = &m.numCPU
	}
	if sel["go_version"] {
		out.GoVersion = &m.goVersion
	}
	if sel["hostname"] {
		if h, err := m.hostname(); err != nil {
			missing("hostname", err)
		} else {
			out.Hostname = &h
		}
	}
	if sel["load"] {
		if l, err := readProc(m, "loadavg", parseLoadavg); err != nil {
			missing("load", err)
		} else {
			out.Load = &l
		}
	}
	if sel["memory"] {
		if mem, err := readProc(m, "meminfo", parseMeminfo); err != nil {
			missing("memory", err)
		} else {
			out.Memory = &mem
		}
	}
	if sel["uptime"] {
		if u, err := readProc(m, "uptime", parseUptime); err != nil {
			missing("uptime", err)
		} else {
			out.Uptime = &u
		}
	}
	return out
}

// readProc reads and parses one file of /proc.
func readProc[T any](m machine, name string, parse func(string) (T, error)) (T, error) {
	var zero T
	if m.proc == nil {
		return zero, fmt.Errorf("needs /proc, which %s does not have", m.goos)
	}
	b, err := fs.ReadFile(m.proc, name)
	if err != nil {
		return zero, fmt.Errorf("read /proc/%s: %w", name, err)
	}
	return parse(string(b))
}
