package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"

	"github.com/skillsdev/skills/agent"
	"github.com/skillsdev/skills/audit"
	"github.com/skillsdev/skills/host"
	"github.com/skillsdev/skills/marketplace/install"
	"github.com/skillsdev/skills/mcpserver"
	"github.com/skillsdev/skills/reload"
	"github.com/skillsdev/skills/reload/overlay"
)

// mcpPath is where the streamable HTTP endpoint is mounted.
const mcpPath = "/mcp"

func newMCPCmd(a *app) *cobra.Command {
	var (
		httpAddr, workspace, auditFile string
		allowRemote, watch             bool
		maxDepth                       int
		timeout                        time.Duration
		allowTools, allowHosts         []string
	)
	cmd := &cobra.Command{
		Use:   "mcp [--http ADDR]",
		Short: "Serve the installed skills to MCP clients (stdio, or streamable HTTP)",
		Long: `mcp serves the installed skills (and the source folders ` + "`skills dev`" + ` is working on)
over the Model Context Protocol, so that any MCP client (desktop assistants, code
editors, other agents) can use them.

Each wasm or plugin skill is an MCP tool: its name, description and input schema
come from its SKILL.md. Each instructions skill (a SKILL.md with no code, as in
the open Agent Skills format) is an MCP prompt whose text is the skill's body and
the list of its files. Calls run through the same host as ` + "`skills agent`" + `, with the
same policy: the --max-depth limit, allowed-tools and ## Requires, the deadline,
and the ## Input schema. A failed call is a tool result with isError and the
error as JSON ({"code","message",...}).

By default the server speaks MCP over stdin and stdout: configure it in a client
as the command "skills" with the arguments ["mcp"]. With --http ADDR it serves
streamable HTTP at http://ADDR/mcp instead, on 127.0.0.1 unless ADDR names
another host; a non-loopback address is refused without --allow-remote, since
the server has no authentication.

With --watch (the default) the server follows the skills home: installs,
uninstalls, upgrades, deprecations and dev rebuilds reload into the running
server, and connected clients get notifications/tools/list_changed.`,
		Example: `  skills mcp
  skills mcp --workspace ~/notes --allow-tool read_file --audit mcp.jsonl
  skills mcp --http 127.0.0.1:8765`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var addr string
			if cmd.Flags().Changed("http") {
				var err error
				if addr, err = mcpserver.ListenAddr(httpAddr, allowRemote); err != nil {
					return usageError{err}
				}
			}
			if maxDepth < 1 || timeout <= 0 {
				return usageError{errors.New("mcp: --max-depth must be at least 1 and --timeout positive")}
			}
			if allowTools == nil {
				allowTools = []string{} // deny every host tool not allowed
			}
			return a.serveMCP(cmd.Context(), mcpConfig{
				addr: addr, workspace: workspace, auditFile: auditFile, watch: watch, maxDepth: maxDepth,
				timeout: timeout, allowTools: allowTools, allowHosts: allowHosts,
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&httpAddr, "http", "", "serve streamable HTTP on ADDR (HOST:PORT; a bare :PORT means 127.0.0.1) instead of stdio")
	f.BoolVar(&allowRemote, "allow-remote", false, "allow --http on a non-loopback address (the server has no authentication)")
	f.StringVar(&workspace, "workspace", ".", "the only folder read_file and write_file may touch")
	f.IntVar(&maxDepth, "max-depth", host.DefaultMaxDepth, "maximum depth of nested skill calls")
	f.DurationVar(&timeout, "timeout", host.DefaultTimeout, "deadline of a call tree whose skill sets no metadata.timeout")
	f.StringSliceVar(&allowTools, "allow-tool", nil, "host tools skills may call (repeatable; every other host tool is denied)")
	f.StringSliceVar(&allowHosts, "allow-host", nil, "host names http_get may reach (repeatable)")
	f.StringVar(&auditFile, "audit", "", "append the server's events to FILE as a hash chain (check it with skills audit verify)")
	f.BoolVar(&watch, "watch", true, "reload as skills are installed, removed or rebuilt, and tell clients the tool list changed")
	return cmd
}

type mcpConfig struct {
	addr, workspace, auditFile string
	watch                      bool
	maxDepth                   int
	timeout                    time.Duration
	allowTools, allowHosts     []string
}

// serveMCP runs the server until the client disconnects (stdio) or ctx is
// done (a signal).
func (a *app) serveMCP(ctx context.Context, c mcpConfig) error {
	home, err := a.homeDir()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(home, 0o755); err != nil { // so that it can be watched
		return fmt.Errorf("mcp: %w", err)
	}
	workspace, err := filepath.Abs(c.workspace)
	if err != nil {
		return fmt.Errorf("mcp: workspace: %w", err)
	}
	log := a.logger()
	rec, err := newMCPRecorder(c.auditFile)
	if err != nil {
		return err
	}
	defer rec.close()
	// note records an event whose failure nobody else would see.
	note := func(typ string, data any) {
		if err := rec.record(typ, data); err != nil {
			log.Error("audit", "type", typ, "err", err)
		}
	}

	h, err := host.New(ctx, host.Options{
		Home: home, Workspace: workspace, MaxDepth: c.maxDepth, DefaultTimeout: c.timeout,
		AllowTools: c.allowTools, AllowHosts: c.allowHosts, Logger: log,
		Observer: func(e host.Event) {
			switch e.Type {
			case "skill.reloaded", "skill.removed", "skill.reload_failed":
				return // the reloader reports these, with more detail
			}
			data := map[string]any{"skill": e.Skill}
			for k, v := range e.Data {
				data[k] = v
			}
			note(e.Type, data)
		},
	})
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := h.Close(cctx); err != nil {
			log.Warn("close host", "err", err)
		}
	}()

	srv := mcpserver.New(h, mcpserver.Options{Name: "skills", Version: buildVersion(), Logger: log, Record: rec.record})
	r, err := reload.New(reload.Options{
		Host:    h,
		Sources: func(ctx context.Context) ([]host.Source, error) { return agentSources(ctx, a, home) },
		Dirs: []string{home, filepath.Join(home, install.StoreDir), filepath.Join(home, overlay.Dir),
			filepath.Join(home, "registries")},
		OnEvent: func(e reload.Event) {
			note(e.Type, e)
			if e.Type == reload.EventReloadFailed {
				log.Warn("reload failed", "skill", e.Skill, "err", e.Error, "serving", e.Serving)
			}
			srv.Sync()
		},
		Logger: log,
	})
	if err != nil {
		return err
	}
	defer r.Close()
	if _, err := r.Reload(ctx); err != nil {
		return err
	}
	srv.Sync()

	transport := "stdio"
	if c.addr != "" {
		transport = "http"
	}
	note(agent.EventRunStart, map[string]any{"server": "mcp", "transport": transport, "addr": c.addr,
		"tools": srv.Tools(), "prompts": srv.Prompts(), "max_depth": c.maxDepth, "watch": c.watch})

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var bg sync.WaitGroup
	defer bg.Wait()
	defer cancel() // runs before bg.Wait: stop the background work first
	if c.watch {
		bg.Go(func() {
			if err := r.Run(ctx); err != nil {
				log.Warn("watch", "err", err)
			}
		})
		bg.Go(func() { srv.Follow(ctx, 0) })
	}

	if c.addr == "" {
		err = srv.Run(ctx, &mcp.IOTransport{Reader: io.NopCloser(a.stdin), Writer: nopWriteCloser{a.stdout}})
	} else {
		err = a.serveMCPHTTP(ctx, srv, c.addr)
	}
	status := map[string]any{"status": "ok"}
	if err != nil {
		status = map[string]any{"status": "error", "error": err.Error()}
	}
	note(agent.EventRunEnd, status)
	return err
}

// serveMCPHTTP serves streamable HTTP on addr until ctx is done.
func (a *app) serveMCPHTTP(ctx context.Context, srv *mcpserver.Server, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("mcp --http: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle(mcpPath, srv.Handler())
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(a.stderr, "skills mcp: serving MCP (streamable HTTP) at http://%s%s\n", ln.Addr(), mcpPath)
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("mcp --http: %w", err)
	case <-ctx.Done():
	}
	// Clients hold event streams open, which Shutdown would wait for: end
	// the sessions first, then give calls in flight a moment.
	for ss := range srv.MCP().Sessions() {
		ss.Close()
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		hs.Close()
	}
	return nil
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// buildVersion is the module version the binary was built from, or "dev".
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// mcpRecorder appends the server's events to an audit log, or drops them
// when there is none. Unlike agent.Recorder it keeps nothing in memory: a
// server runs for days.
type mcpRecorder struct {
	w     *audit.Writer // nil: no --audit
	runID string
}

func newMCPRecorder(file string) (*mcpRecorder, error) {
	if file == "" {
		return &mcpRecorder{}, nil
	}
	w, err := audit.OpenFile(file)
	if err != nil {
		return nil, err
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		w.Close()
		return nil, fmt.Errorf("audit: run id: %w", err)
	}
	return &mcpRecorder{w: w, runID: hex.EncodeToString(b[:])}, nil
}

// record appends one event; data must marshal to a JSON object.
func (r *mcpRecorder) record(typ string, data any) error {
	if r.w == nil {
		return nil
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("audit: record %s: %w", typ, err)
	}
	_, err = r.w.Append(time.Now(), r.runID, typ, raw)
	return err
}

func (r *mcpRecorder) close() {
	if r.w != nil {
		r.w.Close()
	}
}
