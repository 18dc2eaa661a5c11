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
	// OnEvent receives every event, in order, from the goroutine running the
	// cycle. It should be quick.
	OnEvent func(Event)
	// Logger receives debug details and watch errors; nil discards.
	Logger *slog.Logger
}

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
	stats Stats
}

// New makes a Reloader and starts watching Options.Dirs. Nothing is loaded
// until Reload or Run.
func New(o Options) (*Reloader, error) {
	if o.Host == nil || o.Sources == nil {
		return nil, errors.New("reload: Options.Host and Options.Sources are required")
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
	return r.cycle(ctx, nil)
}

// Run reloads after every burst of changes until ctx is done. Errors of a
// cycle are reported as events and logged; Run goes on.
func (r *Reloader) Run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case ch, ok := <-r.w.Changes():
			if !ok {
				return errors.New("reload: watcher closed")
			}
			r.log.Debug("reload: change", "dirs", ch.Dirs, "events", ch.Events)
			if _, err := r.cycle(ctx, ch.Dirs); err != nil && ctx.Err() == nil {
				r.log.Warn("reload", "err", err)
			}
		}
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

func (r *Reloader) cycle(ctx context.Context, cause []string) (*Report, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	initial := r.stats.Cycles == 0
	r.stats.Cycles++
	rep := &Report{Cause: cause}
	emit := func(e Event) {
		if initial && e.Type != EventReloadFailed {
			return
		}
		switch e.Type {
		case EventReloaded:
			r.stats.Reloaded++
		case EventReloadFailed:
			r.stats.Failed++
		case EventRemoved:
			r.stats.Removed++
		}
		rep.Events = append(rep.Events, e)
		if r.o.OnEvent != nil {
			r.o.OnEvent(e)
		}
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
	final, dev, failed, built := r.prepare(ctx, srcs, current)
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
// deleted); one that fails keeps the version now serving, if any.
func (r *Reloader) prepare(ctx context.Context, srcs []host.Source, current map[string]host.Info) (final []host.Source, dev []string, failed map[string]error, built []string) {
	failed = map[string]error{}
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
			// SKILL.md does not parse: the host, given the folder alone,
			// fails it the same way and keeps the version serving.
			failed[name] = err
			s.Manifest = nil
			final = append(final, s)
			continue
		}
		name = m.Name
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
	return final, dev, failed, built
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
