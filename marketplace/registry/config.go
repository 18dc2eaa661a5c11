package registry

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/skillsdev/skills/marketplace/sign"
)

// ConfigFile is the name of the registries list inside $SKILLS_HOME.
const ConfigFile = "registries.json"

// maxConfigSize caps registries.json; a hand-edited list is a few KiB.
const maxConfigSize = 1 << 20

// Config is one configured registry.
type Config struct {
	// Name identifies the registry in the CLI, in the lock and in the name
	// of its freshness record; same rules as a skill name.
	Name string `json:"name"`
	// URL is where index.json and index.json.sig live: a folder path, a
	// file:// URL or an http(s):// URL of the folder.
	URL string `json:"url"`
	// Keys are the note verifier keys ("name+hash+data") this registry's
	// index may be signed with; one valid signature by any of them is
	// enough. Only these keys are trusted for this registry.
	Keys []string `json:"keys"`
	// Priority orders registries when more than one offers a skill: higher
	// first; equal priorities go by name.
	Priority int `json:"priority"`
}

type configFile struct {
	Registries []Config `json:"registries"`
}

var namePattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Validate checks the name, the location and the keys.
func (c Config) Validate() error {
	if err := validName(c.Name); err != nil {
		return err
	}
	if _, err := ParseLocation(c.URL); err != nil {
		return fmt.Errorf("registry %s: %w", c.Name, err)
	}
	return c.validateKeys()
}

func validName(name string) error {
	if len(name) > 64 || !namePattern.MatchString(name) {
		return fmt.Errorf("registry %q: invalid name: want 1-64 characters of a-z, 0-9 and single inner hyphens", name)
	}
	return nil
}

func (c Config) validateKeys() error {
	if len(c.Keys) == 0 {
		return fmt.Errorf("registry %s: no verifier keys: an index that cannot be verified is never used", c.Name)
	}
	seen := make(map[string]bool)
	for _, k := range c.Keys {
		if seen[k] {
			return fmt.Errorf("registry %s: key listed twice: %s", c.Name, k)
		}
		seen[k] = true
		if _, err := sign.NewTrust(k); err != nil {
			return fmt.Errorf("registry %s: %w", c.Name, err)
		}
	}
	return nil
}

// ParseLocation turns a registry location into the URL of its folder (with a
// trailing slash, so that index-relative artifact URLs resolve inside it). A
// plain path becomes an absolute file:// URL. Credentials in URLs are
// refused: they would sit in plain text in registries.json and in errors.
func ParseLocation(loc string) (*url.URL, error) {
	if loc == "" {
		return nil, errors.New("no registry URL")
	}
	if strings.ContainsAny(loc, "\x00\n\r") {
		return nil, fmt.Errorf("registry URL %q: control characters", loc)
	}
	var u *url.URL
	if strings.Contains(loc, "://") || strings.HasPrefix(loc, "file:") {
		var err error
		u, err = url.Parse(loc)
		if err != nil {
			return nil, fmt.Errorf("registry URL %q: %w", loc, err)
		}
		if u.User != nil {
			return nil, fmt.Errorf("registry URL %q: credentials in URLs are not supported", loc)
		}
		if u.Fragment != "" || u.RawQuery != "" {
			return nil, fmt.Errorf("registry URL %q: want a folder URL without query or fragment", loc)
		}
		switch u.Scheme {
		case "http", "https":
			if u.Host == "" {
				return nil, fmt.Errorf("registry URL %q: no host", loc)
			}
		case "file":
			if (u.Host != "" && u.Host != "localhost") || !strings.HasPrefix(u.Path, "/") {
				return nil, fmt.Errorf("registry URL %q: want file:///absolute/path", loc)
			}
			u.Host = ""
		default:
			return nil, fmt.Errorf("registry URL %q: unsupported scheme %q (want a folder path, file://, http:// or https://)", loc, u.Scheme)
		}
	} else {
		abs, err := filepath.Abs(loc)
		if err != nil {
			return nil, fmt.Errorf("registry path %q: %w", loc, err)
		}
		u = &url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		u.RawPath = ""
	}
	return u, nil
}

// List returns the registries configured in home/registries.json, highest
// priority first. A missing file is an empty list.
func List(home string) ([]Config, error) {
	path := filepath.Join(home, ConfigFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list registries: %w", err)
	}
	if len(data) > maxConfigSize {
		return nil, fmt.Errorf("list registries: %s is larger than %d bytes", path, maxConfigSize)
	}
	var f configFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("list registries: %s: %w", path, err)
	}
	seen := make(map[string]bool)
	for _, c := range f.Registries {
		if err := c.Validate(); err != nil {
			return nil, fmt.Errorf("list registries: %s: %w", path, err)
		}
		if seen[c.Name] {
			return nil, fmt.Errorf("list registries: %s: registry %s is listed twice", path, c.Name)
		}
		seen[c.Name] = true
	}
	sortConfigs(f.Registries)
	return f.Registries, nil
}

func sortConfigs(cs []Config) {
	slices.SortFunc(cs, func(a, b Config) int {
		if c := cmp.Compare(b.Priority, a.Priority); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
}

// Find returns the configured registry called name.
func Find(home, name string) (Config, error) {
	cs, err := List(home)
	if err != nil {
		return Config{}, err
	}
	for _, c := range cs {
		if c.Name == name {
			return c, nil
		}
	}
	return Config{}, fmt.Errorf("registry %s: not configured", name)
}

// Add validates c and appends it to home/registries.json (written
// atomically). A plain relative path is stored as an absolute one, since the
// list is used from any working directory. A name already configured is an
// error: remove it first.
func Add(home string, c Config) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("add registry: %w", err)
	}
	if !strings.Contains(c.URL, "://") && !strings.HasPrefix(c.URL, "file:") {
		abs, err := filepath.Abs(c.URL)
		if err != nil {
			return fmt.Errorf("add registry %s: %w", c.Name, err)
		}
		c.URL = abs
	}
	cs, err := List(home)
	if err != nil {
		return fmt.Errorf("add registry: %w", err)
	}
	for _, have := range cs {
		if have.Name == c.Name {
			return fmt.Errorf("add registry %s: already configured (at %s)", c.Name, have.URL)
		}
	}
	cs = append(cs, c)
	return writeConfigs(home, cs)
}

// Remove deletes the registry called name from home/registries.json. Its
// freshness record is kept: re-adding the registry must not reopen the door
// to a rollback.
func Remove(home, name string) error {
	cs, err := List(home)
	if err != nil {
		return fmt.Errorf("remove registry: %w", err)
	}
	i := slices.IndexFunc(cs, func(c Config) bool { return c.Name == name })
	if i < 0 {
		return fmt.Errorf("remove registry %s: not configured", name)
	}
	return writeConfigs(home, slices.Delete(cs, i, i+1))
}

func writeConfigs(home string, cs []Config) error {
	sortConfigs(cs)
	if cs == nil {
		cs = []Config{}
	}
	data, err := json.MarshalIndent(configFile{Registries: cs}, "", "  ")
	if err != nil {
		return fmt.Errorf("write registries: %w", err)
	}
	if err := os.MkdirAll(home, 0o755); err != nil {
		return fmt.Errorf("write registries: %w", err)
	}
	if err := writeAtomic(filepath.Join(home, ConfigFile), append(data, '\n')); err != nil {
		return fmt.Errorf("write registries: %w", err)
	}
	return nil
}

// writeAtomic writes data to path through a synced temporary file in the
// same folder and a rename, so readers see the old file or the new one.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after the rename
	if _, err := f.Write(data); err != nil {
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
	if err := os.Chmod(tmp, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	// Make the rename itself durable; not every platform can sync a folder.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
