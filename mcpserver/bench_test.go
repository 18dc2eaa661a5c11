package mcpserver_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/skillsdev/skills/host"
	"github.com/skillsdev/skills/mcpserver"
)

// BenchmarkToolCall measures a wordcount call made directly with host.Call
// and through the MCP server (the SDK's in-memory transport, and streamable
// HTTP on 127.0.0.1), so the protocol's cost per call can be read off the
// difference.
func BenchmarkToolCall(b *testing.B) {
	installed := unitSources(b)
	h, err := host.New(context.Background(), host.Options{Home: unitHome, Workspace: b.TempDir(), AllowTools: []string{}})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close(context.Background())
	if _, err := h.Apply(context.Background(), []host.Source{installed["wordcount"]}); err != nil {
		b.Fatal(err)
	}
	input := json.RawMessage(`{"text":"to be or not to be","top":2}`)
	args := map[string]any{"text": "to be or not to be", "top": 2}
	srv := mcpserver.New(h, mcpserver.Options{})

	b.Run("host.Call", func(b *testing.B) {
		for b.Loop() {
			if _, err := h.Call(context.Background(), "wordcount", input); err != nil {
				b.Fatal(err)
			}
		}
	})
	session := func(b *testing.B, tr mcp.Transport) *mcp.ClientSession {
		cs, err := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, nil).Connect(context.Background(), tr, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { cs.Close() })
		return cs
	}
	call := func(b *testing.B, cs *mcp.ClientSession) {
		for b.Loop() {
			res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "wordcount", Arguments: args})
			if err != nil || res.IsError {
				b.Fatal(err, res)
			}
		}
	}
	b.Run("mcp-memory", func(b *testing.B) {
		st, ct := mcp.NewInMemoryTransports()
		ss, err := srv.MCP().Connect(context.Background(), st, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { ss.Close() })
		call(b, session(b, ct))
	})
	b.Run("mcp-http", func(b *testing.B) {
		ts := httptest.NewServer(srv.Handler())
		b.Cleanup(ts.Close)
		call(b, session(b, &mcp.StreamableClientTransport{Endpoint: ts.URL, MaxRetries: -1}))
	})
}
