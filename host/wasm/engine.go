// Package wasm is the engine for skills built as WebAssembly: wasip1 reactor
// modules that speak the ABI in sdk/wire/ABI.md, run in-process by wazero.
//
// Each skill gets its own wazero runtime (so its memory cap and lifetime are
// its own) and a pool of instances; all runtimes share one compilation
// cache. An instance serves one call at a time and is thrown away after any
// trap, memory-cap hit or timeout, so a failure never leaks into the next
// call.
//
// A guest that never returns is stopped at its call's deadline. Modules are
// instrumented (package meter) to check in with the host every few thousand
// loop iterations; wazero's WithCloseOnContextDone, which leaves compiled
// code for Go on every iteration, is the fallback for a module the
// instrumentation does not understand. See meter's doc for the numbers.
package wasm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/tetratelabs/wazero"

	"github.com/skillsdev/skills/host/engine"
	"github.com/skillsdev/skills/host/wasm/internal/meter"
)

// ErrDigestMismatch is wrapped by Load when an artifact's SHA-256 differs
// from Spec.SHA256. Nothing of such an artifact is compiled or run.
var ErrDigestMismatch = errors.New("artifact digest mismatch")

// DefaultInstanceLimit is the default of Options.InstanceLimit. A call tree
// holds one instance per wasm call on its chain, and the host's depth limit
// (8) bounds that, so 64 lets eight such trees run at full depth.
const DefaultInstanceLimit = 64

// DefaultMemoryLimit caps a skill's linear memory when neither Spec nor
// Options say otherwise.
const DefaultMemoryLimit = 64 << 20

// Options configures an Engine.
type Options struct {
	// CacheDir keeps compiled code across processes (for example
	// $SKILLS_HOME/cache/wasm). Empty means an in-memory cache only.
	CacheDir string
	// MemoryLimit is the default cap of a skill's linear memory, used when
	// Spec.MemoryLimit is 0. Zero means DefaultMemoryLimit.
	MemoryLimit uint64
	// MaxInstances is how many instances of one skill are kept between
	// calls, and how many of its outer calls run at once: calls not made
	// from inside a running call of this engine (the agent's, a plugin's);
	// further outer calls wait for a free instance. Zero means
	// max(4, 2*GOMAXPROCS): calls that wait on host callbacks hold an
	// instance without using a CPU.
	//
	// A nested call (a skill calling itself, A -> B -> A, a host tool that
	// calls a skill) does not wait for those: the calls up its chain hold
	// instances that only its own return frees, so waiting would deadlock
	// until the deadline. It gets an instance of its own, up to
	// InstanceLimit; instances beyond MaxInstances are closed when their
	// call returns. Outer calls waiting here hold no instance, so they
	// cannot deadlock.
	MaxInstances int
	// Running is how many outer calls of one skill run guest code at once;
	// zero means GOMAXPROCS. More would only share the cores and make
	// their instances evict each other's memory from the CPU caches
	// (measured: 1.5x the CPU per call with 8 instances running on 2
	// cores). A call waiting on the host (a tool, another skill, a sleep)
	// gives its place up until the host returns.
	Running int
	// InstanceLimit is the hard cap of instances of one skill in use at
	// once (each costs about 3.5 MiB plus its linear memory): MaxInstances
	// for outer calls, the rest for nested ones. Only at this cap do nested
	// calls wait, until their deadline. Zero means DefaultInstanceLimit, or
	// 2*MaxInstances when that is more; a limit of MaxInstances or less is
	// raised to MaxInstances+1.
	InstanceLimit int
	// WazeroChecks stops runaway guests with wazero's WithCloseOnContextDone
	// instead of instrumenting modules. Guest code runs several times slower
	// that way (see package meter); it is there for comparison, and as a way
	// out should the instrumentation ever be in doubt.
	WazeroChecks bool
	// Logger receives the engine's warnings; nil means slog.Default().
	Logger *slog.Logger
}

// Engine loads wasm skills. It implements engine.Engine.
type Engine struct {
	opts  Options
	cache wazero.CompilationCache
	log   *slog.Logger

	mu     sync.Mutex
	skills map[*skill]struct{}
	closed bool
}

var _ engine.Engine = (*Engine)(nil)

// checkInterval is how many loop iterations and function entries a metered
// guest runs between two checks with the host. At a few nanoseconds each,
// that is some tens of microseconds: the call stops that close to its
// deadline, and the check's own cost (a trip into Go) disappears.
const checkInterval = 1 << 14

// meterVersion names the instrumentation in cache file names, so a change to
// package meter never reuses modules instrumented by an older one.
const meterVersion = 1

// New makes an engine. The cache directory is created if needed.
func New(ctx context.Context, o Options) (*Engine, error) {
	if o.MemoryLimit == 0 {
		o.MemoryLimit = DefaultMemoryLimit
	}
	if o.MaxInstances <= 0 {
		o.MaxInstances = max(4, 2*runtime.GOMAXPROCS(0))
	}
	if o.Running <= 0 {
		o.Running = runtime.GOMAXPROCS(0)
	}
	if o.InstanceLimit <= 0 {
		o.InstanceLimit = max(DefaultInstanceLimit, 2*o.MaxInstances)
	}
	o.InstanceLimit = max(o.InstanceLimit, o.MaxInstances+1)
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	e := &Engine{opts: o, log: log, skills: make(map[*skill]struct{})}
	if o.CacheDir == "" {
		e.cache = wazero.NewCompilationCache()
		return e, nil
	}
	if err := os.MkdirAll(filepath.Join(o.CacheDir, "metered"), 0o755); err != nil {
		return nil, fmt.Errorf("wasm engine: cache: %w", err)
	}
	cache, err := wazero.NewCompilationCacheWithDir(o.CacheDir)
	if err != nil {
		return nil, fmt.Errorf("wasm engine: cache: %w", err)
	}
	e.cache = cache
	return e, nil
}

// Load reads, verifies, compiles and starts a skill: it returns once one
// instance has run the guest's initialization, so a broken module fails
// here and not on its first call. The artifact's digest is checked before
// anything of it is compiled.
func (e *Engine) Load(ctx context.Context, spec engine.Spec) (engine.Skill, error) {
	name := spec.Name
	if name == "" {
		name = strings.TrimSuffix(filepath.Base(spec.Artifact), ".wasm")
	}
	bin, digest := spec.Code, strings.ToLower(spec.SHA256)
	given := bin != nil && digest != "" // the caller's digest of the caller's bytes
	if !given {
		var err error
		if bin, err = os.ReadFile(spec.Artifact); err != nil {
			return nil, fmt.Errorf("load %s: read artifact: %w", name, err)
		}
		sum := sha256.Sum256(bin)
		digest = hex.EncodeToString(sum[:])
		if spec.SHA256 != "" && !strings.EqualFold(spec.SHA256, digest) {
			return nil, fmt.Errorf("load %s: %s: %w: sha256 is %s, want %s", name, spec.Artifact, ErrDigestMismatch, digest, strings.ToLower(spec.SHA256))
		}
	}
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed {
		return nil, fmt.Errorf("load %s: engine closed", name)
	}

	s, err := e.newSkill(ctx, name, spec, bin, digest, given)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", name, err)
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		_ = s.Close(ctx)
		return nil, fmt.Errorf("load %s: engine closed", name)
	}
	e.skills[s] = struct{}{}
	e.mu.Unlock()
	return s, nil
}

// metered returns bin instrumented by package meter, from the cache
// directory when it was instrumented before. ok is false when the module
// cannot be instrumented; the caller then falls back to wazero's own
// termination checks.
//
// The cache is keyed by digest. When the digest came with the bytes from
// the caller (unchecked), it is checked before a new entry is written, so
// that no entry is ever filed under a digest that is not its module's.
func (e *Engine) metered(name string, bin []byte, digest string, given bool) (out []byte, ok bool) {
	if e.opts.WazeroChecks {
		return nil, false
	}
	var path string
	if e.opts.CacheDir != "" {
		path = filepath.Join(e.opts.CacheDir, "metered", fmt.Sprintf("%s-v%d-%d.wasm", digest, meterVersion, checkInterval))
		if b, err := os.ReadFile(path); err == nil {
			return b, true
		}
	}
	out, err := meter.Instrument(bin, meter.Config{Module: tickModule, Name: tickFunc, Interval: checkInterval})
	if err != nil {
		e.log.Debug("wasm: module not instrumented, using wazero's termination checks", "skill", name, "err", err)
		return nil, false
	}
	if path != "" && given {
		if sum := sha256.Sum256(bin); hex.EncodeToString(sum[:]) != digest {
			e.log.Warn("wasm: not caching the instrumented module: the digest given with it is not its own", "skill", name)
			path = ""
		}
	}
	if path != "" {
		if err := writeFileAtomic(path, out); err != nil {
			e.log.Warn("wasm: cannot cache instrumented module", "skill", name, "err", err)
		}
	}
	return out, true
}

// writeFileAtomic writes through a temporary file and a rename, so that a
// concurrent reader never sees half a module.
func writeFileAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // no-op after the rename
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

func (e *Engine) forget(s *skill) {
	e.mu.Lock()
	delete(e.skills, s)
	e.mu.Unlock()
}

// Close closes every skill still loaded (each waits for its running calls
// until ctx is done, then stops them) and the compilation cache.
func (e *Engine) Close(ctx context.Context) error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	skills := make([]*skill, 0, len(e.skills))
	for s := range e.skills {
		skills = append(skills, s)
	}
	e.mu.Unlock()

	var errs []error
	for _, s := range skills {
		if err := s.Close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if err := e.cache.Close(ctx); err != nil {
		errs = append(errs, fmt.Errorf("wasm engine: close cache: %w", err))
	}
	return errors.Join(errs...)
}
