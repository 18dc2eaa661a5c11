package mcpserver

import (
	"errors"
	"strings"
	"testing"
)

func TestListenAddr(t *testing.T) {
	for _, tc := range []struct {
		addr   string
		remote bool
		want   string // "" when an error is expected
		errHas string
	}{
		{addr: ":8765", want: "127.0.0.1:8765"},
		{addr: ":0", want: "127.0.0.1:0"},
		{addr: "127.0.0.1:8765", want: "127.0.0.1:8765"},
		{addr: "127.0.0.2:1", want: "127.0.0.2:1"},
		{addr: "localhost:8765", want: "localhost:8765"},
		{addr: "LOCALHOST:8765", want: "LOCALHOST:8765"},
		{addr: "[::1]:8765", want: "[::1]:8765"},
		{addr: "[::ffff:127.0.0.1]:8765", want: "[::ffff:127.0.0.1]:8765"},
		{addr: "0.0.0.0:8765", errHas: "--allow-remote"},
		{addr: "[::]:8765", errHas: "no authentication"},
		{addr: "192.168.1.10:8765", errHas: "non-loopback"},
		{addr: "example.com:8765", errHas: "non-loopback"},
		{addr: "0.0.0.0:8765", remote: true, want: "0.0.0.0:8765"},
		{addr: "example.com:80", remote: true, want: "example.com:80"},
		{addr: "", errHas: "empty address"},
		{addr: "8765", errHas: "no port; want HOST:PORT, e.g. 127.0.0.1:8765 or :8765"},
		{addr: "localhost", errHas: "no port; want HOST:PORT, e.g. localhost:8765"},
		{addr: "127.0.0.1:", errHas: "bad port"},
		{addr: "127.0.0.1:http-nope", errHas: "bad port"},
		{addr: "127.0.0.1:99999", errHas: "bad port"},
		{addr: "::1:8765", errHas: "want HOST:PORT"},
	} {
		got, err := ListenAddr(tc.addr, tc.remote)
		if tc.want != "" {
			if err != nil || got != tc.want {
				t.Errorf("ListenAddr(%q, %v) = %q, %v; want %q", tc.addr, tc.remote, got, err, tc.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.errHas) {
			t.Errorf("ListenAddr(%q, %v) = %q, %v; want an error with %q", tc.addr, tc.remote, got, err, tc.errHas)
		}
		if tc.errHas == "non-loopback" && !errors.Is(err, ErrRemoteBind) {
			t.Errorf("ListenAddr(%q): %v is not ErrRemoteBind", tc.addr, err)
		}
	}
}
