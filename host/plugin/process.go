package plugin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/runner"
	"google.golang.org/grpc"

	"github.com/skillsdev/skills/host/engine"
	"github.com/skillsdev/skills/sdk/wire"
	"github.com/skillsdev/skills/sdk/wire/pluginpb"
)

// startTimeout bounds a spawn: exec, handshake, broker setup. It is long
// because a cold binary on a loaded machine can take a while to page in; a
// healthy plugin needs ~20 ms.
const startTimeout = 10 * time.Second

// process is one running plugin and the Host service it calls back on.
type process struct {
	client *goplugin.Client
	run    *procRunner
	skill  pluginpb.SkillClient
	host   *hostService
	fatal  *fatalLine
	log    *hclogger

	stopOnce sync.Once

	// Guarded by the owning Skill's mu.
	inflight int  // calls using this process now
	retired  bool // takes no new calls; stopped when inflight reaches 0
	crashed  bool // died during a call (counted once toward restart backoff)
}

// procConfig is what startProcess needs.
type procConfig struct {
	name      string // skill name, for errors and logs
	artifact  string // the artifact as the spec named it, for errors
	path      string // the private copy to execute
	callbacks engine.Callbacks
	logger    *slog.Logger
}

// startProcess spawns the plugin, completes the go-plugin handshake, serves
// the Host service on a broker id and tells the plugin that id, so every
// callback of this process shares one connection.
func startProcess(ctx context.Context, c procConfig) (*process, error) {
	timeout := startTimeout
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	host := &hostService{skill: c.name, callbacks: c.callbacks, logger: c.logger}
	p := &process{host: host, fatal: newFatalLine(), log: newHCLogger(c.logger, "go-plugin")}
	p.client = goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig: goplugin.HandshakeConfig{
			ProtocolVersion:  pluginpb.ProtocolVersion,
			MagicCookieKey:   pluginpb.MagicCookieKey,
			MagicCookieValue: pluginpb.MagicCookieValue,
		},
		Plugins: goplugin.PluginSet{pluginpb.PluginName: &hostPlugin{host: host}},
		// RunnerFunc instead of Cmd: see procRunner for what it changes.
		RunnerFunc: func(_ hclog.Logger, cmd *exec.Cmd, _ string) (runner.Runner, error) {
			p.run = newProcRunner(c.path, cmd.Env)
			return p.run, nil
		},
		SkipHostEnv:      true, // the runner passes envAllowlist only
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		StartTimeout:     timeout,
		Logger:           p.log,
		Stderr:           p.fatal,
		SyncStdout:       stdioLogger(c.logger, "stdout"),
		SyncStderr:       stdioLogger(c.logger, "stderr"),
	})
	fail := func(step string, err error) (*process, error) {
		p.stop()
		return nil, fmt.Errorf("start plugin %s (running copy %s): %s: %w", c.artifact, filepath.Base(c.path), step, err)
	}
	rpc, err := p.client.Client()
	if err != nil {
		return fail("handshake", err)
	}
	raw, err := rpc.Dispense(pluginpb.PluginName)
	if err != nil {
		return fail("dispense", err)
	}
	d := raw.(*dispensed)
	p.skill = d.skill
	if _, err := p.skill.Setup(ctx, &pluginpb.SetupRequest{HostBrokerId: d.hostID, Skill: c.name}); err != nil {
		return fail("setup", err)
	}
	return p, nil
}

// pid is the plugin's process id (0 before it started).
func (p *process) pid() int {
	if p.run == nil {
		return 0
	}
	return p.run.pid
}

// stop kills the plugin's process group and waits for go-plugin to reap it
// and release its goroutines. The kill comes first: a skill has nothing to
// flush, and go-plugin's graceful path waits up to 2 s.
func (p *process) stop() {
	p.stopOnce.Do(func() {
		p.log.stopping.Store(true)
		if p.run != nil {
			_ = p.run.Kill(context.Background())
		}
		p.client.Kill()
	})
}

// exitReport waits for a plugin whose connection failed during a call and
// says how it ended. A plugin that is still running after crashGrace lost
// its connection some other way; it is killed, since it cannot be reached.
func (p *process) exitReport(rpcErr error) string {
	const crashGrace = 250 * time.Millisecond
	killed := false
	select {
	case <-p.run.exited:
	case <-time.After(crashGrace):
		killed = true
		_ = p.run.Kill(context.Background())
		select {
		case <-p.run.exited:
		case <-time.After(2 * time.Second):
			return fmt.Sprintf("plugin unreachable (%v) and did not exit when killed", rpcErr)
		}
	}
	how := p.run.exitStatus()
	if f := p.fatal.get(); f != "" {
		how += ": " + f
	}
	if killed {
		return fmt.Sprintf("plugin stopped answering (%v) and was killed: %s", rpcErr, how)
	}
	return "plugin exited: " + how
}

// hostPlugin is the host's half of the go-plugin Plugin: it dispenses a
// Skill client and serves the Host service on a broker id.
type hostPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	host pluginpb.HostServer
}

// dispensed is what hostPlugin.GRPCClient returns.
type dispensed struct {
	skill  pluginpb.SkillClient
	hostID uint32
}

// GRPCServer is the plugin's half, which the host never serves.
func (h *hostPlugin) GRPCServer(*goplugin.GRPCBroker, *grpc.Server) error {
	return errors.New("plugin host: the host does not serve the Skill service")
}

// GRPCClient starts serving the Host service on a fresh broker id (the
// plugin dials it once, in Setup) and returns the Skill client. The server
// stops when go-plugin closes the broker, on Kill.
func (h *hostPlugin) GRPCClient(_ context.Context, b *goplugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	id := b.NextId()
	go b.AcceptAndServe(id, func(opts []grpc.ServerOption) *grpc.Server {
		s := grpc.NewServer(append(opts, grpc.MaxRecvMsgSize(pluginpb.MaxMessageSize))...)
		pluginpb.RegisterHostServer(s, h.host)
		return s
	})
	return &dispensed{skill: pluginpb.NewSkillClient(conn), hostID: id}, nil
}

// hostService serves one plugin process's callbacks. Each call the host
// sends to the process is registered under a fresh id with its context, so a
// callback runs with the chain and deadline of the call it belongs to, and a
// plugin can only act within calls that are running on it.
type hostService struct {
	pluginpb.UnimplementedHostServer
	skill     string
	callbacks engine.Callbacks
	logger    *slog.Logger

	nextID atomic.Uint64
	calls  sync.Map // call id -> context.Context of the running call
}

// begin registers a call and returns its id.
func (h *hostService) begin(ctx context.Context) uint64 {
	id := h.nextID.Add(1)
	h.calls.Store(id, ctx)
	return id
}

// end unregisters a call: later callbacks naming it are refused.
func (h *hostService) end(id uint64) { h.calls.Delete(id) }

// Invoke runs a tool or skill callback with the context of its call,
// canceled early if the plugin gives up on the callback.
func (h *hostService) Invoke(rpcCtx context.Context, req *pluginpb.InvokeRequest) (*pluginpb.InvokeResponse, error) {
	v, ok := h.calls.Load(req.GetCallId())
	if !ok {
		return &pluginpb.InvokeResponse{Error: pluginpb.FromWire(&wire.Error{
			Code:    wire.CodeInternal,
			Skill:   h.skill,
			Message: fmt.Sprintf("callback to %q names call %d, which is not running", req.GetName(), req.GetCallId()),
		})}, nil
	}
	if h.callbacks == nil {
		return &pluginpb.InvokeResponse{Error: pluginpb.FromWire(&wire.Error{
			Code:    wire.CodeNotFound,
			Skill:   req.GetName(),
			Message: "the host gave this skill no callbacks",
		})}, nil
	}
	ctx, cancel := context.WithCancel(v.(context.Context))
	stop := context.AfterFunc(rpcCtx, cancel)
	defer func() {
		stop()
		cancel()
	}()
	var out []byte
	var err error
	switch req.GetKind() {
	case pluginpb.Kind_KIND_TOOL:
		out, err = h.callbacks.CallTool(ctx, req.GetName(), req.GetInput())
	case pluginpb.Kind_KIND_SKILL:
		out, err = h.callbacks.CallSkill(ctx, req.GetName(), req.GetInput())
	default:
		err = &wire.Error{Code: wire.CodeInvalidInput, Skill: req.GetName(), Message: fmt.Sprintf("unknown callback kind %v", req.GetKind())}
	}
	if err != nil {
		return &pluginpb.InvokeResponse{Error: pluginpb.FromWire(asWire(err, req.GetName()))}, nil
	}
	return &pluginpb.InvokeResponse{Output: out}, nil
}

// Log hands a log line to the host with the context of its call. A line for
// a call that has ended still reaches the skill's logger.
func (h *hostService) Log(_ context.Context, req *pluginpb.LogRequest) (*pluginpb.LogResponse, error) {
	level := slog.Level(req.GetLevel())
	if v, ok := h.calls.Load(req.GetCallId()); ok && h.callbacks != nil {
		h.callbacks.Log(v.(context.Context), level, req.GetMessage())
	} else {
		h.logger.Log(context.Background(), level, req.GetMessage(), "call_id", req.GetCallId())
	}
	return &pluginpb.LogResponse{}, nil
}

// asWire gives a callback failure its code: a *wire.Error keeps its own, a
// bare context error becomes timeout or canceled, anything else internal.
func asWire(err error, name string) *wire.Error {
	var we *wire.Error
	switch {
	case errors.As(err, &we):
		return we
	case errors.Is(err, context.DeadlineExceeded):
		return &wire.Error{Code: wire.CodeTimeout, Skill: name, Message: err.Error()}
	case errors.Is(err, context.Canceled):
		return &wire.Error{Code: wire.CodeCanceled, Skill: name, Message: err.Error()}
	}
	return &wire.Error{Code: wire.CodeInternal, Skill: name, Message: err.Error()}
}
