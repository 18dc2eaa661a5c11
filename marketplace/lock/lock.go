// Package lock reads and writes $SKILLS_HOME/skills.lock, the record of what
// is installed, and holds the process lock that serializes the commands
// changing it.
//
// The lock file is the single commit point of an install: packages are
// unpacked into the content-addressed store first, and only writing the lock
// makes them installed. It is written with write-temp, fsync, rename, fsync
// of the folder, so that a crash leaves the old lock or the new one, never a
// mix. Its JSON is canonical (keys sorted, two-space indent, UTC times,
// trailing newline): the same Lock always gives the same bytes.
//
//	{
//	  "schema": 1,
//	  "skills": {
//	    "summarize": {
//	      "artifact": {"path": "summarize.wasm", "sha256": "…"},
//	      "files": {"SKILL.md": "…", "summarize.wasm": "…"},
//	      "index_version": 7,
//	      "installed": "2026-09-15T12:00:00Z",
//	      "pinned": {"reason": "1.1 breaks the fleet", "time": "…", "version": "1.0.0"},
//	      "platform": "any",
//	      "registry": "bundled",
//	      "requested": "^1.0",
//	      "requires": {"wordcount": "^1.0"},
//	      "runtime": "wasm",
//	      "sha256": "…",
//	      "size": 81234,
//	      "version": "1.0.0"
//	    }
//	  }
//	}
//
// sha256 and size pin the package archive as the index listed it; files
// holds the SHA-256 of every file unpacked from it (what `skills verify`
// re-hashes) and artifact the entry file the host verifies before running
// it. requested is the constraint the user asked for; dependencies have
// none. A damaged lock is reported with its file and line and is never
// overwritten.
package lock

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/skillsdev/skills/sdk/manifest"
)

// FileName is the lock's name inside $SKILLS_HOME.
const FileName = "skills.lock"

// SchemaVersion is the value of "schema" this package reads and writes.
const SchemaVersion = 1

// MaxSize caps the lock file; a lock of a thousand skills is well under 1 MiB.
const MaxSize = 64 << 20

// Lock is the set of installed skills.
type Lock struct {
	Skills map[string]*Entry // by skill name
}

// Entry is one installed skill.
type Entry struct {
	Version      string
	Runtime      manifest.Runtime
	Platform     string            // the index artifact key: "any" or "goos/goarch"
	SHA256       string            // of the package archive
	Size         int64             // of the package archive
	Artifact     *Artifact         // the entry file; nil for instructions skills
	Files        map[string]string // slash path in the package -> SHA-256
	Requires     map[string]string // skill name -> constraint, from the index
	Registry     string            // the registry it was installed from
	IndexVersion int64             // that registry's index version at install time
	Requested    string            // the constraint the user asked for; "" for a dependency
	Pinned       *Pin              // nil unless pinned
	Installed    time.Time
}

// Artifact is the file the host runs, with the digest it verifies first.
type Artifact struct {
	Path   string // slash path inside the package (metadata.entry)
	SHA256 string
}

// Pin holds a skill at exactly one version.
type Pin struct {
	Version string
	Reason  string
	Time    time.Time
}

// New returns an empty lock.
func New() *Lock { return &Lock{Skills: map[string]*Entry{}} }

// Names returns the installed skill names, sorted.
func (l *Lock) Names() []string {
	names := make([]string, 0, len(l.Skills))
	for n := range l.Skills {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Dependents returns the installed skills that require name directly,
// sorted.
func (l *Lock) Dependents(name string) []string {
	var out []string
	for n, e := range l.Skills {
		if _, ok := e.Requires[name]; ok {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// Clone returns a deep copy, so a change can be prepared without touching
// the lock it started from.
func (l *Lock) Clone() *Lock {
	c := New()
	for n, e := range l.Skills {
		c.Skills[n] = e.Clone()
	}
	return c
}

// Clone returns a deep copy of e.
func (e *Entry) Clone() *Entry {
	c := *e
	if e.Artifact != nil {
		a := *e.Artifact
		c.Artifact = &a
	}
	if e.Pinned != nil {
		p := *e.Pinned
		c.Pinned = &p
	}
	c.Files = make(map[string]string, len(e.Files))
	for k, v := range e.Files {
		c.Files[k] = v
	}
	c.Requires = make(map[string]string, len(e.Requires))
	for k, v := range e.Requires {
		c.Requires[k] = v
	}
	return &c
}

// Order returns the installed names with every skill after the skills it
// requires (ties by name). Requirements that are not installed are ignored;
// a cycle (which installs refuse) is broken by name so the result is still
// complete.
func (l *Lock) Order() []string {
	names := l.Names()
	done := make(map[string]bool, len(names))
	out := make([]string, 0, len(names))
	var visit func(n string, active map[string]bool)
	visit = func(n string, active map[string]bool) {
		if done[n] || active[n] {
			return
		}
		active[n] = true
		e := l.Skills[n]
		deps := make([]string, 0, len(e.Requires))
		for d := range e.Requires {
			if _, ok := l.Skills[d]; ok {
				deps = append(deps, d)
			}
		}
		sort.Strings(deps)
		for _, d := range deps {
			visit(d, active)
		}
		delete(active, n)
		done[n] = true
		out = append(out, n)
	}
	for _, n := range names {
		visit(n, map[string]bool{})
	}
	return out
}

// Error is a problem with a lock file, located by line when possible.
type Error struct {
	File string
	Line int // 0 when the problem is not at one place
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Msg
	}
	return e.File + ": " + e.Msg
}

// Load reads home/skills.lock. A missing file is an empty lock; a damaged one
// is an *Error naming the file and line (and telling how to recover).
func Load(home string) (*Lock, error) {
	file := filepath.Join(home, FileName)
	f, err := os.Open(file)
	if errors.Is(err, os.ErrNotExist) {
		return New(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read lock: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read lock %s: %w", file, err)
	}
	if len(data) > MaxSize {
		return nil, &Error{File: file, Msg: fmt.Sprintf("larger than %d bytes", MaxSize)}
	}
	l, err := Parse(file, data)
	if err != nil {
		var le *Error
		if errors.As(err, &le) {
			le.Msg += " (the lock is left as it is: fix it, or restore it from a backup)"
		}
		return nil, err
	}
	return l, nil
}

type (
	wireLock struct {
		Schema int                   `json:"schema"`
		Skills map[string]*wireEntry `json:"skills"`
	}
	wireEntry struct {
		Artifact     *wireArtifact     `json:"artifact,omitempty"`
		Files        map[string]string `json:"files"`
		IndexVersion int64             `json:"index_version"`
		Installed    string            `json:"installed"`
		Pinned       *wirePin          `json:"pinned,omitempty"`
		Platform     string            `json:"platform"`
		Registry     string            `json:"registry"`
		Requested    string            `json:"requested,omitempty"`
		Requires     map[string]string `json:"requires,omitempty"`
		Runtime      string            `json:"runtime"`
		SHA256       string            `json:"sha256"`
		Size         int64             `json:"size"`
		Version      string            `json:"version"`
	}
	wireArtifact struct {
		Path   string `json:"path"`
		SHA256 string `json:"sha256"`
	}
	wirePin struct {
		Reason  string `json:"reason,omitempty"`
		Time    string `json:"time"`
		Version string `json:"version"`
	}
)

// Parse decodes and validates a lock. file names it in errors.
func Parse(file string, data []byte) (*Lock, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var w wireLock
	if err := dec.Decode(&w); err != nil {
		line := lineAt(data, errOffset(err, dec))
		if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			// The decoder has read the whole value by now: find the key.
			if l := anyKeyLine(data, strings.Trim(field, `"`)); l > 0 {
				line = l
			}
		}
		return nil, &Error{File: file, Line: line, Msg: "not a valid lock: " + strings.TrimPrefix(err.Error(), "json: ")}
	}
	if off := dec.InputOffset(); len(bytes.TrimSpace(data[off:])) > 0 {
		rest := data[off:]
		skip := len(rest) - len(bytes.TrimLeft(rest, " \t\r\n"))
		return nil, &Error{File: file, Line: lineAt(data, off+int64(skip)), Msg: "unexpected data after the lock"}
	}
	if w.Schema != SchemaVersion {
		return nil, &Error{File: file, Line: keyLine(data, "schema"), Msg: fmt.Sprintf("unsupported lock schema %d (this version reads %d)", w.Schema, SchemaVersion)}
	}
	l := New()
	names := make([]string, 0, len(w.Skills))
	for n := range w.Skills {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		e, err := fromWire(n, w.Skills[n])
		if err != nil {
			return nil, &Error{File: file, Line: keyLine(data, "skills", n), Msg: fmt.Sprintf("skill %q: %v", n, err)}
		}
		l.Skills[n] = e
	}
	return l, nil
}

var (
	namePattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	hexSHA256   = regexp.MustCompile(`^[0-9a-f]{64}$`)
	platformKey = regexp.MustCompile(`^(any|[a-z0-9]+/[a-z0-9]+)$`)
)

func validName(s string) bool { return len(s) <= 64 && namePattern.MatchString(s) }

func fromWire(name string, w *wireEntry) (*Entry, error) {
	if !validName(name) {
		return nil, errors.New("invalid skill name")
	}
	if w == nil {
		return nil, errors.New("null entry")
	}
	e := &Entry{
		Version: w.Version, Runtime: manifest.Runtime(w.Runtime), Platform: w.Platform,
		SHA256: w.SHA256, Size: w.Size, Files: w.Files, Requires: w.Requires,
		Registry: w.Registry, IndexVersion: w.IndexVersion, Requested: w.Requested,
	}
	if e.Files == nil {
		e.Files = map[string]string{}
	}
	if e.Requires == nil {
		e.Requires = map[string]string{}
	}
	var err error
	if e.Installed, err = time.Parse(time.RFC3339, w.Installed); err != nil {
		return nil, fmt.Errorf("installed: want an RFC 3339 time, got %q", w.Installed)
	}
	if a := w.Artifact; a != nil {
		e.Artifact = &Artifact{Path: a.Path, SHA256: a.SHA256}
	}
	if p := w.Pinned; p != nil {
		e.Pinned = &Pin{Version: p.Version, Reason: p.Reason}
		if e.Pinned.Time, err = time.Parse(time.RFC3339, p.Time); err != nil {
			return nil, fmt.Errorf("pinned.time: want an RFC 3339 time, got %q", p.Time)
		}
	}
	return e, e.validate(name)
}

// validate checks an entry's fields; Parse and Encode both run it.
func (e *Entry) validate(name string) error {
	if _, err := semver.StrictNewVersion(e.Version); err != nil {
		return fmt.Errorf("version %q is not strict semver", e.Version)
	}
	switch e.Runtime {
	case manifest.RuntimeWasm, manifest.RuntimePlugin, manifest.RuntimeInstructions:
	default:
		return fmt.Errorf("unknown runtime %q", e.Runtime)
	}
	if !platformKey.MatchString(e.Platform) {
		return fmt.Errorf("platform %q: want any or goos/goarch", e.Platform)
	}
	if !hexSHA256.MatchString(e.SHA256) {
		return fmt.Errorf("sha256 %q: want 64 lowercase hex digits", e.SHA256)
	}
	if e.Size < 1 {
		return fmt.Errorf("size %d: want at least 1", e.Size)
	}
	if !validName(e.Registry) {
		return fmt.Errorf("registry %q: invalid name", e.Registry)
	}
	if e.IndexVersion < 1 {
		return fmt.Errorf("index_version %d: want at least 1", e.IndexVersion)
	}
	if e.Installed.IsZero() {
		return errors.New("installed: missing")
	}
	if len(e.Files) == 0 {
		return errors.New("files: empty")
	}
	for p, sum := range e.Files {
		if !fileName(p) {
			return fmt.Errorf("files: %q is not a clean relative slash path", p)
		}
		if !hexSHA256.MatchString(sum) {
			return fmt.Errorf("files[%q]: want 64 lowercase hex digits", p)
		}
	}
	if _, ok := e.Files[manifest.FileName]; !ok {
		return fmt.Errorf("files: no %s", manifest.FileName)
	}
	if a := e.Artifact; a != nil {
		if e.Runtime == manifest.RuntimeInstructions {
			return errors.New("artifact: an instructions skill has none")
		}
		if sum, ok := e.Files[a.Path]; !ok || sum != a.SHA256 {
			return fmt.Errorf("artifact %q: not among files with that sha256", a.Path)
		}
	} else if e.Runtime != manifest.RuntimeInstructions {
		return fmt.Errorf("artifact: missing for a %s skill", e.Runtime)
	}
	for dep, c := range e.Requires {
		if !validName(dep) || dep == name {
			return fmt.Errorf("requires: invalid skill name %q", dep)
		}
		if _, err := semver.NewConstraint(c); err != nil {
			return fmt.Errorf("requires[%q]: invalid constraint %q", dep, c)
		}
	}
	if e.Requested != "" {
		if _, err := semver.NewConstraint(e.Requested); err != nil {
			return fmt.Errorf("requested: invalid constraint %q", e.Requested)
		}
	}
	if p := e.Pinned; p != nil {
		if p.Version != e.Version {
			return fmt.Errorf("pinned to %q but version is %q", p.Version, e.Version)
		}
		if p.Time.IsZero() {
			return errors.New("pinned.time: missing")
		}
	}
	return nil
}

func fileName(p string) bool {
	return p != "" && p != "." && !strings.HasPrefix(p, "/") && path.Clean(p) == p &&
		!strings.HasPrefix(p, "../") && p != ".." && !strings.Contains(p, `\`)
}

// Encode returns the canonical bytes of l after validating every entry.
func Encode(l *Lock) ([]byte, error) {
	w := wireLock{Schema: SchemaVersion, Skills: make(map[string]*wireEntry, len(l.Skills))}
	for _, n := range l.Names() {
		e := l.Skills[n]
		if !validName(n) {
			return nil, fmt.Errorf("encode lock: invalid skill name %q", n)
		}
		if err := e.validate(n); err != nil {
			return nil, fmt.Errorf("encode lock: skill %q: %w", n, err)
		}
		we := &wireEntry{
			Files: e.Files, IndexVersion: e.IndexVersion, Installed: stamp(e.Installed),
			Platform: e.Platform, Registry: e.Registry, Requested: e.Requested, Runtime: string(e.Runtime),
			SHA256: e.SHA256, Size: e.Size, Version: e.Version,
		}
		if len(e.Requires) > 0 {
			we.Requires = e.Requires
		}
		if a := e.Artifact; a != nil {
			we.Artifact = &wireArtifact{Path: a.Path, SHA256: a.SHA256}
		}
		if p := e.Pinned; p != nil {
			we.Pinned = &wirePin{Reason: p.Reason, Time: stamp(p.Time), Version: p.Version}
		}
		w.Skills[n] = we
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(w); err != nil {
		return nil, fmt.Errorf("encode lock: %w", err)
	}
	return buf.Bytes(), nil
}

// stamp writes a time in UTC with whole seconds: the lock records when, not
// how precisely.
func stamp(t time.Time) string { return t.UTC().Truncate(time.Second).Format(time.RFC3339) }

// Save writes l to home/skills.lock atomically and durably: a temporary file
// in home, fsync, rename over the lock, fsync of home. Temporary files left
// by a process killed while saving are removed.
func Save(home string, l *Lock) error {
	data, err := Encode(l)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(home, 0o755); err != nil {
		return fmt.Errorf("write lock: %w", err)
	}
	if err := writeAtomic(filepath.Join(home, FileName), data); err != nil {
		return fmt.Errorf("write lock: %w", err)
	}
	return nil
}

const tmpPrefix = "." + FileName + ".tmp-"

func writeAtomic(file string, data []byte) error {
	dir := filepath.Dir(file)
	if olds, _ := filepath.Glob(filepath.Join(dir, tmpPrefix+"*")); len(olds) > 0 {
		for _, o := range olds {
			os.Remove(o)
		}
	}
	f, err := os.CreateTemp(dir, tmpPrefix+"*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op once renamed
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, file); err != nil {
		return err
	}
	return syncDir(dir)
}

// errOffset finds the byte offset a decoding error refers to.
func errOffset(err error, dec *json.Decoder) int64 {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return se.Offset
	case errors.As(err, &te):
		return te.Offset
	}
	return dec.InputOffset()
}

// lineAt returns the 1-based line holding byte offset off.
func lineAt(data []byte, off int64) int {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if off < 0 {
		off = 0
	}
	return bytes.Count(data[:off], []byte("\n")) + 1
}

// anyKeyLine returns the line of the first object key named key at any
// depth, or 0.
func anyKeyLine(data []byte, key string) int {
	return walkKeys(data, func(path []string) bool { return path[len(path)-1] == key })
}

// keyLine returns the line of the object key at path (e.g. "skills",
// "summarize"), or 0 when it cannot be found.
func keyLine(data []byte, keyPath ...string) int {
	return walkKeys(data, func(path []string) bool { return slices.Equal(path, keyPath) })
}

// walkKeys returns the line of the first object key whose path (the keys
// leading to it, itself last) satisfies match, or 0.
func walkKeys(data []byte, match func(path []string) bool) int {
	dec := json.NewDecoder(bytes.NewReader(data))
	type frame struct {
		object, wantKey bool
		key             string
	}
	var stack []frame
	matches := func() bool {
		path := make([]string, len(stack))
		for i, f := range stack {
			path[i] = f.key
		}
		return match(path)
	}
	for {
		before := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return 0
		}
		if key, isKey := tok.(string); isKey && len(stack) > 0 && stack[len(stack)-1].object && stack[len(stack)-1].wantKey {
			top := &stack[len(stack)-1]
			top.key = key
			top.wantKey = false
			if matches() {
				// before is the end of the previous token; skip to the key.
				rest := data[before:]
				i := bytes.IndexByte(rest, '"')
				if i < 0 {
					i = 0
				}
				return lineAt(data, before+int64(i))
			}
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{object: true, wantKey: true})
			continue
		case json.Delim('['):
			stack = append(stack, frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		// A value ended: the enclosing object expects a key next.
		if len(stack) > 0 && stack[len(stack)-1].object {
			stack[len(stack)-1].wantKey = true
		}
	}
}
