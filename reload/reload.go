// Package reload keeps a running host's skills in step with the disk. It
// watches the folders the skill set is made from (the skills home: its lock,
// its store, its dev registrations; and the source folders of skills under
// development) and, after each burst of file events, runs one reload cycle:
//
//  1. rebuild the source folders whose artifact is older than their Go
//     sources (sdk/build), one build per folder however many saves;
//  2. compute the desired set with the caller's Sources function (the
//     installed skills plus a dev overlay; this package knows nothing of
//     the marketplace);
//  3. host.Apply it: new and changed skills are loaded and warmed off the hot
//     path and swapped in atomically, calls in flight finish on the old
//     generation, and a skill that fails (compile error, bad SKILL.md, hash
//     mismatch, trap on warm-up) keeps its previous version serving;
//  4. report what happened as events (skill.reloaded with the old and new
//     version, skill.reload_failed with the error, skill.removed,
//     skill.deprecated) through a callback, which the agent CLI records in
//     its audit chain.
//
// A source folder deleted under a running host drops out of the set, so the
// skill disappears from the next snapshot instead of failing its calls.
//
// Files have no transactions. A save that touches several files is read
// whole when its events come in one burst, but a cycle already running (one
// started by an earlier change) can read it half-done: then the mix is
// loaded, or fails, and the cycle that the save's own events start loads
// the finished save. Failures of source folders are held back for
// Options.Settle so that such a half-read is not reported as a breakage.
package reload

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/skillsdev/skills/host"
	"github.com/skillsdev/skills/sdk/manifest"
)

// Event types reported by a Reloader. The agent loop records them under the
// same names.
const (
	EventReloaded     = "skill.reloaded"      // a new or changed skill now serves
	EventReloadFailed = "skill.reload_failed" // a skill could not be (re)loaded; its old version, if any, keeps serving
	EventRemoved      = "skill.removed"       // a skill left the set
	EventDeprecated   = "skill.deprecated"    // a serving skill became deprecated (a refreshed index said so)
)

// Event is one thing a reload cycle did. It encodes to the JSON object that
// becomes the event's data in an audit log.
type Event struct {
	Type        string `json:"-"`
	Skill       string `json:"skill"`
	From        string `json:"from,omitempty"`    // version serving before (skill.reloaded, skill.removed)
	To          string `json:"to,omitempty"`      // version serving now (skill.reloaded, skill.deprecated)
	Serving     string `json:"serving,omitempty"` // skill.reload_failed: the version that keeps serving, if any
	Error       string `json:"error,omitempty"`
	Message     string `json:"message,omitempty"`     // skill.deprecated: the registry's message
	Replacement string `json:"replacement,omitempty"` // skill.deprecated: what to use instead
	Origin      string `json:"origin,omitempty"`      // where the new version comes from
	Generation  uint64 `json:"generation,omitempty"`  // host generation after the cycle
}

// Options configures a Reloader.
type Options struct {
	// Host is the host to keep in step. Required.
	Host *host.Host
	// Sources returns the desired skill set. Required. Sources whose Origin
	// is host.OriginDev are source folders under development: they are watched,
	// rebuilt when stale, and parsed afresh each cycle (Manifest may be nil).
	// Installed sources carry the lock's SHA256 and are passed on as given.
	Sources func(ctx context.Context) ([]host.Source, error)
	// Dirs are watched too: a change in any of them starts a cycle. For the
	// skills home: the home itself (its lock is replaced by a rename), its
	// store, its dev registrations and its registries' freshness records.
	Dirs []string
	// NoBuild leaves stale source folders unbuilt (a separate `skills dev`
	// process builds them); their artifacts are loaded as they are.
	NoBuild bool
	// Quiet and MaxWait tune the coalescing of file events (see WatcherOptions).
	Quiet, MaxWait time.Duration
	// Settle is how long Run holds back the failure of a source folder
	// under development before reporting it. A file event in the folder
	// meanwhile drops the failure, and the cycle that event starts tries
	// again: a save read half-written (an editor that truncates, then
	// writes, and is descheduled in between) is not reported as broken.
	// 0 means DefaultSettle; a negative value reports failures at once.
	Settle time.Duration
	// OnEvent receives every event, in order, from the goroutine running the
	// cycle. It should be quick.
	OnEvent func(Event)
	// Logger receives debug details and watch errors; nil discards.
	Logger *slog.Logger
}

// DefaultSettle is the Settle used when Options.Settle is 0.
const DefaultSettle = 250 * time.Millisecond

// Report says what one cycle did.
type Report struct {
	Result *host.Result // what Apply did; nil when the cycle stopped before it
	Built  []string     // source folders rebuilt, by skill name
	Events []Event      // the events reported
	Cause  []string     // the changed folders that started the cycle (empty for Reload)
}

// Stats counts what a Reloader has done.
type Stats struct {
	Cycles   int // reload cycles run
	Builds   int // source folders rebuilt
	Reloaded int // skill.reloaded events
	Failed   int // skill.reload_failed events
	Removed  int // skill.removed events
}

// Reloader runs reload cycles: on demand (Reload) and after file changes (Run).
type Reloader struct {
	o   Options
	w   *Watcher
	log *slog.Logger

	mu    sync.Mutex // serializes cycles
	dev   []string   // source folders of the last desired set
	held  []held     // failures waiting out Options.Settle
	stats Stats
}

// held is a failure of a source folder that is not reported yet.
type held struct {
	ev    Event
	dir   string    // the source folder
	since time.Time // when the cycle that failed started reading it
	due   time.Time // when it is reported unless the folder changes
}

// New makes a Reloader and starts watching Options.Dirs. Nothing is loaded
// until Reload or Run.
func New(o Options) (*Reloader, error) {
	if o.Host == nil || o.Sources == nil {
		return nil, errors.New("reload: Options.Host and Options.Sources are required")
	}
	if o.Settle == 0 {
		o.Settle = DefaultSettle
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w, err := NewWatcher(WatcherOptions{Quiet: o.Quiet, MaxWait: o.MaxWait, Logger: log})
	if err != nil {
		return nil, err
	}
	r := &Reloader{o: o, w: w, log: log}
	if _, err := w.Set(o.Dirs); err != nil {
		w.Close()
		return nil, err
	}
	return r, nil
}

// Reload runs one cycle now. The first cycle of a Reloader loads the initial
// set: it reports failures as events, but not the skills it loaded (they
// are in the Report). The error is that of Sources or of Apply; failures of
// single skills are events, not errors.
func (r *Reloader) Reload(ctx context.Context) (*Report, error) {
	return r.cycle(ctx, nil, false)
}

// Run reloads after every burst of changes until ctx is done. Errors of a
// cycle are reported as events and logged; Run goes on.
func (r *Reloader) Run(ctx context.Context) error {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		var due <-chan time.Time
		if next, ok := r.nextDue(); ok {
			timer.Reset(time.Until(next))
			due = timer.C
		}
		select {
		case <-ctx.Done():
			return nil
		case ch, ok := <-r.w.Changes():
			if !ok {
				return errors.New("reload: watcher closed")
			}
			r.log.Debug("reload: change", "dirs", ch.Dirs, "events", ch.Events)
			if _, err := r.cycle(ctx, ch.Dirs, true); err != nil && ctx.Err() == nil {
				r.log.Warn("reload", "err", err)
			}
		case <-due:
			r.flush(time.Now())
		}
	}
}

// nextDue returns when the earliest held failure is due.
func (r *Reloader) nextDue() (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var next time.Time
	for _, h := range r.held {
		if next.IsZero() || h.due.Before(next) {
			next = h.due
		}
	}
	return next, !next.IsZero()
}

// flush reports the held failures due by now whose folder did not change
// since their cycle read it, and drops those whose folder did: the cycle
// that change starts (or has started) tries the folder again.
func (r *Reloader) flush(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	keep := r.held[:0]
	for _, h := range r.held {
		switch {
		case r.w.ChangedSince(h.dir, h.since):
			r.log.Debug("reload: failure superseded by a newer change", "skill", h.ev.Skill, "dir", h.dir)
		case now.Before(h.due):
			keep = append(keep, h)
		default:
			r.report1(h.ev)
		}
	}
	clear(r.held[len(keep):])
	r.held = keep
}

// report1 counts and delivers one event. r.mu is held.
func (r *Reloader) report1(e Event) {
	switch e.Type {
	case EventReloaded:
		r.stats.Reloaded++
	case EventReloadFailed:
		r.stats.Failed++
	case EventRemoved:
		r.stats.Removed++
	}
	if r.o.OnEvent != nil {
		r.o.OnEvent(e)
	}
}

// Close stops watching. Cycles already running finish.
func (r *Reloader) Close() error { return r.w.Close() }

// Stats returns the counts so far; during a cycle it waits for its end, so
// the counts are never those of half a cycle.
func (r *Reloader) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

func (r *Reloader) cycle(ctx context.Context, cause []string, hold bool) (*Report, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	initial := r.stats.Cycles == 0
	r.stats.Cycles++
	rep := &Report{Cause: cause}
	start := time.Now()
	// This cycle tries every folder again, so failures held from earlier
	// cycles are replaced by what it finds.
	clear(r.held)
	r.held = r.held[:0]
	var devDirs map[string]string // skill name -> source folder, set by prepare
	emit := func(e Event) {
		if initial && e.Type != EventReloadFailed {
			return
		}
		if dir, ok := devDirs[e.Skill]; ok && hold && e.Type == EventReloadFailed && r.o.Settle > 0 {
			r.held = append(r.held, held{ev: e, dir: dir, since: start, due: time.Now().Add(r.o.Settle)})
			return
		}
		rep.Events = append(rep.Events, e)
		r.report1(e)
	}
	// Watch what is known now, so that changes made during this cycle
	// start the next one.
	r.watch()

	srcs, err := r.o.Sources(ctx)
	if err != nil {
		if ctx.Err() == nil {
			emit(Event{Type: EventReloadFailed, Error: fmt.Sprintf("compute the skill set: %v", err)})
		}
		return rep, fmt.Errorf("reload: %w", err)
	}
	current := map[string]host.Info{}
	for _, in := range r.o.Host.Skills() {
		current[in.Manifest.Name] = in
	}
	final, dev, devDirs, failed, built := r.prepare(ctx, srcs, current)
	if err := ctx.Err(); err != nil {
		return rep, fmt.Errorf("reload: %w", err)
	}
	rep.Built = built
	r.stats.Builds += len(built)
	r.dev = dev

	res, err := r.o.Host.Apply(ctx, final)
	if err != nil {
		return rep, fmt.Errorf("reload: %w", err)
	}
	rep.Result = res
	for name, err := range res.Failed {
		if _, ok := failed[name]; !ok {
			failed[name] = err
		}
	}
	r.report(emit, res, current, failed)

	// Folders first watched now may have changed since Sources read
	// them: treat them as changed, through the usual quiet window.
	if added := r.watch(); len(added) > 0 {
		r.w.poke(added)
	}
	return rep, nil
}

// prepare turns the desired set into what Apply gets: source folders are
// rebuilt when stale and parsed; one that is gone is left out (the skill was
// deleted); one that fails keeps the version now serving, if any. dev lists
// the source folders, to watch; devDirs maps the name of each one's skill to
// it, to tell the failures of source folders.
func (r *Reloader) prepare(ctx context.Context, srcs []host.Source, current map[string]host.Info) (final []host.Source, dev []string, devDirs map[string]string, failed map[string]error, built []string) {
	failed = map[string]error{}
	devDirs = map[string]string{}
	for _, s := range srcs {
		if s.Origin != host.OriginDev {
			final = append(final, s)
			continue
		}
		if abs, err := filepath.Abs(s.Dir); err == nil {
			s.Dir = abs
		}
		dev = append(dev, s.Dir)
		name := filepath.Base(s.Dir)
		if s.Manifest != nil {
			name = s.Manifest.Name
		}
		if in, ok := servingFrom(current, s.Dir); ok {
			name = in.Manifest.Name
		}
		devDirs[name] = s.Dir
		if _, err := os.Stat(filepath.Join(s.Dir, manifest.FileName)); errors.Is(err, fs.ErrNotExist) {
			if _, err := os.Stat(s.Dir); errors.Is(err, fs.ErrNotExist) {
				r.log.Debug("reload: source folder is gone", "skill", name, "dir", s.Dir)
				continue
			}
		}
		var (
			m   *manifest.Manifest
			err error
		)
		if r.o.NoBuild {
			m, err = manifest.Load(s.Dir)
		} else {
			var b bool
			m, b, err = Rebuild(ctx, s.Dir)
			if b {
				built = append(built, m.Name)
			}
		}
		if err != nil && m == nil {
			// SKILL.md does not parse. The host, given the folder alone,
			// parses it again and has the last word: it fails it the same
			// way and keeps the skill serving from the folder, or loads it
			// when the save being read has been finished since.
			s.Manifest = nil
			final = append(final, s)
			continue
		}
		if m.Name != name {
			if devDirs[name] == s.Dir {
				delete(devDirs, name)
			}
			name = m.Name
			devDirs[name] = s.Dir
		}
		if err != nil {
			failed[name] = err
			if prev, ok := current[name]; ok {
				// The build failed and left the artifact as it was: the
				// version serving now stays, with its parsed manifest.
				final = append(final, prev.Source)
			}
			continue
		}
		// The host parses SKILL.md again, right before it hashes it for the
		// skill's identity: the manifest parsed before a build that took a
		// second may be older than the file by now, and served with the
		// newer file's identity it would never be reloaded.
		s.Manifest = nil
		final = append(final, s)
	}
	sort.Strings(built)
	return final, dev, devDirs, failed, built
}

// servingFrom returns the skill now serving from the source folder dir.
func servingFrom(current map[string]host.Info, dir string) (host.Info, bool) {
	for _, in := range current {
		if in.Source.Origin == host.OriginDev && in.Source.Dir == dir && in.Manifest != nil {
			return in, true
		}
	}
	return host.Info{}, false
}

// report turns an Apply result into events, in a stable order.
func (r *Reloader) report(emit func(Event), res *host.Result, current map[string]host.Info, failed map[string]error) {
	names := make([]string, 0, len(failed))
	for n := range failed {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		emit(Event{Type: EventReloadFailed, Skill: n, Error: failed[n].Error(), Serving: res.Versions[n], Generation: res.Generation})
	}
	now := map[string]host.Info{}
	for _, in := range r.o.Host.Skills() {
		now[in.Manifest.Name] = in
	}
	for _, n := range res.Loaded {
		if _, bad := failed[n]; bad {
			continue // the old version, loaded again because its SKILL.md changed on disk
		}
		emit(Event{Type: EventReloaded, Skill: n, From: versionOf(current[n]), To: res.Versions[n], Origin: now[n].Source.Origin, Generation: res.Generation})
	}
	for _, n := range res.Removed {
		emit(Event{Type: EventRemoved, Skill: n, From: versionOf(current[n]), Generation: res.Generation})
	}
	for _, n := range res.Unchanged {
		d := now[n].Source.Deprecated
		if d == nil {
			continue
		}
		if old := current[n].Source.Deprecated; old != nil && *old == *d {
			continue
		}
		emit(Event{Type: EventDeprecated, Skill: n, To: res.Versions[n], Message: d.Message, Replacement: d.Replacement, Generation: res.Generation})
	}
}

func versionOf(in host.Info) string {
	if in.Manifest == nil || in.Manifest.Version == nil {
		return ""
	}
	return in.Manifest.Version.String()
}

// watch points the watcher at Options.Dirs and the known source folders and
// returns the folders newly watched.
func (r *Reloader) watch() []string {
	dirs := append(append([]string(nil), r.o.Dirs...), r.dev...)
	added, err := r.w.Set(dirs)
	if err != nil {
		r.log.Warn("reload: watch", "err", err)
	}
	return added
}
