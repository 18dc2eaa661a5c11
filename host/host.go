// Package host runs skills. It loads skills into their engines (wasm via
// wazero, plugins via go-plugin), serves calls to them with one Call for both
// runtimes, and enforces the policy of every call tree: the depth limit, no
// re-entry of a skill already on the chain, tools only from allowed-tools,
// skills only from ## Requires, one deadline for the whole tree, and input
// checked against the ## Input schema before a skill runs.
//
// The loaded skills form a generation. Apply builds, validates and warms a new
// generation off the hot path and swaps it in atomically; calls in flight
// finish on the old one, which is closed when they drain. This is what hot
// reload (package reload) stands on.
package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skillsdev/skills/host/engine"
	"github.com/skillsdev/skills/host/plugin"
	"github.com/skillsdev/skills/host/tools"
	"github.com/skillsdev/skills/host/wasm"
	"github.com/skillsdev/skills/sdk/manifest"
	"github.com/skillsdev/skills/sdk/wire"
)

// Defaults for Options.
const (
	DefaultMaxDepth     = 8
	DefaultTimeout      = 30 * time.Second
	DefaultDrainTimeout = 30 * time.Second
)

// Options configures a Host. The zero value works, with no workspace (so the
// file tools refuse) and no allowed HTTP hosts.
type Options struct {
	// Home is the skills home; compiled modules and private plugin copies are
	// cached under Home/cache. Empty means a fresh temporary folder.
	Home string
	// Workspace is the only folder read_file and write_file can reach.
	Workspace string
	// MaxDepth bounds the call chain (default 8).
	MaxDepth int
	// DefaultTimeout bounds a call tree whose entry skill sets no
	// metadata.timeout (default 30s).
	DefaultTimeout time.Duration
	// DrainTimeout bounds how long a replaced generation may keep serving
	// its in-flight calls before it is closed anyway (default 30s).
	DrainTimeout time.Duration
	// AllowHosts are the host names http_get may reach.
	AllowHosts []string
	// AllowTools, when not nil, is the host's own policy on tools: a tool
	// not listed is denied even when a skill's allowed-tools names it.
	AllowTools []string
	// Tools are host tools added to the built-in ones.
	Tools []tools.Tool
	// Logger receives the host's and the skills' logs (default: discarded).
	Logger *slog.Logger
	// Observer, when set, is told about events in the host (reloads,
	// denials, calls of deprecated skills). It must not block.
	Observer func(Event)
}

// Event is something the host reports to its Observer.
type Event struct {
	Type  string         // e.g. "skill.reloaded", "skill.reload_failed", "tool.denied"
	Skill string         // the skill it is about, if any
	Data  map[string]any // details; values encode to JSON
}

// Host runs skills. It is safe for concurrent use.
type Host struct {
	opts    Options
	log     *slog.Logger
	tools   *tools.Registry
	allowed map[string]bool // nil: no host policy beyond allowed-tools
	engines map[manifest.Runtime]engine.Engine

	applyMu sync.Mutex // serializes Apply
	digests digests    // artifact digests by path; guarded by applyMu
	current atomic.Pointer[generation]
	nextID  atomic.Uint64
	retired sync.WaitGroup // generations still draining
	closed  atomic.Bool
}

// New returns a Host with no skills loaded.
func New(ctx context.Context, opts Options) (*Host, error) {
	if opts.MaxDepth <= 0 {
		opts.MaxDepth = DefaultMaxDepth
	}
	if opts.DefaultTimeout <= 0 {
		opts.DefaultTimeout = DefaultTimeout
	}
	if opts.DrainTimeout <= 0 {
		opts.DrainTimeout = DefaultDrainTimeout
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	home := opts.Home
	if home == "" {
		return nil, errors.New("new host: no home folder given")
	}
	builtins, err := tools.Builtins(tools.Options{Workspace: opts.Workspace, AllowHosts: opts.AllowHosts})
	if err != nil {
		return nil, fmt.Errorf("new host: %w", err)
	}
	reg, err := tools.NewRegistry(append(builtins, opts.Tools...)...)
	if err != nil {
		return nil, fmt.Errorf("new host: %w", err)
	}
	h := &Host{opts: opts, log: logger, tools: reg, digests: digests{}}
	if opts.AllowTools != nil {
		h.allowed = make(map[string]bool, len(opts.AllowTools))
		for _, t := range opts.AllowTools {
			h.allowed[t] = true
		}
	}
	we, err := wasm.New(ctx, wasm.Options{CacheDir: filepath.Join(home, "cache", "wasm"), Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("new host: wasm engine: %w", err)
	}
	pe, err := plugin.New(ctx, plugin.Options{StoreDir: filepath.Join(home, "cache", "plugins"), Logger: logger})
	if err != nil {
		we.Close(ctx)
		return nil, fmt.Errorf("new host: plugin engine: %w", err)
	}
	h.engines = map[manifest.Runtime]engine.Engine{manifest.RuntimeWasm: we, manifest.RuntimePlugin: pe}
	h.current.Store(newGeneration(h.nextID.Add(1), map[string]*loaded{}))
	return h, nil
}

// Tools returns the host tools, sorted by name.
func (h *Host) Tools() []tools.Tool { return h.tools.List() }

// MaxDepth returns the depth limit of call chains.
func (h *Host) MaxDepth() int { return h.opts.MaxDepth }

func (h *Host) emit(e Event) {
	if h.opts.Observer != nil {
		h.opts.Observer(e)
	}
}

// Info describes a loaded skill.
type Info struct {
	Manifest *manifest.Manifest
	Source   Source
}

// Skills returns the skills of the current generation, sorted by name. The
// agent reads it at the start of every turn.
func (h *Host) Skills() []Info {
	g := h.current.Load()
	out := make([]Info, 0, len(g.skills))
	for _, l := range g.skills {
		out = append(out, Info{Manifest: l.manifest, Source: l.source})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Manifest.Name < out[j].Manifest.Name })
	return out
}

// Generation returns the id of the current generation; it grows by one with
// every swap.
func (h *Host) Generation() uint64 { return h.current.Load().id }

// Close stops accepting calls, waits (bounded by ctx) for calls in flight, and
// stops every skill and engine.
func (h *Host) Close(ctx context.Context) error {
	if !h.closed.CompareAndSwap(false, true) {
		return nil
	}
	h.applyMu.Lock()
	defer h.applyMu.Unlock()
	g := h.current.Load()
	var errs []error
	h.retireGeneration(ctx, g)
	waited := make(chan struct{})
	go func() { h.retired.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("close host: calls still in flight: %w", ctx.Err()))
	}
	for _, e := range h.engines {
		if err := e.Close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// retireGeneration retires g and releases its skills once its calls drain or
// the drain timeout passes.
func (h *Host) retireGeneration(ctx context.Context, g *generation) {
	g.retire()
	h.retired.Add(1)
	go func() {
		defer h.retired.Done()
		t := time.NewTimer(h.opts.DrainTimeout)
		defer t.Stop()
		select {
		case <-g.drained:
		case <-t.C:
			h.log.Warn("generation closed with calls still in flight", "generation", g.id)
		}
		for name, l := range g.skills {
			if err := l.inst.release(context.WithoutCancel(ctx)); err != nil {
				h.log.Warn("close skill", "skill", name, "err", err)
			}
		}
	}()
}

var errClosed = &wire.Error{Code: wire.CodeInternal, Message: "host is closed"}
