package install

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skillsdev/skills/marketplace/index"
	"github.com/skillsdev/skills/marketplace/lock"
	"github.com/skillsdev/skills/marketplace/markettest"
	"github.com/skillsdev/skills/marketplace/registry"
)

// now is the fixed clock of these tests.
var now = time.Date(2026, 9, 15, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return now }

// env is a home and a real registry served over HTTP on 127.0.0.1.
type env struct {
	t    *testing.T
	reg  *markettest.Registry
	srv  *markettest.Server
	home string

	mu     sync.Mutex
	events []Event
}

func req(name, c string) index.Requirement { return index.Requirement{Name: name, Constraint: c} }

// newEnv publishes the standard registry: report -> summarize -> wordcount,
// plus a few versions to choose from.
func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, reg: markettest.New(t, now), home: filepath.Join(t.TempDir(), "home")}
	for _, s := range []markettest.Skill{
		{Name: "wordcount", Version: "1.0.0"},
		{Name: "wordcount", Version: "1.1.0"},
		{Name: "wordcount", Version: "2.0.0"},
		{Name: "summarize", Version: "1.0.0", Requires: []index.Requirement{req("wordcount", "^1.0")}},
		{Name: "report", Version: "1.0.0", Requires: []index.Requirement{req("summarize", "^1.0"), req("wordcount", "^1.0")}},
		{Name: "notes", Version: "0.1.0", Runtime: "instructions", Description: "Note-taking instructions."},
	} {
		e.reg.Add(t, s)
	}
	e.reg.Publish(t)
	e.srv = e.reg.Serve(t)
	return e
}

func (e *env) registry(keys ...string) *registry.Registry {
	e.t.Helper()
	if keys == nil {
		keys = []string{e.reg.VKey}
	}
	r, err := registry.New(registry.Config{Name: "test", URL: e.srv.URL, Keys: keys},
		registry.Options{StateDir: filepath.Join(e.home, "registries"), Now: clock, StallTimeout: 10 * time.Second})
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

func (e *env) manager(keys ...string) *Manager {
	e.t.Helper()
	m, err := New(Options{Home: e.home, Registries: []*registry.Registry{e.registry(keys...)}, Now: clock,
		Events: func(ev Event) {
			e.mu.Lock()
			e.events = append(e.events, ev)
			e.mu.Unlock()
		}})
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

func wants(t *testing.T, specs ...string) []Want {
	t.Helper()
	var out []Want
	for _, s := range specs {
		w, err := ParseWant(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, w)
	}
	return out
}

func (e *env) install(f Flags, specs ...string) (*Result, error) {
	e.t.Helper()
	return e.manager().Install(context.Background(), wants(e.t, specs...), f)
}

func (e *env) mustInstall(specs ...string) *Result {
	e.t.Helper()
	res, err := e.install(Flags{}, specs...)
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}

func (e *env) lock() *lock.Lock {
	e.t.Helper()
	l, err := lock.Load(e.home)
	if err != nil {
		e.t.Fatal(err)
	}
	return l
}

// versions renders the lock as "name@version" in name order.
func (e *env) versions() string {
	l := e.lock()
	var out []string
	for _, n := range l.Names() {
		out = append(out, n+"@"+l.Skills[n].Version)
	}
	return strings.Join(out, " ")
}

// snapshot is what must not change when an operation fails.
type snapshot struct {
	lock  []byte
	store []string
}

func (e *env) snapshot() snapshot {
	e.t.Helper()
	data, err := os.ReadFile(filepath.Join(e.home, lock.FileName))
	if err != nil && !os.IsNotExist(err) {
		e.t.Fatal(err)
	}
	return snapshot{lock: data, store: e.storeNames()}
}

func (e *env) storeNames() []string {
	des, _ := os.ReadDir(filepath.Join(e.home, StoreDir))
	var names []string
	for _, d := range des {
		names = append(names, d.Name())
	}
	return names
}

func (e *env) unchanged(before snapshot) {
	e.t.Helper()
	after := e.snapshot()
	if !bytes.Equal(before.lock, after.lock) {
		e.t.Errorf("the lock changed:\n%s\n---\n%s", before.lock, after.lock)
	}
	if !slices.Equal(before.store, after.store) {
		e.t.Errorf("the store changed: %v -> %v", before.store, after.store)
	}
}

func order(steps []Step) string {
	var out []string
	for _, s := range steps {
		out = append(out, s.Name+"@"+s.Version)
	}
	return strings.Join(out, " ")
}

func mustContain(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not contain %q", err, p)
		}
	}
}
