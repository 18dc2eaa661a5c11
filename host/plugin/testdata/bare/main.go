// Command bare serves the Skill gRPC service with go-plugin directly, with no
// SDK: Call returns its input. It is the baseline of BenchmarkBareUnary, a
// bare unary call over the same kind of go-plugin connection.
package main

import (
	"context"
	"errors"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/skillsdev/skills/sdk/wire/pluginpb"
)

type server struct {
	pluginpb.UnimplementedSkillServer
}

func (server) Setup(context.Context, *pluginpb.SetupRequest) (*pluginpb.SetupResponse, error) {
	return &pluginpb.SetupResponse{}, nil
}

func (server) Call(_ context.Context, req *pluginpb.CallRequest) (*pluginpb.CallResponse, error) {
	return &pluginpb.CallResponse{Output: req.GetInput()}, nil
}

type skillPlugin struct{ plugin.NetRPCUnsupportedPlugin }

func (skillPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pluginpb.RegisterSkillServer(s, server{})
	return nil
}

func (skillPlugin) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, errors.New("bare: no client side")
}

func main() {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: plugin.HandshakeConfig{
			ProtocolVersion:  pluginpb.ProtocolVersion,
			MagicCookieKey:   pluginpb.MagicCookieKey,
			MagicCookieValue: pluginpb.MagicCookieValue,
		},
		Plugins:    plugin.PluginSet{pluginpb.PluginName: skillPlugin{}},
		GRPCServer: plugin.DefaultGRPCServer,
	})
}
