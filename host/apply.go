package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/skillsdev/skills/host/engine"
	"github.com/skillsdev/skills/sdk/manifest"
)

// Source says where one skill comes from: a folder holding its SKILL.md and
// its artifact (a source folder after `skills build`, or an unpacked package in
// the install store).
type Source struct {
	Dir      string             // folder of SKILL.md and the artifact
	Manifest *manifest.Manifest // parsed SKILL.md; nil means parse Dir/SKILL.md
	// SHA256 is the expected digest of the artifact (from the lock). Empty
	// means trust what is on disk, as for a source folder under development.
	SHA256 string
	// Origin says where the source comes from, for people: "dir", OriginDev,
	// or the registry and version it was installed from. OriginDev also tells
	// the reloader to watch, rebuild and re-parse the folder.
	Origin string
	// Deprecated, when set, is shown to the model and marks calls of this
	// skill with a skill.deprecated_call event.
	Deprecated *Deprecation
}

// Deprecation is a registry's word that a skill version should no longer be used.
type Deprecation struct {
	Message     string
	Replacement string // a skill name, possibly with a constraint
	Sunset      string // date, as the registry wrote it
}

// OriginDev marks a source folder under development (`skills dev`).
const OriginDev = "dev"

// Artifact returns the path of the source's artifact ("" for instructions skills).
func (s Source) Artifact() string {
	if s.Manifest == nil || s.Manifest.Entry == "" {
		return ""
	}
	return filepath.Join(s.Dir, filepath.FromSlash(s.Manifest.Entry))
}

// Result says what an Apply did.
type Result struct {
	Generation uint64            // the current generation after Apply
	Loaded     []string          // new or changed skills, now serving
	Unchanged  []string          // skills carried over as they were
	Removed    []string          // skills no longer served
	Failed     map[string]error  // skills that could not be loaded; their previous version (if any) keeps serving
	Versions   map[string]string // name -> version now serving
}

// Err joins the failures of r, or returns nil.
func (r *Result) Err() error {
	names := make([]string, 0, len(r.Failed))
	for n := range r.Failed {
		names = append(names, n)
	}
	sort.Strings(names)
	var errs []error
	for _, n := range names {
		errs = append(errs, r.Failed[n])
	}
	return errors.Join(errs...)
}

// LoadDir adds (or replaces) the skills in the given folders, keeping the
// others. It is Apply with the current set plus these.
func (h *Host) LoadDir(ctx context.Context, dirs ...string) (*Result, error) {
	var srcs []Source
	for _, l := range h.current.Load().skills {
		srcs = append(srcs, l.source)
	}
	for _, d := range dirs {
		m, err := manifest.Load(d)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", d, err)
		}
		kept := srcs[:0]
		for _, s := range srcs {
			if s.Manifest.Name != m.Name {
				kept = append(kept, s)
			}
		}
		srcs = append(kept, Source{Dir: d, Manifest: m, Origin: "dir"})
	}
	res, err := h.Apply(ctx, srcs)
	if err != nil {
		return nil, err
	}
	return res, res.Err()
}

// Apply makes srcs the set of skills the host serves. New and changed skills
// are loaded and warmed (one real instantiation or spawn) before anything is
// swapped; a skill that fails keeps its previous version serving and is
// reported in Result.Failed. Skills not in srcs are removed. Calls in flight
// finish on the generation they started on.
func (h *Host) Apply(ctx context.Context, srcs []Source) (*Result, error) {
	h.applyMu.Lock()
	defer h.applyMu.Unlock()
	if h.closed.Load() {
		return nil, errClosed
	}
	old := h.current.Load()
	res := &Result{Failed: map[string]error{}, Versions: map[string]string{}}
	next := make(map[string]*loaded, len(srcs))
	changed := false
	var fresh []*loaded       // loaded by this Apply; closed again if the swap does not happen
	live := map[string]bool{} // artifacts of this set, whose digests stay remembered
	defer h.digests.keep(live)
	for _, src := range srcs {
		if src.Manifest == nil {
			m, err := manifest.Load(src.Dir)
			if err != nil {
				// A SKILL.md that no longer parses keeps the skill serving
				// from that folder (or, failing that, the skill named after
				// the folder) as it is.
				name := filepath.Base(src.Dir)
				for n, l := range old.skills {
					if l.source.Dir == src.Dir {
						name = n
						break
					}
				}
				res.Failed[name] = fmt.Errorf("load %s: %w", src.Dir, err)
				if prev, ok := old.skills[name]; ok {
					next[name] = prev
				}
				continue
			}
			src.Manifest = m
		}
		if a := src.Artifact(); a != "" {
			live[a] = true
		}
		name := src.Manifest.Name
		if _, dup := next[name]; dup {
			res.Failed[name] = fmt.Errorf("load %s: skill %q is given twice", src.Dir, name)
			continue
		}
		key, digest, code, err := h.identity(src)
		if err == nil && src.SHA256 != "" && digest != "" && digest != src.SHA256 {
			err = fmt.Errorf("load %s: artifact %s has sha256 %s, the lock expects %s", name, src.Artifact(), digest, src.SHA256)
		}
		if err != nil {
			res.Failed[name] = err
			if prev, ok := old.skills[name]; ok {
				next[name] = prev
			}
			continue
		}
		if prev, ok := old.skills[name]; ok && prev.key == key {
			if !sameDeprecation(prev.source.Deprecated, src.Deprecated) {
				changed = true // same code, new metadata: a new generation shows it
			}
			next[name] = &loaded{manifest: prev.manifest, source: src, key: key, inst: prev.inst}
			res.Unchanged = append(res.Unchanged, name)
			continue
		}
		l, err := h.load(ctx, src, key, digest, code)
		if err != nil {
			res.Failed[name] = err
			h.emit(Event{Type: "skill.reload_failed", Skill: name, Data: map[string]any{"error": err.Error()}})
			if prev, ok := old.skills[name]; ok {
				next[name] = prev
			}
			continue
		}
		fresh = append(fresh, l)
		next[name] = l
		changed = true
		res.Loaded = append(res.Loaded, name)
	}
	for name := range old.skills {
		if _, ok := next[name]; !ok {
			res.Removed = append(res.Removed, name)
			changed = true
		}
	}
	for name, l := range next {
		res.Versions[name] = versionOf(l.manifest)
	}
	sort.Strings(res.Loaded)
	sort.Strings(res.Unchanged)
	sort.Strings(res.Removed)
	if !changed {
		for _, l := range fresh {
			if l.inst.impl != nil {
				_ = l.inst.impl.Close(ctx)
			}
		}
		res.Generation = old.id
		return res, nil
	}
	g := newGeneration(h.nextID.Add(1), next)
	h.current.Store(g)
	h.retireGeneration(ctx, old)
	res.Generation = g.id
	for _, name := range res.Loaded {
		h.emit(Event{Type: "skill.reloaded", Skill: name, Data: map[string]any{"version": res.Versions[name], "generation": g.id}})
	}
	for _, name := range res.Removed {
		h.emit(Event{Type: "skill.removed", Skill: name, Data: map[string]any{"generation": g.id}})
	}
	return res, nil
}

// load loads and warms one skill.
func (h *Host) load(ctx context.Context, src Source, key, digest string, code []byte) (*loaded, error) {
	m := src.Manifest
	l := &loaded{manifest: m, source: src, key: key, inst: &instance{}}
	if m.Runtime == manifest.RuntimeInstructions {
		return l, nil
	}
	eng, ok := h.engines[m.Runtime]
	if !ok {
		return nil, fmt.Errorf("load %s: no engine for runtime %q", m.Name, m.Runtime)
	}
	impl, err := eng.Load(ctx, engine.Spec{
		Name:        m.Name,
		Artifact:    src.Artifact(),
		SHA256:      digest,
		Code:        code,
		MemoryLimit: m.Memory,
		Callbacks:   callbacks{h},
		Logger:      h.log.With("skill", m.Name),
	})
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", m.Name, err)
	}
	if err := impl.Warm(ctx); err != nil {
		_ = impl.Close(ctx)
		return nil, fmt.Errorf("load %s: warm-up: %w", m.Name, err)
	}
	l.inst.impl = impl
	return l, nil
}

// identity returns what must change for a skill to be reloaded: the bytes of
// its SKILL.md and of its artifact. It also returns the artifact's digest
// and, when the artifact had to be read (it is new or changed since the
// host last hashed it), its bytes, for the engine to load without reading
// and hashing them again.
func (h *Host) identity(src Source) (key, digest string, code []byte, err error) {
	hh := sha256.New()
	if src.Dir != "" {
		b, err := os.ReadFile(filepath.Join(src.Dir, manifest.FileName))
		if err != nil {
			return "", "", nil, fmt.Errorf("load %s: %w", src.Manifest.Name, err)
		}
		hh.Write(b)
	}
	if a := src.Artifact(); a != "" {
		digest, code, err = h.digests.artifact(a)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return "", "", nil, fmt.Errorf("load %s: artifact %s does not exist (run `skills build %s`)", src.Manifest.Name, a, src.Dir)
			}
			return "", "", nil, fmt.Errorf("load %s: hash artifact: %w", src.Manifest.Name, err)
		}
		hh.Write([]byte(digest))
	}
	return hex.EncodeToString(hh.Sum(nil)), digest, code, nil
}

func versionOf(m *manifest.Manifest) string {
	if m.Version == nil {
		return ""
	}
	return m.Version.String()
}

func sameDeprecation(a, b *Deprecation) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
