package reload

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Defaults of WatcherOptions.
const (
	// DefaultQuiet is how long a burst of file events must be quiet before
	// it is reported: an editor's save is a handful of events within a few
	// milliseconds, a build's output rename comes alone.
	DefaultQuiet = 50 * time.Millisecond
	// DefaultMaxWait bounds how long a burst that never goes quiet (a tool
	// writing files continuously) can hold a change back.
	DefaultMaxWait = 500 * time.Millisecond
)

// WatcherOptions configures a Watcher.
type WatcherOptions struct {
	Quiet   time.Duration // quiet window that ends a burst; 0 means DefaultQuiet
	MaxWait time.Duration // longest a change waits from its first event; 0 means DefaultMaxWait
	Logger  *slog.Logger  // nil discards
}

// Change is one coalesced burst of file events.
type Change struct {
	// Dirs are the watched folders that changed, sorted: a file in them was
	// written, created, removed or renamed, or the folder itself appeared,
	// disappeared or was replaced.
	Dirs []string
	// Events is how many relevant file events the burst held.
	Events int
}

// Watcher reports changes in a set of folders, coalesced into bursts. It
// watches folders, never single files, because editors and atomic writers
// replace files by renaming a temporary file over them, which ends a watch
// on the file itself. It also watches each folder's parent, so that a folder
// deleted, created or replaced as a whole is noticed and watched again.
//
// Files that only editors and atomic writers use in passing (hidden files,
// "name~" backups, swap files, vim's "4913" probe) are ignored: the rename
// that follows them is what counts.
type Watcher struct {
	fs      *fsnotify.Watcher
	o       WatcherOptions
	log     *slog.Logger
	changes chan Change
	pokes   chan []string
	done    chan struct{}
	stopped chan struct{}

	mu      sync.Mutex
	wanted  map[string]bool            // folders whose content matters
	parents map[string]map[string]bool // parent folder -> names of wanted children in it
	inode   map[string]uint64          // wanted folder -> inode its watch was added on (0: not watched)
	last    map[string]time.Time       // wanted folder -> when its latest relevant event came
	closed  bool
}

// NewWatcher starts a Watcher with nothing watched; Set says what to watch.
func NewWatcher(o WatcherOptions) (*Watcher, error) {
	if o.Quiet <= 0 {
		o.Quiet = DefaultQuiet
	}
	if o.MaxWait <= 0 {
		o.MaxWait = DefaultMaxWait
	}
	if o.MaxWait < o.Quiet {
		o.MaxWait = o.Quiet
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("reload: watch: %w", err)
	}
	w := &Watcher{
		fs: fw, o: o, log: log,
		changes: make(chan Change),
		pokes:   make(chan []string),
		done:    make(chan struct{}),
		stopped: make(chan struct{}),
		wanted:  map[string]bool{},
		parents: map[string]map[string]bool{},
		inode:   map[string]uint64{},
		last:    map[string]time.Time{},
	}
	go w.loop()
	return w, nil
}

// Changes delivers the bursts. A burst is delivered once no event has come
// for the quiet window, or MaxWait after its first event, and not before the
// receiver takes it: events meanwhile join it (and start the quiet window
// again), so a slow receiver sees one Change covering everything that
// happened. The channel is closed by Close.
func (w *Watcher) Changes() <-chan Change { return w.changes }

// Set makes dirs (made absolute and cleaned) the watched folders and returns
// those whose watch was newly added, because they were not watched before or
// were replaced. A folder that does not exist is not an error: its parent is
// watched, and the folder is watched once it appears.
func (w *Watcher) Set(dirs []string) (added []string, err error) {
	wanted := make(map[string]bool, len(dirs))
	parents := map[string]map[string]bool{}
	for _, d := range dirs {
		abs, err := filepath.Abs(d)
		if err != nil {
			return nil, fmt.Errorf("reload: watch %s: %w", d, err)
		}
		wanted[abs] = true
		p := filepath.Dir(abs)
		if p == abs {
			continue
		}
		if parents[p] == nil {
			parents[p] = map[string]bool{}
		}
		parents[p][filepath.Base(abs)] = true
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil, errors.New("reload: watcher is closed")
	}
	w.wanted, w.parents = wanted, parents
	for d := range w.last {
		if !wanted[d] {
			delete(w.last, d)
		}
	}
	var errs []error
	keep := map[string]bool{}
	for d := range wanted {
		keep[d] = true
	}
	for p := range parents {
		keep[p] = true
	}
	for d := range w.inode {
		if !keep[d] {
			_ = w.fs.Remove(d) // already gone when the folder was deleted
			delete(w.inode, d)
		}
	}
	for d := range keep {
		ok, err := w.sync(d)
		if err != nil {
			errs = append(errs, err)
		}
		if ok && wanted[d] {
			added = append(added, d)
		}
	}
	slices.Sort(added)
	return added, errors.Join(errs...)
}

// sync makes the watch on d match the folder now at that path: added when
// it appeared, re-added when it was replaced, dropped when it is gone. It
// reports whether a watch was added. w.mu is held.
func (w *Watcher) sync(d string) (bool, error) {
	ino, err := inodeOf(d)
	if err != nil {
		if old := w.inode[d]; old != 0 {
			_ = w.fs.Remove(d)
		}
		delete(w.inode, d)
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, errNotDir) {
			return false, nil
		}
		return false, fmt.Errorf("reload: watch %s: %w", d, err)
	}
	if old, ok := w.inode[d]; ok && old == ino && slices.Contains(w.fs.WatchList(), d) {
		return false, nil
	}
	_ = w.fs.Remove(d) // a stale watch on a replaced folder
	if err := w.fs.Add(d); err != nil {
		delete(w.inode, d)
		if errors.Is(err, os.ErrNotExist) {
			return false, nil // removed between the stat and the watch
		}
		return false, fmt.Errorf("reload: watch %s: %w", d, err)
	}
	w.inode[d] = ino
	return true, nil
}

var errNotDir = errors.New("not a folder")

func inodeOf(d string) (uint64, error) {
	fi, err := os.Stat(d)
	if err != nil {
		return 0, err
	}
	if !fi.IsDir() {
		return 0, errNotDir
	}
	return fileID(fi), nil
}

// ChangedSince reports whether a relevant event about dir (absolute and
// clean, as Change.Dirs holds it) came after t, delivered yet or not.
func (w *Watcher) ChangedSince(dir string, t time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last[dir].After(t)
}

// Close stops watching and closes the Changes channel.
func (w *Watcher) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	w.mu.Unlock()
	close(w.done)
	err := w.fs.Close()
	<-w.stopped
	return err
}

// loop coalesces events into bursts. Events keep accumulating while a
// finished burst waits for its receiver.
func (w *Watcher) loop() {
	defer close(w.stopped)
	defer close(w.changes)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	pending := map[string]bool{}
	events := 0
	var first time.Time
	ready := false
	// arm (re)starts the quiet window of the burst in progress. A burst
	// still going on is not delivered, even when it was due and waiting
	// for the receiver: the receiver would see half a save.
	arm := func() {
		ready = false
		now := time.Now()
		if first.IsZero() {
			first = now
		}
		timer.Reset(min(w.o.Quiet, first.Add(w.o.MaxWait).Sub(now)))
	}
	for {
		var (
			out  chan Change
			next Change
		)
		if ready {
			out, next = w.changes, w.batch(pending, events)
		}
		select {
		case <-w.done:
			return
		case ev, ok := <-w.fs.Events:
			if !ok {
				return
			}
			dirs := w.relevant(ev)
			if len(dirs) == 0 {
				continue
			}
			for _, d := range dirs {
				pending[d] = true
			}
			events++
			arm()
		case dirs := <-w.pokes:
			for _, d := range dirs {
				pending[d] = true
			}
			arm()
		case err, ok := <-w.fs.Errors:
			if !ok {
				return
			}
			w.log.Warn("reload: file watch error", "err", err)
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				// Events were lost: everything may have changed.
				w.mu.Lock()
				for d := range w.wanted {
					pending[d] = true
				}
				w.mu.Unlock()
				events++
				arm()
			}
		case <-timer.C:
			ready = len(pending) > 0
		case out <- next:
			pending = map[string]bool{}
			events = 0
			first = time.Time{}
			ready = false
		}
	}
}

// poke reports dirs as changed, as if a file event had come from each.
func (w *Watcher) poke(dirs []string) {
	select {
	case w.pokes <- dirs:
	case <-w.done:
	}
}

func (w *Watcher) batch(pending map[string]bool, events int) Change {
	dirs := make([]string, 0, len(pending))
	for d := range pending {
		dirs = append(dirs, d)
	}
	slices.Sort(dirs)
	return Change{Dirs: dirs, Events: events}
}

// relevant returns the wanted folders an event is about. An event that
// replaces, removes or creates a wanted folder also re-syncs its watch.
func (w *Watcher) relevant(ev fsnotify.Event) []string {
	name := filepath.Clean(ev.Name)
	dir, base := filepath.Dir(name), filepath.Base(name)
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	if w.wanted[name] {
		// The folder itself: removed or moved away (its own watch), or
		// created, removed or renamed as seen from its parent.
		if _, err := w.sync(name); err != nil {
			w.log.Warn("reload: re-watch", "dir", name, "err", err)
		}
		out = append(out, name)
	}
	if w.wanted[dir] && !noise(base) {
		out = append(out, dir)
	}
	defer func() {
		now := time.Now()
		for _, d := range out {
			w.last[d] = now
		}
	}()
	if kids := w.parents[name]; kids != nil && ev.Has(fsnotify.Remove|fsnotify.Rename) {
		// A watched parent itself went away: its wanted children went with it.
		if _, err := w.sync(name); err != nil {
			w.log.Warn("reload: re-watch", "dir", name, "err", err)
		}
		for k := range kids {
			child := filepath.Join(name, k)
			if _, err := w.sync(child); err != nil {
				w.log.Warn("reload: re-watch", "dir", child, "err", err)
			}
			out = append(out, child)
		}
	}
	return out
}

// noise reports names that editors and atomic writers use in passing.
func noise(base string) bool {
	switch {
	case strings.HasPrefix(base, "."), // .main.go.swp, .x.wasm.tmp-123, emacs .#lock
		strings.HasSuffix(base, "~"),                                 // vim and emacs backups
		strings.HasPrefix(base, "#") && strings.HasSuffix(base, "#"), // emacs autosave
		strings.HasSuffix(base, ".swp"), strings.HasSuffix(base, ".swx"), strings.HasSuffix(base, ".swo"),
		strings.HasSuffix(base, "___jb_tmp___"), strings.HasSuffix(base, "___jb_old___"), // JetBrains
		base == "4913": // vim checks it can create files with this name
		return true
	}
	return false
}
