//go:build unix

package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skillsdev/skills/host/engine"
	"github.com/skillsdev/skills/sdk/wire"
)

func TestEcho(t *testing.T) {
	e := newEngine(t)
	s := load(t, e, "echo", nil)
	big := `"` + strings.Repeat("x", 1<<20) + `"`
	tests := []struct {
		name, in string
	}{
		{"object", `{"a":1,"b":[true,null]}`},
		{"array", `[1,2,3]`},
		{"string", `"hello"`},
		{"empty object", `{}`},
		{"1 MiB", big},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := s.Call(context.Background(), []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tt.in {
				t.Errorf("got %.80q, want %.80q", out, tt.in)
			}
		})
	}
}

func TestConcurrentCallsShareOneProcess(t *testing.T) {
	e := newEngine(t)
	s := load(t, e, "echo", nil)
	if err := s.Warm(context.Background()); err != nil {
		t.Fatal(err)
	}
	pid := currentPID(s)
	var wg sync.WaitGroup
	errs := make(chan error, 16*10)
	for g := range 16 {
		wg.Go(func() {
			for i := range 10 {
				in := []byte(`{"g":` + itoa(g) + `,"i":` + itoa(i) + `}`)
				out, err := s.Call(context.Background(), in)
				if err == nil && !bytes.Equal(out, in) {
					err = errors.New("got " + string(out) + ", want " + string(in))
				}
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := currentPID(s); got != pid {
		t.Errorf("pid changed from %d to %d: concurrent calls should share the process", pid, got)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestHandlerErrorCodes(t *testing.T) {
	e := newEngine(t)
	s := load(t, e, "errcode", nil)
	tests := []struct {
		fail     string
		code     wire.Code
		inMsg    string
		wantBody string
	}{
		{fail: "typed", code: "quota_exceeded", inMsg: "no more words today"},
		{fail: "wrapped", code: wire.CodeNotFound, inMsg: "no such file"},
		{fail: "plain", code: wire.CodeHandler, inMsg: "something broke"},
		{fail: "unencodable", code: wire.CodeHandler, inMsg: "encode output"},
		{fail: "", wantBody: `{"ok":"yes"}`},
	}
	for _, tt := range tests {
		t.Run("fail="+tt.fail, func(t *testing.T) {
			out, err := s.Call(context.Background(), []byte(`{"fail":"`+tt.fail+`"}`))
			if tt.code == "" {
				if err != nil || string(out) != tt.wantBody {
					t.Fatalf("got %s, %v; want %s", out, err, tt.wantBody)
				}
				return
			}
			we := wireErr(t, err)
			if we.Code != tt.code || !strings.Contains(we.Message, tt.inMsg) {
				t.Errorf("got %v, want code %s with %q", we, tt.code, tt.inMsg)
			}
		})
	}
}

func TestCallbacks(t *testing.T) {
	cb := &testCallbacks{}
	e := newEngine(t)
	s := load(t, e, "callback", cb)
	type report struct {
		Output json.RawMessage `json:"output"`
		Error  *wire.Error     `json:"error"`
	}
	tests := []struct {
		name    string
		in      string
		want    report      // the guest's report, when the call succeeds
		callErr *wire.Error // the call's error, when it fails
	}{
		{name: "tool output", in: `{"kind":"tool","name":"echo","input":{"n":1}}`, want: report{Output: json.RawMessage(`{"n":1}`)}},
		{name: "callback runs with the caller's ctx", in: `{"kind":"tool","name":"whoami"}`, want: report{Output: json.RawMessage(`"outer-call"`)}},
		{name: "skill output", in: `{"kind":"skill","name":"child","input":{}}`, want: report{Output: json.RawMessage(`{"from":"child"}`)}},
		{name: "typed tool error reaches the guest", in: `{"kind":"tool","name":"deny"}`,
			want: report{Error: &wire.Error{Code: wire.CodeToolDenied, Skill: "deny", Message: "not in allowed-tools", Chain: []string{"outer", "callback"}}}},
		{name: "typed skill error reaches the guest", in: `{"kind":"skill","name":"outer"}`,
			want: report{Error: &wire.Error{Code: wire.CodeCycle, Skill: "outer", Message: "already on the chain", Chain: []string{"outer", "callback", "outer"}}}},
		{name: "plain host error is internal", in: `{"kind":"tool","name":"plain"}`,
			want: report{Error: &wire.Error{Code: wire.CodeInternal, Skill: "plain", Message: "disk on fire"}}},
		{name: "typed error returned by the handler keeps its code", in: `{"kind":"tool","name":"deny","return_error":true}`,
			callErr: &wire.Error{Code: wire.CodeToolDenied, Skill: "deny", Message: "not in allowed-tools", Chain: []string{"outer", "callback"}}},
		{name: "unknown skill", in: `{"kind":"skill","name":"nope","return_error":true}`,
			callErr: &wire.Error{Code: wire.CodeNotFound, Skill: "nope", Message: "no such skill"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.WithValue(context.Background(), ctxKey{}, "outer-call")
			out, err := s.Call(ctx, []byte(tt.in))
			if tt.callErr != nil {
				we := wireErr(t, err)
				if !equalErr(we, tt.callErr) {
					t.Fatalf("got error %#v, want %#v", we, tt.callErr)
				}
				if !errors.Is(err, &wire.Error{Code: tt.callErr.Code}) {
					t.Errorf("errors.Is does not match code %s", tt.callErr.Code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got report
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("bad report %s: %v", out, err)
			}
			if !bytes.Equal(got.Output, tt.want.Output) {
				t.Errorf("output %s, want %s", got.Output, tt.want.Output)
			}
			if (got.Error == nil) != (tt.want.Error == nil) || got.Error != nil && !equalErr(got.Error, tt.want.Error) {
				t.Errorf("guest saw error %#v, want %#v", got.Error, tt.want.Error)
			}
		})
	}
}

func equalErr(a, b *wire.Error) bool {
	return a.Code == b.Code && a.Skill == b.Skill && a.Message == b.Message && strings.Join(a.Chain, ">") == strings.Join(b.Chain, ">")
}

func TestCallbackLog(t *testing.T) {
	cb := &testCallbacks{}
	e := newEngine(t)
	s := load(t, e, "callback", cb)
	ctx := context.WithValue(context.Background(), ctxKey{}, "logging-call")
	if _, err := s.Call(ctx, []byte(`{"kind":"tool","name":"echo","input":{},"log":"hello from the guest"}`)); err != nil {
		t.Fatal(err)
	}
	logs := cb.logged()
	if len(logs) != 1 || logs[0].msg != "hello from the guest" || logs[0].level != 4 || logs[0].value != "logging-call" {
		t.Fatalf("logs = %+v, want one warn line with the call's ctx", logs)
	}
}

func TestCallbackBoundedByCallDeadline(t *testing.T) {
	e := newEngine(t)
	s := load(t, e, "callback", &testCallbacks{})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	// The "wait" tool returns only when its ctx ends: the call's deadline
	// must reach it through the plugin.
	_, err := s.Call(ctx, []byte(`{"kind":"tool","name":"wait","return_error":true}`))
	if we := wireErr(t, err); we.Code != wire.CodeTimeout {
		t.Fatalf("got %v, want timeout", we)
	}
	if out, err := s.Call(context.Background(), []byte(`{"kind":"tool","name":"echo","input":1}`)); err != nil {
		t.Fatalf("next call: %v", err)
	} else if !strings.Contains(string(out), `"output":1`) {
		t.Fatalf("next call: %s", out)
	}
}

func TestCrashThenRestart(t *testing.T) {
	tests := []struct {
		guest, in string
		inMsg     string
	}{
		{"panic", `{"panic":true}`, "panic: boom from the panic guest"},
		{"exit", `{"exit":true}`, "plugin exited: exit status 3"},
	}
	for _, tt := range tests {
		t.Run(tt.guest, func(t *testing.T) {
			e := newEngine(t)
			s := load(t, e, tt.guest, nil)
			if _, err := s.Call(context.Background(), []byte(`{}`)); err != nil {
				t.Fatal(err)
			}
			pid := currentPID(s)
			_, err := s.Call(context.Background(), []byte(tt.in))
			we := wireErr(t, err)
			if we.Code != wire.CodeCrashed || !strings.Contains(we.Message, tt.inMsg) || !strings.Contains(we.Message, "plugin exited") {
				t.Fatalf("got %v, want crashed with %q", we, tt.inMsg)
			}
			t.Log(we)
			out, err := s.Call(context.Background(), []byte(`{"again":1}`))
			if err != nil || string(out) != `{"again":1}` {
				t.Fatalf("call after the crash: %s, %v", out, err)
			}
			if got := currentPID(s); got == pid || got == 0 {
				t.Errorf("pid after restart %d, before %d: want a new process", got, pid)
			}
		})
	}
}

func TestTimeoutKillsRunawayPlugin(t *testing.T) {
	e := newEngine(t)
	s := load(t, e, "loop", nil)
	if err := s.Warm(context.Background()); err != nil {
		t.Fatal(err)
	}
	pid := currentPID(s)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := s.Call(ctx, []byte(`{"loop":true}`))
	if we := wireErr(t, err); we.Code != wire.CodeTimeout {
		t.Fatalf("got %v, want timeout", we)
	}
	waitGone(t, pid)
	out, err := s.Call(context.Background(), []byte(`{"after":"loop"}`))
	if err != nil || string(out) != `{"after":"loop"}` {
		t.Fatalf("call after the timeout: %s, %v", out, err)
	}
}

func TestCanceledBeforeCall(t *testing.T) {
	e := newEngine(t)
	s := load(t, e, "echo", nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Call(ctx, []byte(`{}`))
	if we := wireErr(t, err); we.Code != wire.CodeCanceled {
		t.Fatalf("got %v, want canceled", we)
	}
}

func TestHashPinning(t *testing.T) {
	art := filepath.Join(t.TempDir(), "marker")
	copyFile(t, guests["marker"], art)
	sum := sha256File(t, art)
	wrong := strings.Repeat("ab", 32)

	tests := []struct {
		name, sha string
		wantErr   string // "" means the load succeeds
	}{
		{"mismatch", wrong, "refusing to run it"},
		{"not hex", "xyz", "not 64 lowercase hex digits"},
		{"uppercase", strings.ToUpper(sum), "not 64 lowercase hex digits"},
		{"match", sum, ""},
		{"none", "", ""},
		// The caller's bytes (engine.Spec.Code) are what is copied and run,
		// hashed here only when no digest comes with them; the artifact
		// path is not read (here it does not exist).
		{"code with its digest", sum, ""},
		{"code without a digest", "", ""},
		{"code with another digest", wrong, "refusing to run it"},
	}
	code, err := os.ReadFile(art)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEngine(t)
			spec := engine.Spec{Name: "marker", Artifact: art, SHA256: tt.sha}
			if strings.HasPrefix(tt.name, "code") {
				spec.Artifact, spec.Code = filepath.Join(t.TempDir(), "gone"), code
			}
			s, err := e.Load(context.Background(), spec)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "load marker") {
					t.Fatalf("got %v, want an error with %q", err, tt.wantErr)
				}
				// Nothing ran: no marker beside the artifact or in the store,
				// and the store holds no copy to run later.
				for _, dir := range []string{filepath.Dir(art), e.store} {
					if m, _ := filepath.Glob(filepath.Join(dir, "*.ran")); len(m) > 0 {
						t.Fatalf("the refused binary ran: %v", m)
					}
				}
				if entries, _ := os.ReadDir(e.store); len(entries) != 0 {
					t.Fatalf("store holds %d entries after a refusal", len(entries))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// The control: this binary does leave a marker when it runs, and
			// what runs is the private copy.
			if err := s.Warm(context.Background()); err != nil {
				t.Fatal(err)
			}
			copyPath := filepath.Join(e.store, sum)
			if _, err := os.Stat(copyPath + ".ran"); err != nil {
				t.Fatalf("the private copy did not run: %v", err)
			}
			if _, err := os.Stat(art + ".ran"); err == nil {
				t.Fatal("the original artifact ran; only the private copy may")
			}
			fi, err := os.Stat(copyPath)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o555 {
				t.Errorf("private copy mode %v, want 0555", fi.Mode().Perm())
			}
			di, err := os.Stat(e.store)
			if err != nil {
				t.Fatal(err)
			}
			if di.Mode().Perm() != 0o700 {
				t.Errorf("store mode %v, want 0700", di.Mode().Perm())
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	e := newEngine(t)
	dir := t.TempDir()
	tests := []struct {
		name, artifact, want string
	}{
		{"missing", filepath.Join(dir, "nope"), "no such file"},
		{"directory", dir, "not a regular file"},
		{"empty path", "", "no artifact path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.Load(context.Background(), engine.Spec{Name: "bad", Artifact: tt.artifact})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "load bad: ") {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := New(context.Background(), Options{}); err == nil || !strings.Contains(err.Error(), "StoreDir") {
		t.Errorf("New without a store: %v", err)
	}
}

// TestBrokenPluginBacksOff loads a program that is not a plugin: every start
// fails, and repeated calls must not spawn it once per call.
func TestBrokenPluginBacksOff(t *testing.T) {
	dir := t.TempDir()
	art := filepath.Join(dir, "broken")
	// Each run appends a line to <its path>.count, in the store.
	script := "#!/bin/sh\necho run >> \"$0.count\"\necho this is not a plugin\n"
	if err := os.WriteFile(art, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	e := newEngine(t)
	s, err := e.Load(context.Background(), engine.Spec{Name: "broken", Artifact: art})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Warm(context.Background()); err == nil || !strings.Contains(err.Error(), "handshake") {
		t.Fatalf("Warm: %v, want a handshake error", err)
	}
	const calls = 10
	sawBackoff := false
	for range calls {
		_, err := s.Call(context.Background(), []byte(`{}`))
		we := wireErr(t, err)
		if we.Code != wire.CodeInternal || !strings.Contains(we.Message, "handshake") {
			t.Fatalf("got %v, want an internal handshake error", we)
		}
		if !sawBackoff && strings.Contains(we.Message, "next restart allowed in") {
			sawBackoff = true
			t.Log(we)
		}
	}
	b, err := os.ReadFile(filepath.Join(e.store, sha256File(t, art)) + ".count")
	if err != nil {
		t.Fatal(err)
	}
	runs := strings.Count(string(b), "run")
	if runs < 2 || runs >= calls {
		t.Errorf("the broken plugin ran %d times for Warm and %d calls: want a few, not one per call", runs, calls)
	}
	if !sawBackoff {
		t.Error("no call said when the next restart is allowed")
	}
}

func TestCloseFailsLaterCalls(t *testing.T) {
	e := newEngine(t)
	s := load(t, e, "echo", nil)
	if err := s.Warm(context.Background()); err != nil {
		t.Fatal(err)
	}
	pid := currentPID(s)
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitGone(t, pid)
	if _, err := s.Call(context.Background(), []byte(`{}`)); wireErr(t, err).Code != wire.CodeInternal {
		t.Fatalf("call after Close: %v", err)
	}
	if _, err := e.Load(context.Background(), engine.Spec{Name: "x", Artifact: guests["echo"]}); err != nil {
		t.Fatalf("engine still loads after one skill closed: %v", err)
	}
}

// TestRunByHand checks what a person sees who runs a plugin binary directly.
func TestRunByHand(t *testing.T) {
	cmd := exec.Command(guests["echo"])
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("exit: %v, want status 1", err)
	}
	if !strings.Contains(stderr.String(), "is a skills plugin") || !strings.Contains(stderr.String(), "skills run DIR") {
		t.Errorf("stderr does not explain how to run the skill:\n%s", stderr.String())
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}
