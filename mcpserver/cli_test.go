package mcpserver_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/skillsdev/skills/audit"
)

// cliHome makes a skills home that trusts the test registry and shares one
// compilation cache with the other CLI homes, with the given skills
// installed the way a user installs them.
func cliHome(t *testing.T, skills ...string) string {
	t.Helper()
	home := filepath.Join(t.TempDir(), "home")
	if err := os.MkdirAll(cliCache, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(home, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(cliCache, filepath.Join(home, "cache")); err != nil {
		t.Fatal(err)
	}
	if _, err := cli(t.Context(), "--home", home, "registry", "add", "test", regDir, "--key", regPub); err != nil {
		t.Fatal(err)
	}
	if len(skills) > 0 {
		if _, err := cli(t.Context(), append([]string{"--home", home, "install"}, skills...)...); err != nil {
			t.Fatal(err)
		}
	}
	return home
}

var servingLine = regexp.MustCompile(`serving MCP \(streamable HTTP\) at (http://\S+)`)

// startHTTP starts `skills mcp --http 127.0.0.1:0` and returns its endpoint
// and a function that stops it with SIGINT and waits for it.
func startHTTP(t *testing.T, args ...string) (string, func()) {
	t.Helper()
	cmd := exec.Command(skillsBin, append(args, "--http", "127.0.0.1:0")...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	stop := func() {
		cmd.Process.Signal(syscall.SIGINT)
		select {
		case err := <-waited:
			if err != nil {
				t.Errorf("skills mcp --http: %v", err)
			}
		case <-time.After(time.Minute):
			cmd.Process.Kill()
			t.Error("skills mcp --http did not stop on SIGINT")
		}
	}
	url := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := servingLine.FindStringSubmatch(sc.Text()); m != nil {
				url <- m[1]
			}
		}
		io.Copy(io.Discard, stderr)
		waited <- cmd.Wait()
	}()
	select {
	case u := <-url:
		return u, stop
	case err := <-waited:
		t.Fatalf("skills mcp --http exited before serving: %v", err)
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		t.Fatal("skills mcp --http did not start serving")
	}
	return "", nil
}

// TestCLI runs the real `skills mcp` and drives it with a client built with
// the Go SDK, over a stdio subprocess and over streamable HTTP on
// 127.0.0.1: an instructions skill is served as a prompt; wordcount,
// installed with `skills install` while the client is connected, appears
// with a tools/list_changed notification; it is called, with good and bad
// arguments; and the audit log chains every event.
func TestCLI(t *testing.T) {
	for _, transport := range []string{"stdio", "http"} {
		t.Run(transport, func(t *testing.T) {
			home := cliHome(t, "guide")
			auditFile := filepath.Join(t.TempDir(), "mcp.jsonl")
			args := []string{"--home", home, "mcp", "--workspace", t.TempDir(), "--audit", auditFile}
			var (
				tr   mcp.Transport
				stop = func() {}
			)
			if transport == "stdio" {
				tr = &mcp.CommandTransport{Command: exec.Command(skillsBin, args...)}
			} else {
				var url string
				url, stop = startHTTP(t, args...)
				if !strings.HasPrefix(url, "http://127.0.0.1:") || !strings.HasSuffix(url, "/mcp") {
					t.Fatalf("endpoint %s", url)
				}
				tr = &mcp.StreamableClientTransport{Endpoint: url, MaxRetries: -1}
			}
			c := connect(t, tr)
			if info := c.cs.InitializeResult(); info.ServerInfo.Name != "skills" || info.Capabilities.Tools == nil || !info.Capabilities.Tools.ListChanged {
				t.Fatalf("initialize result %+v", info)
			}

			if got := c.tools(t); len(got) != 0 {
				t.Fatalf("tools with only an instructions skill installed: %v", got)
			}
			if p := c.prompts(t)["guide"]; p == nil || !strings.HasPrefix(p.Description, "How to write a release note") {
				t.Fatalf("prompts %v", c.prompts(t))
			}
			gp, err := c.cs.GetPrompt(context.Background(), &mcp.GetPromptParams{Name: "guide"})
			if err != nil {
				t.Fatal(err)
			}
			body := gp.Messages[0].Content.(*mcp.TextContent).Text
			for _, want := range []string{"Writing a release note", "Skill folder: " + filepath.Join(home, "store"), "- scripts/changes.sh\n"} {
				if !strings.Contains(body, want) {
					t.Errorf("prompt text lacks %q:\n%s", want, body)
				}
			}

			// A user installs wordcount while the client is connected.
			if _, err := cli(t.Context(), "--home", home, "install", "wordcount"); err != nil {
				t.Fatal(err)
			}
			await(t, c.toolsChanged, "tools/list_changed after `skills install wordcount`")
			wc := c.tools(t)["wordcount"]
			if wc == nil || !strings.HasPrefix(wc.Description, "Counts the words") || wc.Meta["io.github.skillsdev/version"] != "1.0.0" {
				t.Fatalf("tools after install: %v", c.tools(t))
			}
			if props, _ := wc.InputSchema.(map[string]any)["properties"].(map[string]any); props["text"] == nil || props["top"] == nil {
				t.Fatalf("inputSchema %v", wc.InputSchema)
			}

			r := c.call(t, "wordcount", map[string]any{"text": "to be or not to be", "top": 2})
			if r.IsError || !strings.Contains(text(t, r), `"words":6`) || !strings.Contains(text(t, r), `{"word":"be","count":2}`) {
				t.Fatalf("call: %s", text(t, r))
			}
			e := wireError(t, c.call(t, "wordcount", map[string]any{"top": 2}))
			if e["code"] != "invalid_input" || e["message"] != `input: missing required property "text"` || e["skill"] != "wordcount" {
				t.Fatalf("bad arguments: %v", e)
			}
			if _, err := c.cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "nope", Arguments: map[string]any{}}); err == nil || !strings.Contains(err.Error(), `"nope"`) {
				t.Fatalf("unknown tool: %v", err)
			}

			c.cs.Close() // stdio: the server sees its input end and exits
			stop()

			f, err := os.Open(auditFile)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			sum, err := audit.Check(f)
			if err != nil {
				t.Fatalf("audit log: %v", err)
			}
			var types []string
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				var ev struct{ Type string }
				if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
					t.Fatal(err)
				}
				types = append(types, ev.Type)
			}
			want := []string{"run.start", "skill.reloaded", "tool.start", "tool.end", "tool.start", "tool.error", "run.end"}
			if strings.Join(types, " ") != strings.Join(want, " ") || sum.Events != len(want) {
				t.Fatalf("audit events %v (%d)\nwant %v", types, sum.Events, want)
			}
		})
	}
}

// TestCLIRefusesRemoteBind: a non-loopback --http address needs
// --allow-remote, and the refusal says why.
func TestCLIRefusesRemoteBind(t *testing.T) {
	cmd := exec.Command(skillsBin, "--home", t.TempDir(), "mcp", "--http", "0.0.0.0:0")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("exit %v, want 2:\n%s", err, out)
	}
	for _, want := range []string{"0.0.0.0:0", "non-loopback", "no authentication", "--allow-remote"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("refusal lacks %q:\n%s", want, out)
		}
	}
}
