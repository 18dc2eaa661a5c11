// Package install changes and inspects the set of skills installed in a
// skills home ($SKILLS_HOME): install, upgrade, pin, unpin and uninstall,
// verify, and the list of installed skills the host loads.
//
// Every change follows the same steps, fail closed:
//
//  1. take the home's process lock (another skills process waits);
//  2. read skills.lock (a damaged lock stops everything);
//  3. fetch and verify the registries' indexes (package catalog);
//  4. resolve the requested skills plus pins with the resolver, preferring
//     the locked versions so that changes stay minimal;
//  5. download the missing packages in parallel, each checked for length
//     and SHA-256 while it streams and unpacked into the content-addressed
//     store only once it matched (package store checks the SKILL.md inside
//     against the index, hashes the files as it writes them and syncs them
//     in the background), one package downloading while another unpacks;
//     then wait until every new store entry is on disk (store.Sync);
//  6. write the new lock, the single commit point;
//  7. remove store entries the new lock does not reference.
//
// A failure, a kill or a power cut at any step before 6 leaves the old
// lock, which only references store entries that are still there; store
// entries are never changed once written (only added, or removed after they
// are unreferenced), and the lock never names an entry before it is durable.
package install

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/skillsdev/skills/marketplace/catalog"
	"github.com/skillsdev/skills/marketplace/index"
	"github.com/skillsdev/skills/marketplace/lock"
	"github.com/skillsdev/skills/marketplace/registry"
	"github.com/skillsdev/skills/marketplace/store"
	"github.com/skillsdev/skills/sdk/manifest"
)

// StoreDir is the store's folder inside the home.
const StoreDir = "store"

// DefaultJobs is how many packages are downloaded at once.
const DefaultJobs = 4

// memLimit is the largest package held in memory between download and
// unpacking; larger ones go through a temporary file in the store.
const memLimit = 16 << 20

// Options configures a Manager.
type Options struct {
	// Home is the skills home holding skills.lock, .lock and store/.
	Home string
	// Registries are read when an operation needs them, highest priority
	// first.
	Registries []*registry.Registry
	// Now is the clock (pins, install times, sunsets); nil means time.Now.
	Now func() time.Time
	// Jobs bounds parallel downloads; 0 means DefaultJobs.
	Jobs int
	// GOOS and GOARCH select plugin artifacts; empty means this machine.
	GOOS, GOARCH string
	// Events receives progress, one event at a time; nil discards.
	Events func(Event)
	// Limits bound what one package may unpack to; zero means the archive
	// package's defaults.
	Limits store.Limits
}

// EventKind says what an Event reports.
type EventKind string

// Event kinds, in the order an install emits them.
const (
	EventWaiting  EventKind = "waiting"  // another process holds the lock (PID, 0 if unknown)
	EventResolved EventKind = "resolved" // the plan: Count packages to download, Total bytes
	EventDownload EventKind = "download" // Name Version: Bytes of Total received so far
	EventUnpacked EventKind = "unpacked" // Name Version is in the store
	EventCommit   EventKind = "commit"   // about to write the lock
)

// Event is one progress report.
type Event struct {
	Kind          EventKind
	Name, Version string
	Bytes, Total  int64
	Count         int
	PID           int
}

// Flags are the switches of install, upgrade and pin.
type Flags struct {
	DryRun          bool // resolve and report, change nothing
	Frozen          bool // install exactly what the lock says (fetching missing store entries) or fail
	AllowDeprecated bool // install deprecated versions even after their sunset
}

// Action is what a Step does.
type Action string

// Actions.
const (
	ActionInstall   Action = "install"   // not installed before
	ActionUpgrade   Action = "upgrade"   // a higher version replaces the installed one
	ActionDowngrade Action = "downgrade" // a lower version replaces the installed one
	ActionFetch     Action = "fetch"     // same version, its store entry is missing or damaged
	ActionKeep      Action = "keep"      // unchanged
)

// Step is one skill of the resulting installed set.
type Step struct {
	Name, Version string
	SHA256        string // of the package
	Runtime       manifest.Runtime
	Action        Action
	From          string // the version replaced, for upgrades and downgrades
}

// Result reports a change.
type Result struct {
	// Order is every skill installed afterwards, dependencies first.
	Order []Step
	// Warnings are the resolver's notes (deprecations, yanked versions)
	// and the client's, sorted.
	Warnings []string
	// Removed lists the skills no longer installed, as "name version".
	Removed []string
	// Changed is true when the lock was written (or would be, for a dry
	// run).
	Changed bool
}

// Installs returns the steps that download or replace something, in
// install order.
func (r *Result) Installs() []Step {
	var out []Step
	for _, s := range r.Order {
		if s.Action != ActionKeep {
			out = append(out, s)
		}
	}
	return out
}

// Manager changes the installed set of one home.
type Manager struct {
	o     Options
	store *store.Store

	emitMu sync.Mutex
	catMu  sync.Mutex
	cat    *catalog.Catalog
}

// New returns a Manager for o.Home.
func New(o Options) (*Manager, error) {
	if o.Home == "" {
		return nil, errors.New("install: no skills home")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Jobs <= 0 {
		o.Jobs = DefaultJobs
	}
	if o.GOOS == "" {
		o.GOOS = runtime.GOOS
	}
	if o.GOARCH == "" {
		o.GOARCH = runtime.GOARCH
	}
	st, err := store.Open(storePath(o.Home))
	if err != nil {
		return nil, err
	}
	return &Manager{o: o, store: st}, nil
}

func storePath(home string) string { return home + string(os.PathSeparator) + StoreDir }

func (m *Manager) emit(e Event) {
	if m.o.Events == nil {
		return
	}
	m.emitMu.Lock()
	defer m.emitMu.Unlock()
	m.o.Events(e)
}

// Catalog fetches and verifies the registries' indexes once per Manager.
func (m *Manager) Catalog(ctx context.Context) (*catalog.Catalog, error) {
	m.catMu.Lock()
	defer m.catMu.Unlock()
	if m.cat != nil {
		return m.cat, nil
	}
	c, err := catalog.Fetch(ctx, m.o.Registries)
	if err != nil {
		return nil, err
	}
	m.cat = c
	return c, nil
}

// acquire takes the process lock, reporting a wait.
func (m *Manager) acquire(ctx context.Context) (*lock.Held, error) {
	return lock.Acquire(ctx, m.o.Home, func(pid int) { m.emit(Event{Kind: EventWaiting, PID: pid}) })
}

// Want is a skill the user asks for: a name and an optional constraint.
type Want struct {
	Name       string
	Constraint string // "" for any version
}

func (w Want) String() string {
	if w.Constraint == "" {
		return w.Name
	}
	return w.Name + "@" + w.Constraint
}

// ParseWant parses NAME or NAME@CONSTRAINT ("summarize@^1.2",
// "summarize@1.2.0" for exactly that version).
func ParseWant(s string) (Want, error) {
	name, c, has := strings.Cut(s, "@")
	if !index.ValidName(name) {
		return Want{}, fmt.Errorf("%q: invalid skill name (want NAME or NAME@CONSTRAINT, e.g. summarize@^1.2)", s)
	}
	if has {
		if strings.TrimSpace(c) == "" {
			return Want{}, fmt.Errorf("%q: empty constraint after @", s)
		}
		if _, err := semver.NewConstraint(c); err != nil {
			return Want{}, fmt.Errorf("%q: invalid constraint %q: %v", s, c, err)
		}
	}
	return Want{Name: name, Constraint: c}, nil
}

// Install adds wants to the requested skills (replacing the constraint of
// one already requested) and installs what they need. With no wants it
// installs what the lock requests (fetching missing store entries).
func (m *Manager) Install(ctx context.Context, wants []Want, f Flags) (*Result, error) {
	if f.Frozen {
		return m.frozen(ctx, wants, f)
	}
	return m.change(ctx, f, func(cur *lock.Lock, cat *catalog.Catalog) (*goal, error) {
		g := goalFrom(cur)
		for _, w := range wants {
			if err := cat.Check(w.Name); err != nil {
				return nil, err
			}
			if w.Constraint != "" {
				g.requested[w.Name] = w.Constraint
			} else if _, ok := g.requested[w.Name]; !ok {
				g.requested[w.Name] = ""
			}
		}
		return g, nil
	})
}

// Upgrade re-resolves without preferring the locked versions of names (of
// every installed skill when names is empty). Constraints and pins hold.
func (m *Manager) Upgrade(ctx context.Context, names []string, f Flags) (*Result, error) {
	f.Frozen = false
	return m.change(ctx, f, func(cur *lock.Lock, cat *catalog.Catalog) (*goal, error) {
		g := goalFrom(cur)
		if len(cur.Skills) == 0 {
			return nil, errors.New("upgrade: nothing is installed")
		}
		for _, n := range names {
			if _, ok := cur.Skills[n]; !ok {
				return nil, fmt.Errorf("upgrade %s: not installed (installed: %s)", n, strings.Join(cur.Names(), ", "))
			}
			g.unlock[n] = true
		}
		if len(names) == 0 {
			for n := range cur.Skills {
				g.unlock[n] = true
			}
		}
		return g, nil
	})
}

// Pin holds name at exactly version, installing that version if needed. It
// fails, listing the available versions, when the version does not exist,
// and with the resolver's explanation when another skill's constraint
// excludes it.
func (m *Manager) Pin(ctx context.Context, name, version, reason string, f Flags) (*Result, error) {
	f.Frozen = false
	if _, err := semver.StrictNewVersion(version); err != nil {
		return nil, fmt.Errorf("pin %s@%s: not an exact version like 1.2.0", name, version)
	}
	return m.change(ctx, f, func(cur *lock.Lock, cat *catalog.Catalog) (*goal, error) {
		if _, _, err := cat.Release(name, version); err != nil {
			return nil, fmt.Errorf("pin %s@%s: %w", name, version, err)
		}
		g := goalFrom(cur)
		g.pins[name] = &lock.Pin{Version: version, Reason: reason, Time: m.o.Now().UTC()}
		g.unlock[name] = true
		if _, installed := cur.Skills[name]; !installed {
			g.requested[name] = "^" + version
		}
		return g, nil
	})
}

// Unpin removes name's pin and returns it. Nothing is installed or removed:
// the next upgrade may move the skill.
func (m *Manager) Unpin(ctx context.Context, name string) (*lock.Pin, error) {
	held, err := m.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer held.Release()
	cur, err := lock.Load(m.o.Home)
	if err != nil {
		return nil, err
	}
	e, ok := cur.Skills[name]
	if !ok {
		return nil, fmt.Errorf("unpin %s: not installed", name)
	}
	if e.Pinned == nil {
		return nil, fmt.Errorf("unpin %s: not pinned (installed at %s)", name, e.Version)
	}
	pin := e.Pinned
	next := cur.Clone()
	ne := next.Skills[name]
	ne.Pinned = nil
	if ne.Requested == "" && len(next.Dependents(name)) == 0 {
		// Only the pin kept it installed: keep it, as a requested skill.
		ne.Requested = "^" + ne.Version
	}
	if err := lock.Save(m.o.Home, next); err != nil {
		return nil, err
	}
	return pin, nil
}

// change runs one resolution-based change: plan, download, commit, collect.
func (m *Manager) change(ctx context.Context, f Flags, prepare func(*lock.Lock, *catalog.Catalog) (*goal, error)) (*Result, error) {
	if !f.DryRun {
		held, err := m.acquire(ctx)
		if err != nil {
			return nil, err
		}
		defer held.Release()
	}
	cur, err := lock.Load(m.o.Home)
	if err != nil {
		return nil, err
	}
	cat, err := m.Catalog(ctx)
	if err != nil {
		return nil, err
	}
	g, err := prepare(cur, cat)
	if err != nil {
		return nil, err
	}
	p, err := m.plan(ctx, cur, cat, g, f)
	if err != nil {
		return nil, err
	}
	if f.DryRun {
		return p.result, nil
	}
	return p.result, m.apply(ctx, cur, p)
}

// apply downloads the planned packages, writes the lock and collects the
// store. Store entries added by a failed apply are removed again.
func (m *Manager) apply(ctx context.Context, cur *lock.Lock, p *planned) error {
	var total int64
	for _, j := range p.jobs {
		total += j.art.Size
	}
	m.emit(Event{Kind: EventResolved, Count: len(p.jobs), Total: total})
	added, err := m.fetch(ctx, p.jobs)
	if err == nil && p.result.Changed {
		m.emit(Event{Kind: EventCommit})
		err = lock.Save(m.o.Home, p.next)
	}
	if err != nil {
		referenced := shas(cur)
		for _, s := range added {
			if !referenced[s] {
				m.store.Remove(s)
			}
		}
		return err
	}
	m.collect(p.next, p.result)
	return nil
}

// collect removes store entries the lock does not reference; a failure is
// only a warning, since the lock is already written.
func (m *Manager) collect(l *lock.Lock, res *Result) {
	if _, err := m.store.GC(shas(l)); err != nil {
		res.Warnings = append(res.Warnings, "cleaning the store: "+err.Error())
	}
}

func shas(l *lock.Lock) map[string]bool {
	keep := make(map[string]bool, len(l.Skills))
	for _, e := range l.Skills {
		keep[e.SHA256] = true
	}
	return keep
}
