//go:build !wasip1

package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/status"

	"github.com/skillsdev/skills/sdk/wire"
	"github.com/skillsdev/skills/sdk/wire/pluginpb"
)

// notAPlugin is printed when a person runs a plugin binary by hand.
const notAPlugin = `%s is a skills plugin: the skills host starts it and talks to it over gRPC,
so it does nothing when run by hand. To run the skill, use

    skills run DIR

where DIR is the skill's folder (the one holding SKILL.md).
`

// Serve runs h as a plugin skill: it answers the go-plugin handshake on
// stdout and serves the Skill gRPC service until the host closes it.
//
// Each call runs on its own goroutine; a handler that panics takes the
// process down, the call fails with CodeCrashed, and the host starts a fresh
// process for the next call. Callbacks made through the Context carry the
// call's deadline; past it the host kills the process, since a Go handler
// cannot be stopped from outside.
//
// Run by hand (without the host's handshake cookie in the environment), it
// prints what the binary is and how to run it, and exits with status 1. The
// cookie only tells the two cases apart; it is not authentication.
func Serve(h Handler) {
	if os.Getenv(pluginpb.MagicCookieKey) != pluginpb.MagicCookieValue {
		fmt.Fprintf(os.Stderr, notAPlugin, filepath.Base(os.Args[0]))
		os.Exit(1)
	}
	go exitWhenOrphaned()
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: plugin.HandshakeConfig{
			ProtocolVersion:  pluginpb.ProtocolVersion,
			MagicCookieKey:   pluginpb.MagicCookieKey,
			MagicCookieValue: pluginpb.MagicCookieValue,
		},
		Plugins: plugin.PluginSet{pluginpb.PluginName: &guestPlugin{handler: h}},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			// gRPC's default 4 MiB cap on a received message would make a
			// large input look like a transport failure.
			return plugin.DefaultGRPCServer(append(opts, grpc.MaxRecvMsgSize(pluginpb.MaxMessageSize)))
		},
		// go-plugin's own chatter at Trace would cost a JSON line per event on
		// the host's stderr pipe; the host only keeps warnings anyway.
		Logger: hclog.New(&hclog.LoggerOptions{
			Name:       "skill",
			Level:      hclog.Warn,
			Output:     os.Stderr,
			JSONFormat: true,
		}),
	})
}

// exitWhenOrphaned ends the plugin when its host dies. On Linux the host also
// sets a parent-death signal, but that fires when the host's spawning thread
// ends rather than the host, and other systems have none; a plugin whose
// parent changed has been reparented, so the host that owned it is gone.
func exitWhenOrphaned() {
	if runtime.GOOS == "windows" {
		return // no reparenting there, and Getppid is costly
	}
	ppid := os.Getppid()
	if ppid <= 1 {
		return // started by init (a container's host can be pid 1): nothing to watch
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for range tick.C {
		if os.Getppid() != ppid {
			os.Exit(1)
		}
	}
}

// guestPlugin registers the Skill service with go-plugin.
type guestPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	handler Handler
}

// GRPCServer registers the Skill service.
func (p *guestPlugin) GRPCServer(b *plugin.GRPCBroker, s *grpc.Server) error {
	pluginpb.RegisterSkillServer(s, &skillServer{handler: p.handler, broker: b})
	return nil
}

// GRPCClient is the host's half, which a plugin never uses.
func (p *guestPlugin) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, errors.New("sdk: a plugin serves the Skill service; it dispenses no client")
}

// skillServer serves one handler. Calls run concurrently, each on its own
// gRPC stream; they share the one Host connection made by Setup.
type skillServer struct {
	pluginpb.UnimplementedSkillServer
	handler Handler
	broker  *plugin.GRPCBroker
	host    atomic.Pointer[pluginpb.HostClient] // set once by Setup
}

// Setup dials the Host service once, and waits until the connection is up so
// that the first callback does not pay for it.
func (s *skillServer) Setup(ctx context.Context, req *pluginpb.SetupRequest) (*pluginpb.SetupResponse, error) {
	if s.host.Load() != nil {
		return nil, status.Error(codes.FailedPrecondition, "setup: already set up")
	}
	conn, err := s.broker.Dial(req.GetHostBrokerId())
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "setup: dial host broker id %d: %v", req.GetHostBrokerId(), err)
	}
	conn.Connect()
	for st := conn.GetState(); st != connectivity.Ready; st = conn.GetState() {
		if !conn.WaitForStateChange(ctx, st) {
			conn.Close()
			return nil, status.Errorf(codes.Unavailable, "setup: connect to host: %v (last state %s)", ctx.Err(), st)
		}
	}
	c := pluginpb.NewHostClient(conn)
	if !s.host.CompareAndSwap(nil, &c) {
		conn.Close()
		return nil, status.Error(codes.FailedPrecondition, "setup: already set up")
	}
	return &pluginpb.SetupResponse{}, nil
}

// Call runs the handler. Its failures travel in the response, so that a gRPC
// error always means the transport failed.
func (s *skillServer) Call(ctx context.Context, req *pluginpb.CallRequest) (*pluginpb.CallResponse, error) {
	c := &callContext{ctx: ctx, id: req.GetCallId()}
	if h := s.host.Load(); h != nil {
		c.host = *h
	}
	out, err := s.handler(c, json.RawMessage(req.GetInput()))
	b, e := encodeResult(out, err)
	if e != nil {
		return &pluginpb.CallResponse{Error: pluginpb.FromWire(e)}, nil
	}
	return &pluginpb.CallResponse{Output: b}, nil
}

// callContext is the Context of one call. Its ctx is the incoming gRPC
// call's, so the host's deadline bounds every callback.
type callContext struct {
	ctx  context.Context
	id   uint64
	host pluginpb.HostClient // nil if the host never called Setup
}

// CallTool calls a host tool through the Host service.
func (c *callContext) CallTool(name string, input any) (json.RawMessage, error) {
	return c.invoke(pluginpb.Kind_KIND_TOOL, name, input)
}

// CallSkill calls another skill through the Host service.
func (c *callContext) CallSkill(name string, input any) (json.RawMessage, error) {
	return c.invoke(pluginpb.Kind_KIND_SKILL, name, input)
}

func (c *callContext) invoke(kind pluginpb.Kind, name string, input any) (json.RawMessage, error) {
	in, err := encodeInput(input)
	if err != nil {
		return nil, err
	}
	if c.host == nil {
		return nil, &Error{Code: wire.CodeInternal, Skill: name, Message: "no connection to the host: it never called Setup"}
	}
	resp, err := c.host.Invoke(c.ctx, &pluginpb.InvokeRequest{CallId: c.id, Kind: kind, Name: name, Input: in})
	if err != nil {
		return nil, rpcError(c.ctx, name, err)
	}
	if e := resp.GetError(); e != nil {
		return nil, e.Wire()
	}
	return resp.GetOutput(), nil
}

// Log sends the line to the host. A log line that cannot be delivered (the
// call is over, the host is gone) goes to stderr, which the host also reads.
func (c *callContext) Log(level Level, msg string) {
	if c.host != nil {
		_, err := c.host.Log(c.ctx, &pluginpb.LogRequest{CallId: c.id, Level: int32(level), Message: msg})
		if err == nil {
			return
		}
	}
	fmt.Fprintf(os.Stderr, "skill log (level %d): %s\n", level, msg)
}

// rpcError classifies a failed callback: the call's own deadline or
// cancellation keeps its code, anything else is the host being unreachable.
func rpcError(ctx context.Context, name string, err error) *Error {
	code := status.Code(err)
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || code == codes.DeadlineExceeded:
		return &Error{Code: wire.CodeTimeout, Skill: name, Message: "deadline passed during the callback"}
	case errors.Is(ctx.Err(), context.Canceled) || code == codes.Canceled:
		return &Error{Code: wire.CodeCanceled, Skill: name, Message: "call canceled during the callback"}
	}
	return &Error{Code: wire.CodeInternal, Skill: name, Message: "callback to host failed: " + status.Convert(err).Message()}
}
