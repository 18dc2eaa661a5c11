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
//     against the index);
//  6. write the new lock, the single commit point;
//  7. remove store entries the new lock does not reference.
//
// A failure or a kill at any step before 6 leaves the old lock, which only
// references store entries that are still there; store entries are never
// changed once written (only added, or removed after they are unreferenced).
package install

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/skillsdev/skills/marketplace/catalog"
	"github.com/skillsdev/skills/marketplace/index"
	"github.com/skillsdev/skills/marketplace/lock"
	"github.com/skillsdev/skills/marketplace/registry"
	"github.com/skillsdev/skills/marketplace/store"
	"github.com/skillsdev/skills/resolver"
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

// goal is what a change asks the resolver for.
type goal struct {
	requested map[string]string    // root skills -> constraint; "" for a new bare name
	pins      map[string]*lock.Pin // pinned skills (always roots)
	unlock    map[string]bool      // names whose locked version is not preferred
}

func goalFrom(cur *lock.Lock) *goal {
	g := &goal{requested: map[string]string{}, pins: map[string]*lock.Pin{}, unlock: map[string]bool{}}
	for n, e := range cur.Skills {
		if e.Requested != "" {
			g.requested[n] = e.Requested
		}
		if e.Pinned != nil {
			p := *e.Pinned
			g.pins[n] = &p
		}
	}
	return g
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

// planned is a resolved change, ready to download and commit.
type planned struct {
	next   *lock.Lock
	jobs   []*job
	result *Result
}

// job is one package to download and unpack.
type job struct {
	name, version string
	reg           *registry.Registry
	art           index.Artifact
	want          store.Want
	entry         *lock.Entry // completed with the store's hashes
}

func (m *Manager) plan(ctx context.Context, cur *lock.Lock, cat *catalog.Catalog, g *goal, f Flags) (*planned, error) {
	now := m.o.Now()
	names := map[string]bool{}
	for n := range g.requested {
		names[n] = true
	}
	for n := range g.pins {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	var roots []resolver.Requirement
	for _, n := range sorted {
		c := g.requested[n]
		if c == "" {
			// The pin itself holds the version, and a conflict is then
			// explained as "x is pinned to 1.0.0"; only a prerelease pin
			// needs a constraint that admits prereleases.
			c = "*"
			if p := g.pins[n]; p != nil && strings.Contains(p.Version, "-") {
				c = "=" + p.Version
			}
		}
		roots = append(roots, resolver.Requirement{Name: n, Raw: c})
	}
	opts := resolver.Options{Locked: map[string]*semver.Version{}, Pinned: map[string]*semver.Version{}, Now: now}
	for n, e := range cur.Skills {
		if g.unlock[n] {
			continue
		}
		if v, err := semver.StrictNewVersion(e.Version); err == nil {
			opts.Locked[n] = v
		}
	}
	for n, p := range g.pins {
		v, err := semver.StrictNewVersion(p.Version)
		if err != nil {
			return nil, fmt.Errorf("pin of %s: %q is not a version", n, p.Version)
		}
		opts.Pinned[n] = v
	}
	plan, err := resolver.Resolve(ctx, cat.Source(), roots, opts)
	if err != nil {
		var ns *resolver.NoSolutionError
		if errors.As(err, &ns) {
			return nil, fmt.Errorf("no set of versions satisfies the requirements:\n%w", err)
		}
		return nil, err
	}

	res := &Result{Warnings: append([]string(nil), plan.Warnings...)}
	next := lock.New()
	var jobs []*job
	var sunset []string
	for _, d := range plan.Order {
		ver := d.Version.Original()
		r, rel, err := cat.Release(d.Name, ver)
		if err != nil {
			return nil, err
		}
		art, key, err := rel.ArtifactFor(m.o.GOOS, m.o.GOARCH)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", d.Name, ver, err)
		}
		old := cur.Skills[d.Name]
		step := Step{Name: d.Name, Version: ver, SHA256: art.SHA256, Runtime: rel.Runtime}
		var e *lock.Entry
		switch {
		case old != nil && old.Version == ver && old.Platform == key:
			e = old.Clone()
			step.SHA256, step.Action = old.SHA256, ActionKeep
			if old.SHA256 != art.SHA256 {
				res.Warnings = append(res.Warnings, fmt.Sprintf("%s %s: registry %s now lists sha256 %s, but %s is installed; published versions must not change: keeping the installed package", d.Name, ver, r.Name(), art.SHA256, old.SHA256))
			}
			if !m.store.Has(old.SHA256) {
				if old.SHA256 != art.SHA256 {
					return nil, fmt.Errorf("%s %s: its store entry is missing and registry %s no longer lists the installed package (sha256 %s, now %s)", d.Name, ver, r.Name(), old.SHA256, art.SHA256)
				}
				step.Action = ActionFetch
				jobs = append(jobs, &job{name: d.Name, version: ver, reg: r.Registry, art: art, want: wantOf(d.Name, ver, rel), entry: e})
			}
		default:
			e = &lock.Entry{
				Version: ver, Runtime: rel.Runtime, Platform: key, SHA256: art.SHA256, Size: art.Size,
				Requires: map[string]string{}, Registry: r.Name(), IndexVersion: r.Fetched.Index.Version,
				Installed: now.UTC(),
			}
			for _, q := range rel.Requirements {
				e.Requires[q.Name] = q.Constraint
			}
			step.Action = ActionInstall
			if old != nil {
				step.From = old.Version
				step.Action = ActionUpgrade
				if ov, err := semver.StrictNewVersion(old.Version); err == nil && d.Version.LessThan(ov) {
					step.Action = ActionDowngrade
				}
			}
			if catalog.SunsetPassed(rel.Deprecated, now) && !f.AllowDeprecated {
				sunset = append(sunset, sunsetProblem(d.Name, ver, rel.Deprecated))
			}
			jobs = append(jobs, &job{name: d.Name, version: ver, reg: r.Registry, art: art, want: wantOf(d.Name, ver, rel), entry: e})
		}
		e.Requested = ""
		if _, ok := g.requested[d.Name]; ok {
			e.Requested = g.requested[d.Name]
			if e.Requested == "" {
				e.Requested = "^" + ver
			}
		}
		e.Pinned = g.pins[d.Name]
		next.Skills[d.Name] = e
		res.Order = append(res.Order, step)
	}
	if len(sunset) > 0 {
		return nil, fmt.Errorf("%s\npass --allow-deprecated to install it anyway", strings.Join(sunset, "\n"))
	}
	for _, n := range cur.Names() {
		if _, ok := next.Skills[n]; !ok {
			res.Removed = append(res.Removed, n+" "+cur.Skills[n].Version)
		}
	}
	sort.Strings(res.Warnings)
	res.Changed = !sameLock(cur, next)
	return &planned{next: next, jobs: jobs, result: res}, nil
}

func sunsetProblem(name, ver string, d *index.Deprecation) string {
	msg := fmt.Sprintf("%s %s is deprecated (%s) and its sunset %s has passed", name, ver, d.Message, d.Sunset)
	if r := catalog.Replacement(d); r != "" {
		msg += "; use " + r + " instead"
	}
	return msg
}

func wantOf(name, ver string, rel *index.Release) store.Want {
	return store.Want{Name: name, Version: ver, Runtime: rel.Runtime, Requirements: rel.Requirements}
}

// sameLock reports whether two locks encode alike (install times included).
func sameLock(a, b *lock.Lock) bool {
	x, errA := lock.Encode(a)
	y, errB := lock.Encode(b)
	return errA == nil && errB == nil && bytes.Equal(x, y)
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

// fetch runs the jobs, Options.Jobs at a time, and returns the store
// entries added. The first failure cancels the rest.
func (m *Manager) fetch(ctx context.Context, jobs []*job) ([]string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, m.o.Jobs)
	var (
		mu       sync.Mutex
		added    []string
		firstErr error
		wg       sync.WaitGroup
	)
	for _, j := range jobs {
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			if ctx.Err() != nil {
				return
			}
			err := m.fetchOne(ctx, j)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
					cancel()
				}
				return
			}
			added = append(added, j.art.SHA256)
		})
	}
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	return added, firstErr
}

// fetchOne downloads one package, verified while it streams, unpacks it
// into the store and completes the job's lock entry.
func (m *Manager) fetchOne(ctx context.Context, j *job) error {
	fail := func(err error) error { return fmt.Errorf("install %s %s: %w", j.name, j.version, err) }
	rc, err := j.reg.Open(ctx, j.art)
	if err != nil {
		return fail(err)
	}
	defer rc.Close()
	pw := &progress{m: m, name: j.name, version: j.version, total: j.art.Size}
	var src io.Reader
	if j.art.Size <= memLimit {
		buf := bytes.NewBuffer(make([]byte, 0, j.art.Size))
		if _, err := io.Copy(io.MultiWriter(buf, pw), rc); err != nil {
			return fail(err)
		}
		src = bytes.NewReader(buf.Bytes())
	} else {
		// Not synced: it is read back at once and then removed.
		tmp, err := os.CreateTemp(m.store.Root(), ".download-*")
		if err != nil {
			return fail(err)
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		if _, err := io.Copy(io.MultiWriter(tmp, pw), rc); err != nil {
			return fail(err)
		}
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return fail(err)
		}
		src = tmp
	}
	pw.flush()
	se, err := m.store.Add(ctx, j.art.SHA256, src, j.want, m.o.Limits)
	if err != nil {
		return err // store errors name the skill and version
	}
	if err := fill(j.entry, se); err != nil {
		m.store.Remove(j.art.SHA256)
		return fail(err)
	}
	m.emit(Event{Kind: EventUnpacked, Name: j.name, Version: j.version})
	return nil
}

// fill records the store entry's hashes in e; for an entry already in the
// lock (a re-fetch) they must be the ones recorded.
func fill(e *lock.Entry, se *store.Entry) error {
	var art *lock.Artifact
	if se.Manifest.Entry != "" {
		art = &lock.Artifact{Path: se.Manifest.Entry, SHA256: se.ArtifactSHA256}
	}
	if len(e.Files) > 0 {
		if !sameFiles(e.Files, se.Files) || (e.Artifact == nil) != (art == nil) || (art != nil && *art != *e.Artifact) {
			return fmt.Errorf("the unpacked package (sha256 %s) does not hold the files the lock records", se.SHA256)
		}
		return nil
	}
	e.Files, e.Artifact = se.Files, art
	return nil
}

func sameFiles(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// progress reports download progress about every 64 KiB.
type progress struct {
	m             *Manager
	name, version string
	total, n, at  int64
}

func (p *progress) Write(b []byte) (int, error) {
	p.n += int64(len(b))
	if p.n-p.at >= 64<<10 {
		p.flush()
	}
	return len(b), nil
}

func (p *progress) flush() {
	p.at = p.n
	p.m.emit(Event{Kind: EventDownload, Name: p.name, Version: p.version, Bytes: p.n, Total: p.total})
}
