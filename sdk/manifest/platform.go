package manifest

import (
	"fmt"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
)

// Bounds of the platform fields.
const (
	maxTimeout    = 10 * time.Minute
	minMemory     = 1 << 20 // below this no Go guest starts
	maxWasmMemory = 4 << 30 // wasm32 addresses at most 4 GiB of linear memory
)

// platform reads the keys under metadata that this platform defines. The
// runtime comes first because the other rules depend on it.
func (p *parser) platform() error {
	md := p.m.Metadata
	p.m.Runtime = RuntimeInstructions
	if s, ok := md["runtime"]; ok {
		switch rt := Runtime(s); rt {
		case RuntimeWasm, RuntimePlugin, RuntimeInstructions:
			p.m.Runtime = rt
		default:
			return p.errf(p.metaLine("runtime"), "metadata.runtime %q is not one of wasm, plugin, instructions", s)
		}
	}
	code := p.m.Runtime != RuntimeInstructions

	if s, ok := md["version"]; ok {
		v, err := semver.StrictNewVersion(s)
		if err != nil {
			return p.errf(p.metaLine("version"), "metadata.version %q is not strict semver (MAJOR.MINOR.PATCH, e.g. 1.2.0, no leading v): %v", s, err)
		}
		p.m.Version = v
	} else if code {
		return p.errf(p.metaLine("runtime"), "metadata.version is required for a %s skill (strict semver, e.g. 1.0.0)", p.m.Runtime)
	}

	if s, ok := md["entry"]; ok {
		if !code {
			return p.errf(p.metaLine("entry"), "metadata.entry is set but the skill is an instructions skill, which has no artifact: set metadata.runtime to wasm or plugin, or remove entry")
		}
		if err := checkEntry(s); err != nil {
			return p.errf(p.metaLine("entry"), "metadata.entry %q %v", s, err)
		}
		p.m.Entry = s
	} else if code {
		return p.errf(p.metaLine("runtime"), "metadata.entry is required for a %s skill: the artifact's path inside the skill folder, e.g. %s", p.m.Runtime, exampleEntry(p.m))
	}

	if s, ok := md["timeout"]; ok {
		d, err := time.ParseDuration(s)
		switch {
		case err != nil:
			return p.errf(p.metaLine("timeout"), "metadata.timeout %q is not a Go duration (e.g. 500ms, 5s, 2m)", s)
		case d <= 0:
			return p.errf(p.metaLine("timeout"), "metadata.timeout %q must be positive", s)
		case d > maxTimeout:
			return p.errf(p.metaLine("timeout"), "metadata.timeout %q is over the %v maximum", s, maxTimeout)
		}
		p.m.Timeout = d
	}

	if s, ok := md["memory"]; ok {
		n, err := ParseMemory(s)
		switch {
		case err != nil:
			return p.errf(p.metaLine("memory"), "metadata.memory: %v", err)
		case n < minMemory:
			return p.errf(p.metaLine("memory"), "metadata.memory %q is below the 1MiB minimum", s)
		case p.m.Runtime == RuntimeWasm && n > maxWasmMemory:
			return p.errf(p.metaLine("memory"), "metadata.memory %q is over the 4GiB a wasm32 module can address", s)
		}
		p.m.Memory = n
	}

	if s, ok := md["reentrant"]; ok {
		switch s {
		case "true":
			p.m.Reentrant = true
		case "false":
		default:
			return p.errf(p.metaLine("reentrant"), "metadata.reentrant %q must be true or false", s)
		}
	}
	return nil
}

// metaLine is the file line of a metadata key, or of the metadata key
// itself when absent, or 1 when there is no metadata.
func (p *parser) metaLine(key string) int {
	if l, ok := p.metaLines[key]; ok {
		return l
	}
	return p.keyLine("metadata")
}

func exampleEntry(m *Manifest) string {
	if m.Runtime == RuntimeWasm {
		return m.Name + ".wasm"
	}
	return m.Name
}

// checkEntry keeps the artifact path inside the skill folder and spelled
// one way on every OS, so that the marketplace hashes and the host opens
// the same file.
func checkEntry(e string) error {
	switch {
	case e == "":
		return fmt.Errorf("is empty")
	case strings.Contains(e, `\`):
		return fmt.Errorf("must use forward slashes")
	case path.IsAbs(e) || filepath.IsAbs(e) || filepath.VolumeName(e) != "":
		return fmt.Errorf("must be relative to the skill folder, not absolute")
	}
	for _, elem := range strings.Split(e, "/") {
		if elem == ".." {
			return fmt.Errorf("must not contain .. (it would point outside the skill folder)")
		}
	}
	if c := path.Clean(e); c != e || c == "." {
		return fmt.Errorf("must be a clean path (no ./, // or trailing /): write %q", c)
	}
	return nil
}

// ParseMemory parses a memory size: a whole number of bytes, optionally
// followed by B, KiB, MiB or GiB ("64MiB", "512KiB", "1GiB", "1048576").
// Decimal units (MB, GB) are refused rather than guessed at.
func ParseMemory(s string) (uint64, error) {
	num, mult := s, uint64(1)
	for _, u := range []struct {
		suffix string
		mult   uint64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"B", 1}} {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			num, mult = n, u.mult
			break
		}
	}
	bad := fmt.Errorf("%q is not a size: write a whole number of bytes with an optional unit B, KiB, MiB or GiB, e.g. 64MiB", s)
	if num == "" || strings.TrimLeft(num, "0123456789") != "" {
		return 0, bad
	}
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil || n > ^uint64(0)/mult {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return n * mult, nil
}
