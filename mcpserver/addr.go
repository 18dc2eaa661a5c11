package mcpserver

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// ErrRemoteBind is returned by ListenAddr for an address other machines
// could reach when remote binds are not allowed.
var ErrRemoteBind = errors.New("refusing to listen on a non-loopback address")

// ListenAddr checks and completes the address of `skills mcp --http ADDR`.
// A missing host means 127.0.0.1 (":8080" is "127.0.0.1:8080"); "localhost"
// is kept. Any other host (0.0.0.0, ::, a LAN address, a host name) is
// refused with ErrRemoteBind unless allowRemote is set, because the server
// has no authentication: whoever reaches it can run every installed skill
// with the workspace and host tools it was given.
func ListenAddr(addr string, allowRemote bool) (string, error) {
	if addr == "" {
		return "", errors.New("--http: empty address; want HOST:PORT, e.g. 127.0.0.1:8765")
	}
	if !strings.Contains(addr, ":") {
		example := addr + ":8765"
		if strings.Trim(addr, "0123456789") == "" {
			example = "127.0.0.1:" + addr + " or :" + addr
		}
		return "", fmt.Errorf("--http %s: no port; want HOST:PORT, e.g. %s", addr, example)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("--http %s: %w; want HOST:PORT, e.g. 127.0.0.1:8765", addr, err)
	}
	if _, err := net.LookupPort("tcp", port); err != nil || port == "" {
		return "", fmt.Errorf("--http %s: bad port %q", addr, port)
	}
	if host == "" {
		return net.JoinHostPort("127.0.0.1", port), nil
	}
	if allowRemote || isLoopback(host) {
		return addr, nil
	}
	return "", fmt.Errorf("--http %s: %w: the MCP server has no authentication, so anyone who can reach %s could run your installed skills with your workspace and host tools; bind 127.0.0.1 (the default) and tunnel, or pass --allow-remote if the network is trusted", addr, ErrRemoteBind, host)
}

// isLoopback reports whether host names only this machine: a loopback IP
// literal or "localhost". Other names are not resolved: what they resolve
// to can change after the check.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
	return err == nil && ip.Unmap().IsLoopback()
}
