// Package overlay is the dev overlay of a skills home: the source folders
// that `skills dev` is working on, which a watching agent loads over the
// installed skills of the same name.
//
// Each registration is a small JSON file, $SKILLS_HOME/dev/NAME.json:
//
//	{"name": "wordcount", "dir": "/home/me/skills/wordcount", "pid": 4242, "since": "2026-09-15T12:00:00Z"}
//
// written atomically (temp file, rename) so a watcher never reads half of
// one. `skills dev` writes it on start and removes it on exit; a
// registration whose process is gone (killed without cleaning up) is
// ignored. A process that watches the dev folder (the agent with --watch)
// sees registrations come and go.
package overlay

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/skillsdev/skills/host"
	"github.com/skillsdev/skills/sdk/manifest"
)

// Dir is the folder of registrations inside the skills home.
const Dir = "dev"

// maxSize bounds a registration file; real ones are a few hundred bytes.
const maxSize = 64 << 10

// Entry is one registered source folder.
type Entry struct {
	Name  string    `json:"name"`
	Dir   string    `json:"dir"` // absolute
	PID   int       `json:"pid"` // the `skills dev` process; 0 means no owner check
	Since time.Time `json:"since"`
}

// Path returns the registration file of name in home.
func Path(home, name string) string {
	return filepath.Join(home, Dir, name+".json")
}

// Register records dir (a skill folder; its SKILL.md must parse) as the dev
// version of its skill, owned by process pid, and returns the entry. An
// existing registration of the same skill is replaced.
func Register(home, dir string, pid int) (Entry, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Entry{}, fmt.Errorf("dev %s: %w", dir, err)
	}
	m, err := manifest.Load(abs)
	if err != nil {
		return Entry{}, fmt.Errorf("dev %s: %w", dir, err)
	}
	e := Entry{Name: m.Name, Dir: abs, PID: pid, Since: time.Now().UTC().Truncate(time.Second)}
	data, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return Entry{}, fmt.Errorf("dev %s: %w", dir, err)
	}
	if err := writeAtomic(Path(home, e.Name), append(data, '\n')); err != nil {
		return Entry{}, fmt.Errorf("dev %s: register: %w", dir, err)
	}
	return e, nil
}

// Unregister removes the registration of name if it still names dir (a
// later `skills dev` of another folder for the same skill keeps its own).
func Unregister(home, name, dir string) error {
	p := Path(home, name)
	e, err := read(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err == nil && e.Dir != dir {
		return nil
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("dev: unregister %s: %w", name, err)
	}
	return nil
}

// List returns the live registrations in home, by name. Registrations whose
// process is gone are left out; a damaged file is an error naming it.
func List(home string) ([]Entry, error) {
	dir := filepath.Join(home, Dir)
	des, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("dev overlay: %w", err)
	}
	var out []Entry
	for _, d := range des {
		n := d.Name()
		if d.IsDir() || strings.HasPrefix(n, ".") || !strings.HasSuffix(n, ".json") {
			continue
		}
		e, err := read(filepath.Join(dir, n))
		if errors.Is(err, fs.ErrNotExist) {
			continue // unregistered while listing
		}
		if err != nil {
			return nil, err
		}
		if e.PID > 0 && !alive(e.PID) {
			continue
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Overlay returns installed with every live registration laid over it: a
// registered folder replaces the installed skill of the same name, or is
// added. A registered folder that does not exist (deleted) is left out, so
// the installed version, if any, serves again. Dev sources have no SHA256
// and Origin "dev", which is what package reload rebuilds and watches.
func Overlay(home string, installed []host.Source) ([]host.Source, error) {
	entries, err := List(home)
	if err != nil {
		return nil, err
	}
	dev := map[string]host.Source{}
	for _, e := range entries {
		if fi, err := os.Stat(e.Dir); err != nil || !fi.IsDir() {
			continue
		}
		dev[e.Name] = host.Source{Dir: e.Dir, Origin: host.OriginDev}
	}
	out := make([]host.Source, 0, len(installed)+len(dev))
	for _, s := range installed {
		name := filepath.Base(s.Dir)
		if s.Manifest != nil {
			name = s.Manifest.Name
		}
		if _, ok := dev[name]; ok {
			continue
		}
		out = append(out, s)
	}
	for _, e := range entries {
		if s, ok := dev[e.Name]; ok {
			out = append(out, s)
		}
	}
	return out, nil
}

func read(path string) (Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return Entry{}, err
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, maxSize+1)); err != nil {
		return Entry{}, fmt.Errorf("dev overlay: %s: %w", path, err)
	}
	return parse(path, buf.Bytes())
}

// parse decodes a registration file strictly; path names it in errors and
// gives the skill name it must hold.
func parse(path string, data []byte) (Entry, error) {
	if len(data) > maxSize {
		return Entry{}, fmt.Errorf("dev overlay: %s: larger than %d bytes", path, maxSize)
	}
	var e Entry
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return Entry{}, fmt.Errorf("dev overlay: %s: %w (delete the file, or run `skills dev` on the folder again)", path, err)
	}
	if dec.More() {
		return Entry{}, fmt.Errorf("dev overlay: %s: data after the registration", path)
	}
	base := strings.TrimSuffix(filepath.Base(path), ".json")
	switch {
	case e.Name != base:
		return Entry{}, fmt.Errorf("dev overlay: %s: name %q does not match the file name", path, e.Name)
	case !filepath.IsAbs(e.Dir):
		return Entry{}, fmt.Errorf("dev overlay: %s: dir %q is not an absolute path", path, e.Dir)
	case e.PID < 0:
		return Entry{}, fmt.Errorf("dev overlay: %s: pid %d is negative", path, e.PID)
	}
	return e, nil
}

func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // no-op after the rename
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
