// Package mcpserver serves the skills a host has loaded over the Model
// Context Protocol, with the official Go SDK: each code skill (wasm or
// plugin) is an MCP tool whose name, description and inputSchema come from
// its SKILL.md, and each instructions skill is an MCP prompt whose body is
// the skill's instructions.
//
// Tool calls go through host.Call, so an MCP client gets exactly the policy
// the agent loop gets: the depth limit, no re-entry, allowed-tools,
// ## Requires, the deadline and the ## Input schema. A failed call is a tool
// result with isError set and the typed error as JSON
// ({"code","message","skill","chain"}), never a protocol error, so that the
// client's model can read it and correct itself.
//
// The served tool and prompt sets follow the host's generations: Sync diffs
// the current generation against what is served (name, version,
// description, schema) and adds, replaces or removes tools and prompts; the
// SDK then sends notifications/tools/list_changed (and prompts/list_changed)
// to every connected client. Follow syncs on its own whenever the host's
// generation changes; whoever applies a generation can also call Sync at
// once.
package mcpserver

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/skillsdev/skills/host"
)

// Options configures a Server.
type Options struct {
	// Name and Version identify the server to clients (default "skills", "dev").
	Name, Version string
	// Instructions, when set, are sent to clients at initialization.
	Instructions string
	// Record, when set, receives the audit events of tool calls (tool.start,
	// tool.end, tool.error, tool.denied: the agent loop's names) with their
	// data. It must be safe for concurrent use; calls from several clients
	// run at once. An error is logged: the call's result is already decided.
	Record func(typ string, data any) error
	// Logger receives the server's logs (default: discarded).
	Logger *slog.Logger
}

// Server is an MCP server over one host. It is safe for concurrent use.
type Server struct {
	host *host.Host
	mcp  *mcp.Server
	opts Options
	log  *slog.Logger

	mu      sync.Mutex        // serializes Sync
	tools   map[string]string // served tool name -> fingerprint
	prompts map[string]string // served prompt name -> fingerprint
	synced  uint64            // the host generation of the last Sync; 0: never

	calls atomic.Uint64 // numbers tool calls for the audit log
}

// New returns a Server for h that serves h's current skills. More clients
// may connect to it at once (HTTP); they all see the same tool set.
func New(h *host.Host, opts Options) *Server {
	if opts.Name == "" {
		opts.Name = "skills"
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{host: h, opts: opts, log: log, tools: map[string]string{}, prompts: map[string]string{}}
	// The SDK logs a client hanging up or a Ctrl-C as errors: its log is
	// for debugging only.
	sdkLog := slog.New(slog.DiscardHandler)
	if log.Enabled(context.Background(), slog.LevelDebug) {
		sdkLog = log.With("component", "mcp-sdk")
	}
	s.mcp = mcp.NewServer(&mcp.Implementation{Name: opts.Name, Version: opts.Version}, &mcp.ServerOptions{
		Instructions: opts.Instructions,
		Logger:       sdkLog,
		// Declared up front, not inferred from the first tool: a client that
		// connects while nothing is installed must still learn that the list
		// can change (clients of protocol 2026-07-28 subscribe only then).
		Capabilities: &mcp.ServerCapabilities{
			Tools:   &mcp.ToolCapabilities{ListChanged: true},
			Prompts: &mcp.PromptCapabilities{ListChanged: true},
		},
	})
	s.Sync()
	return s
}

// MCP returns the underlying SDK server, for transports this package does
// not wrap.
func (s *Server) MCP() *mcp.Server { return s.mcp }

// Run serves one client over t (for example &mcp.StdioTransport{}) until
// the client disconnects or ctx is done.
func (s *Server) Run(ctx context.Context, t mcp.Transport) error {
	if err := s.mcp.Run(ctx, t); err != nil && ctx.Err() == nil {
		return fmt.Errorf("mcp: serve: %w", err)
	}
	return nil
}

// Handler returns the streamable HTTP handler (MCP transport 2025-03-26 and
// later) serving every client that connects. Requests that arrive on a
// loopback address with a Host header naming another host are refused (the
// SDK's DNS-rebinding protection).
func (s *Server) Handler() http.Handler {
	return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s.mcp }, nil)
}

// Change says what a Sync changed in the served sets.
type Change struct {
	Generation uint64   // the host generation now served
	Added      []string // tools and prompts that appeared
	Updated    []string // tools and prompts whose version, description or schema changed
	Removed    []string // tools and prompts no longer served
}

// Empty reports whether nothing changed.
func (c Change) Empty() bool { return len(c.Added)+len(c.Updated)+len(c.Removed) == 0 }

// Sync makes the served tools and prompts those of the host's current
// generation. Connected clients get one list_changed notification per
// changed list (the SDK coalesces the changes of one Sync). Calling it when
// the generation has not changed does nothing.
func (s *Server) Sync() Change {
	s.mu.Lock()
	defer s.mu.Unlock()
	gen := s.host.Generation() // read first: a swap racing Skills is caught by the next Sync
	if gen == s.synced {
		return Change{Generation: gen}
	}
	want := plan(s.host.Skills())
	ch := Change{Generation: gen}
	var goneTools, gonePrompts []string
	for name := range s.tools {
		if _, ok := want.tools[name]; !ok {
			goneTools = append(goneTools, name)
		}
	}
	for name := range s.prompts {
		if _, ok := want.prompts[name]; !ok {
			gonePrompts = append(gonePrompts, name)
		}
	}
	if len(goneTools) > 0 {
		s.mcp.RemoveTools(goneTools...)
	}
	if len(gonePrompts) > 0 {
		s.mcp.RemovePrompts(gonePrompts...)
	}
	for _, name := range goneTools {
		delete(s.tools, name)
	}
	for _, name := range gonePrompts {
		delete(s.prompts, name)
	}
	ch.Removed = append(goneTools, gonePrompts...)

	for _, name := range sortedKeys(want.tools) {
		t := want.tools[name]
		prev, ok := s.tools[name]
		if ok && prev == t.fingerprint {
			continue
		}
		s.mcp.AddTool(t.tool, s.callTool(name))
		s.tools[name] = t.fingerprint
		if ok {
			ch.Updated = append(ch.Updated, name)
		} else {
			ch.Added = append(ch.Added, name)
		}
	}
	for _, name := range sortedKeys(want.prompts) {
		p := want.prompts[name]
		prev, ok := s.prompts[name]
		if ok && prev == p.fingerprint {
			continue
		}
		s.mcp.AddPrompt(p.prompt, s.getPrompt(name))
		s.prompts[name] = p.fingerprint
		if ok {
			ch.Updated = append(ch.Updated, name)
		} else {
			ch.Added = append(ch.Added, name)
		}
	}
	for _, name := range want.skipped {
		s.log.Warn("skill not served over MCP", "skill", name.name, "reason", name.reason)
	}
	sort.Strings(ch.Added)
	sort.Strings(ch.Updated)
	sort.Strings(ch.Removed)
	s.synced = gen
	if !ch.Empty() {
		s.log.Info("mcp tool set changed", "generation", gen, "added", ch.Added, "updated", ch.Updated, "removed", ch.Removed)
	}
	return ch
}

// Follow syncs whenever the host's generation changes, checking every
// interval (default 200ms), until ctx is done. It catches every swap,
// whoever applied it and whatever it changed, including a deprecation
// lifted, which no host or reload event reports. Callers that know of a
// swap (a reload callback) can call Sync at once as well.
func (s *Server) Follow(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = 200 * time.Millisecond
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if s.host.Generation() != s.syncedGeneration() {
				s.Sync()
			}
		}
	}
}

func (s *Server) syncedGeneration() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.synced
}

// Tools returns the names of the served tools, sorted.
func (s *Server) Tools() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sortedKeys(s.tools)
}

// Prompts returns the names of the served prompts, sorted.
func (s *Server) Prompts() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sortedKeys(s.prompts)
}

func (s *Server) record(typ string, data any) {
	if s.opts.Record == nil {
		return
	}
	if err := s.opts.Record(typ, data); err != nil {
		s.log.Error("audit: record event", "type", typ, "err", err)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// fingerprint is what a client can see of a tool or prompt: when it
// changes, the list has changed.
func fingerprint(parts ...any) string {
	b, _ := json.Marshal(parts)
	return string(b)
}
