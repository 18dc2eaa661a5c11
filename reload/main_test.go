package reload_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/skillsdev/skills/host"
	"github.com/skillsdev/skills/reload"
	"github.com/skillsdev/skills/reload/reloadtest"
)

var (
	root     string              // the checkout
	mods     reloadtest.Variants // prebuilt tick modules
	hostHome string              // the hosts' home: its cache holds the precompiled modules
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "reload-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	if root, err = reloadtest.Root(); err == nil {
		if hostHome = reloadtest.CacheHome("reload-test"); hostHome == "" {
			hostHome = filepath.Join(tmp, "host")
		}
		mods, err = reloadtest.BuildVariants(context.Background(), root, filepath.Join(tmp, "build"), hostHome)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	if shared != nil {
		shared.Close(context.Background())
	}
	return code
}

// sharedHost is the host of the package's tests, made by the first test
// that needs it, as an agent has one host for its life. A test that starts
// from tick 1.0.0 finds it loaded (same SKILL.md, same module), so only the
// versions a test swaps in cost a load: several seconds each under the
// race detector.
var (
	sharedOnce sync.Once
	shared     *host.Host
	sharedErr  error
)

func newHost(tb testing.TB) *host.Host {
	tb.Helper()
	sharedOnce.Do(func() {
		shared, sharedErr = host.New(context.Background(), host.Options{Home: hostHome, DrainTimeout: 10 * time.Second})
	})
	if sharedErr != nil {
		tb.Fatal(sharedErr)
	}
	return shared
}

// ownHost returns a host of the test's own.
func ownHost(tb testing.TB) *host.Host {
	tb.Helper()
	h, err := host.New(context.Background(), host.Options{Home: hostHome, DrainTimeout: 10 * time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { h.Close(context.Background()) })
	return h
}

// devTick writes a tick source folder at version 1 with its prebuilt module.
func devTick(tb testing.TB, parent string) string {
	tb.Helper()
	dir := filepath.Join(parent, "tick")
	reloadtest.Write(tb, root, dir, reloadtest.Tick{Name: "tick", Version: "1.0.0", Code: "1"})
	reloadtest.Install(tb, mods["v1"], dir)
	return dir
}

// events collects what a Reloader reports.
type events struct {
	mu  sync.Mutex
	all []reload.Event
}

func (e *events) add(ev reload.Event) {
	e.mu.Lock()
	e.all = append(e.all, ev)
	e.mu.Unlock()
}

func (e *events) list() []reload.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.all)
}

func (e *events) count(typ string) int {
	n := 0
	for _, ev := range e.list() {
		if ev.Type == typ {
			n++
		}
	}
	return n
}

// watching starts a Reloader on the source folders dirs (the desired set)
// plus home, runs its first cycle and returns it running.
func watching(tb testing.TB, h *host.Host, o reload.Options, dirs func() []string) (*reload.Reloader, *events) {
	tb.Helper()
	ev := &events{}
	o.Host = h
	o.OnEvent = ev.add
	o.Sources = func(context.Context) ([]host.Source, error) {
		var out []host.Source
		for _, d := range dirs() {
			out = append(out, host.Source{Dir: d, Origin: "dev"})
		}
		return out, nil
	}
	r, err := reload.New(o)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := r.Reload(ctx); err != nil {
		tb.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		<-done
		r.Close()
	})
	for _, d := range dirs() {
		settle(tb, r, d)
	}
	return r, ev
}

// eventually polls cond until it holds, failing the test after a minute: a
// bound for a hung test, not a speed requirement.
func eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// version calls tick and returns the version its code reports.
func version(ctx context.Context, h *host.Host) (string, error) {
	out, err := h.Call(ctx, "tick", json.RawMessage(`{}`))
	if err != nil {
		return "", err
	}
	var v struct{ Version string }
	if err := json.Unmarshal(out, &v); err != nil {
		return "", err
	}
	return v.Version, nil
}

// caller calls tick continuously until stopped, counting calls, failures
// and the versions seen.
type caller struct {
	mu       sync.Mutex
	calls    int
	failures []error
	seen     map[string]int
	stop     chan struct{}
	done     chan struct{}
}

// startCaller calls tick at about perSecond calls a second (catching up
// after a stall, as a steady client would) until finished.
func startCaller(h *host.Host, perSecond int) *caller {
	c := &caller{seen: map[string]int{}, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		t0 := time.Now()
		for n := 0; ; n++ {
			if wait := t0.Add(time.Duration(n) * time.Second / time.Duration(perSecond)).Sub(time.Now()); wait > 0 {
				select {
				case <-c.stop:
					return
				case <-time.After(wait):
				}
			}
			select {
			case <-c.stop:
				return
			default:
			}
			v, err := version(context.Background(), h)
			c.mu.Lock()
			c.calls++
			if err != nil {
				c.failures = append(c.failures, err)
			} else {
				c.seen[v]++
			}
			c.mu.Unlock()
		}
	}()
	return c
}

// finish stops the caller and returns what it saw.
func (c *caller) finish() (calls int, failures []error, seen map[string]int) {
	close(c.stop)
	<-c.done
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls, c.failures, c.seen
}

// saw reports whether the caller has been served version v.
func (c *caller) saw(v string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seen[v] > 0
}
