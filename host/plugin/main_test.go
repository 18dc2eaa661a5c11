//go:build unix

package plugin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/skillsdev/skills/host/engine"
	"github.com/skillsdev/skills/sdk/build"
	"github.com/skillsdev/skills/sdk/manifest"
	"github.com/skillsdev/skills/sdk/wire"
)

// guests maps a test guest's name (a folder of testdata) to its binary,
// built once by TestMain.
var guests map[string]string

// Environment of the fake host that TestHostDeathLeavesNoOrphan re-executes
// this test binary as.
const (
	envFakeHostArtifact = "SKILLS_PLUGIN_TEST_FAKE_HOST"
	envFakeHostStore    = "SKILLS_PLUGIN_TEST_FAKE_HOST_STORE"
)

func TestMain(m *testing.M) {
	if art := os.Getenv(envFakeHostArtifact); art != "" {
		os.Exit(fakeHost(art, os.Getenv(envFakeHostStore)))
	}
	flag.Parse()
	if f := flag.Lookup("test.fuzzworker"); f != nil && f.Value.String() == "true" {
		os.Exit(m.Run()) // a fuzz worker runs only FuzzLineWriter, which needs no guests
	}
	dir, err := os.MkdirTemp("", "plugin-guests-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	guests, err = buildGuests(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildGuests builds every testdata guest with the real SDK build, two at a
// time (linking dominates and the machine has two cores).
func buildGuests(dir string) (map[string]string, error) {
	names := []string{"echo", "callback", "panic", "exit", "loop", "errcode", "spawn", "marker", "bare"}
	out := make(map[string]string, len(names))
	var mu sync.Mutex
	var errs []error
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for _, name := range names {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			path, err := build.Build(ctx, build.Options{
				Dir:     filepath.Join("testdata", name),
				Runtime: manifest.RuntimePlugin,
				Output:  filepath.Join(dir, name),
			})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			out[name] = path
		})
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// fakeHost loads a plugin, starts it, prints its pid and waits to be killed.
func fakeHost(artifact, store string) int {
	ctx := context.Background()
	e, err := New(ctx, Options{StoreDir: store, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	s, err := e.Load(ctx, engine.Spec{Name: "orphan", Artifact: artifact})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := s.Warm(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(currentPID(s.(*Skill)))
	time.Sleep(time.Hour)
	return 0
}

// currentPID is the pid of the process serving s now, or 0.
func currentPID(s *Skill) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil {
		return 0
	}
	return s.cur.pid()
}

// ctxKey carries a value from a test's Call into its callbacks, to show that
// a callback runs with the context of the call it belongs to.
type ctxKey struct{}

// testCallbacks is a small real host: a few tools and skills, and a log.
type testCallbacks struct {
	mu   sync.Mutex
	logs []logLine
}

type logLine struct {
	level slog.Level
	msg   string
	value any // ctxKey's value in the callback's ctx
}

func (c *testCallbacks) CallTool(ctx context.Context, name string, input []byte) ([]byte, error) {
	switch name {
	case "echo":
		return input, nil
	case "whoami":
		return json.Marshal(ctx.Value(ctxKey{}))
	case "deny":
		return nil, &wire.Error{Code: wire.CodeToolDenied, Skill: "deny", Message: "not in allowed-tools", Chain: []string{"outer", "callback"}}
	case "plain":
		return nil, errors.New("disk on fire")
	case "wait":
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return nil, &wire.Error{Code: wire.CodeNotFound, Skill: name, Message: "no such tool"}
}

func (c *testCallbacks) CallSkill(ctx context.Context, name string, input []byte) ([]byte, error) {
	switch name {
	case "child":
		return []byte(`{"from":"child"}`), nil
	case "outer":
		return nil, &wire.Error{Code: wire.CodeCycle, Skill: "outer", Message: "already on the chain", Chain: []string{"outer", "callback", "outer"}}
	}
	return nil, &wire.Error{Code: wire.CodeNotFound, Skill: name, Message: "no such skill"}
}

func (c *testCallbacks) Log(ctx context.Context, level slog.Level, msg string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.logs = append(c.logs, logLine{level: level, msg: msg, value: ctx.Value(ctxKey{})})
}

func (c *testCallbacks) logged() []logLine {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]logLine(nil), c.logs...)
}

// quietLogger drops logs: crashes are expected in these tests.
func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newEngine returns an engine on a fresh store, closed with the test.
func newEngine(t testing.TB) *Engine {
	t.Helper()
	e, err := New(context.Background(), Options{StoreDir: filepath.Join(t.TempDir(), "store"), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return e
}

// load loads a test guest.
func load(t testing.TB, e *Engine, guest string, cb engine.Callbacks) *Skill {
	t.Helper()
	s, err := e.Load(context.Background(), engine.Spec{Name: guest, Artifact: guests[guest], Callbacks: cb})
	if err != nil {
		t.Fatal(err)
	}
	return s.(*Skill)
}

// sha256File is the lowercase hex digest of a file.
func sha256File(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// wireErr asserts that err is a *wire.Error and returns it.
func wireErr(t *testing.T, err error) *wire.Error {
	t.Helper()
	var we *wire.Error
	if !errors.As(err, &we) {
		t.Fatalf("error %v (%T) is not a *wire.Error", err, err)
	}
	return we
}
