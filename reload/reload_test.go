package reload_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skillsdev/skills/host"
	"github.com/skillsdev/skills/reload"
	"github.com/skillsdev/skills/reload/reloadtest"
	"github.com/skillsdev/skills/sdk/manifest"
)

// TestReloadSwapsVersionsWhileCalling saves new source versions of a skill
// while a goroutine calls it: each save is rebuilt, loaded and swapped in,
// and not one call fails.
func TestReloadSwapsVersionsWhileCalling(t *testing.T) {
	h := newHost(t)
	dir := devTick(t, t.TempDir())
	r, ev := watching(t, h, reload.Options{}, func() []string { return []string{dir} })
	if v, err := version(context.Background(), h); err != nil || v != "1" {
		t.Fatalf("before: version %q, %v", v, err)
	}
	c := startCaller(h, 500)
	steps := []struct{ version, code string }{{"2.0.0", "2"}, {"1.0.0", "1"}}
	for i, s := range steps {
		reloadtest.Write(t, root, dir, reloadtest.Tick{Name: "tick", Version: s.version, Code: s.code})
		eventually(t, "reload to "+s.version, func() bool { return ev.count(reload.EventReloaded) == i+1 })
		eventually(t, "a call served by "+s.version, func() bool { return c.saw(s.code) })
		// The build's own output starts one more cycle; a save written
		// while a cycle runs can be read half-done (see the package doc),
		// so the next save waits for the reloader to be idle.
		settle(t, r, dir)
	}
	calls, failures, seen := c.finish()
	if len(failures) > 0 {
		t.Fatalf("%d of %d calls failed during the reloads; first: %v", len(failures), calls, failures[0])
	}
	t.Logf("%d calls, versions served: %v", calls, seen)
	from := "1.0.0"
	for i, e := range ev.list() {
		if e.Type != reload.EventReloaded || e.Skill != "tick" || e.From != from || e.To != steps[i].version || e.Origin != "dev" || e.Generation == 0 {
			t.Fatalf("event %d: %+v", i, e)
		}
		from = e.To
	}
}

// TestReloadRejectsBrokenVersions breaks a serving skill in each way a new
// source version can be broken, while a goroutine calls it: the version is
// rejected and reported, the old one keeps serving with zero failed calls.
// After each case the good source is put back; at the end a good new
// version is taken.
func TestReloadRejectsBrokenVersions(t *testing.T) {
	h := newHost(t)
	dir := devTick(t, t.TempDir())
	r, ev := watching(t, h, reload.Options{}, func() []string { return []string{dir} })
	c := startCaller(h, 500)
	for _, tc := range []struct {
		name string
		brk  func(t *testing.T, dir string)
		want string // in the reported error
	}{
		{"compile error", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "main.go"), "package main\n\nfunc main() { notDefined() }\n")
		}, "undefined: notDefined"},
		{"bad manifest", func(t *testing.T, dir string) {
			md := strings.Replace(reloadtest.Manifest(reloadtest.Tick{Name: "tick", Version: "2.0.0"}), "version: 2.0.0", "version: two", 1)
			write(t, filepath.Join(dir, "SKILL.md"), md)
		}, "SKILL.md:"},
		{"trap on warm-up", func(t *testing.T, dir string) {
			reloadtest.Write(t, root, dir, reloadtest.Tick{Name: "tick", Version: "3.0.0", Code: "3", Trap: true})
		}, "load tick"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := len(ev.list())
			tc.brk(t, dir)
			eventually(t, "the failure reported", func() bool { return len(ev.list()) > n })
			e := ev.list()[n]
			if e.Type != reload.EventReloadFailed || e.Skill != "tick" || e.Serving != "1.0.0" || !strings.Contains(e.Error, tc.want) {
				t.Fatalf("event: %+v\nwant skill.reload_failed with an error containing %q", e, tc.want)
			}
			if v, err := version(context.Background(), h); err != nil || v != "1" {
				t.Fatalf("after the failure: version %q, %v", v, err)
			}
			if in := h.Skills(); len(in) != 1 || in[0].Manifest.Version.String() != "1.0.0" {
				t.Fatalf("serving %+v", in)
			}
			reloadtest.Write(t, root, dir, reloadtest.Tick{Name: "tick", Version: "1.0.0", Code: "1"})
			settle(t, r, dir)
		})
	}
	reloadtest.Write(t, root, dir, reloadtest.Tick{Name: "tick", Version: "2.0.0", Code: "2"})
	eventually(t, "the good version", func() bool { return ev.count(reload.EventReloaded) == 1 })
	eventually(t, "a call served by it", func() bool { return c.saw("2") })
	calls, failures, _ := c.finish()
	if len(failures) > 0 {
		t.Fatalf("%d of %d calls failed; first: %v", len(failures), calls, failures[0])
	}
	for _, e := range ev.list() {
		if e.Type == reload.EventReloaded && e.To != "2.0.0" {
			t.Fatalf("a broken version was reported as reloaded: %+v", ev.list())
		}
	}
}

// TestReloadRejectsTamperedArtifact replaces the module of an installed
// skill, whose source carries the lock's digest: the new bytes are refused
// and the old version keeps serving.
func TestReloadRejectsTamperedArtifact(t *testing.T) {
	h := newHost(t)
	dir := devTick(t, t.TempDir())
	v1, err := os.ReadFile(reloadtest.Artifact(dir))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(v1)
	digest := hex.EncodeToString(sum[:])
	ev := &events{}
	start(t, reload.Options{Host: h, OnEvent: ev.add, Dirs: []string{dir}, Sources: func(context.Context) ([]host.Source, error) {
		return []host.Source{{Dir: dir, SHA256: digest, Origin: "test 1.0.0"}}, nil
	}})
	reloadtest.Install(t, mods["v2"], dir)
	eventually(t, "the failure reported", func() bool { return ev.count(reload.EventReloadFailed) == 1 })
	if e := ev.list()[0]; e.Skill != "tick" || e.Serving != "1.0.0" || !strings.Contains(e.Error, "the lock expects "+digest) {
		t.Fatalf("event %+v", e)
	}
	if v, err := version(context.Background(), h); err != nil || v != "1" {
		t.Fatalf("version %q, %v", v, err)
	}
}

// TestReloadCoalescesSaves saves a source file twenty times within 100 ms,
// as an editor's autosave or a formatter might: one build, one reload.
func TestReloadCoalescesSaves(t *testing.T) {
	h := newHost(t)
	dir := devTick(t, t.TempDir())
	// A quiet window twice the default keeps a slow, shared machine from
	// splitting the burst; the default is measured by the benchmarks.
	r, ev := watching(t, h, reload.Options{Quiet: 100 * time.Millisecond, MaxWait: 5 * time.Second}, func() []string { return []string{dir} })
	before := r.Stats()
	src := reloadtest.Source("2", false)
	for i := range 20 {
		// Trailing comments change the file but not the module's bytes.
		write(t, filepath.Join(dir, "main.go"), src+strings.Repeat("//\n", i))
		time.Sleep(5 * time.Millisecond)
	}
	eventually(t, "the reload", func() bool { return ev.count(reload.EventReloaded) == 1 })
	settle(t, r, dir)
	after := r.Stats()
	if n := after.Reloaded - before.Reloaded; n != 1 {
		t.Fatalf("%d reloads, want 1: %+v", n, ev.list())
	}
	if n := after.Builds - before.Builds; n != 1 {
		t.Fatalf("%d builds for one burst of saves, want 1 (stats %+v)", n, after)
	}
	if v, err := version(context.Background(), h); err != nil || v != "2" {
		t.Fatalf("version %q, %v", v, err)
	}
}

// TestReloadHalfWrittenSave reads a save half-written: an editor truncates
// SKILL.md and is held up past the quiet window before it writes. The cycle
// that reads the empty file holds its failure back; the write that follows
// drops it, and the finished save is taken without a failure reported.
func TestReloadHalfWrittenSave(t *testing.T) {
	h := newHost(t)
	dir := devTick(t, t.TempDir())
	r, ev := watching(t, h, reload.Options{Settle: time.Minute}, func() []string { return []string{dir} })
	before := r.Stats()
	md := filepath.Join(dir, "SKILL.md")
	write(t, md, "")
	eventually(t, "a cycle that reads the empty file", func() bool { return r.Stats().Cycles > before.Cycles })
	if in := h.Skills(); len(in) != 1 || in[0].Manifest.Version.String() != "1.0.0" {
		t.Fatalf("serving %+v, want 1.0.0 kept", in)
	}
	write(t, md, reloadtest.Manifest(reloadtest.Tick{Name: "tick", Version: "2.0.0"}))
	eventually(t, "the finished save", func() bool { return ev.count(reload.EventReloaded) == 1 })
	settle(t, r, dir)
	for _, e := range ev.list() {
		if e.Type != reload.EventReloaded || e.From != "1.0.0" || e.To != "2.0.0" {
			t.Fatalf("events %+v, want one reload 1.0.0 -> 2.0.0 and no failure", ev.list())
		}
	}
	if st := r.Stats(); st.Failed != before.Failed {
		t.Fatalf("%d failures reported, want 0", st.Failed-before.Failed)
	}
}

// TestReloadDeletedFolder deletes a skill's folder under a running host:
// the skill is removed (no crash, no failing load), and comes back when the
// folder does.
func TestReloadDeletedFolder(t *testing.T) {
	h := newHost(t)
	parent := t.TempDir()
	dir := devTick(t, parent)
	_, ev := watching(t, h, reload.Options{}, func() []string { return []string{dir} })
	c := startCaller(h, 500)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the removal", func() bool { return ev.count(reload.EventRemoved) == 1 })
	if in := h.Skills(); len(in) != 0 {
		t.Fatalf("still serving %+v", in)
	}
	_, err := version(context.Background(), h)
	if err == nil || !strings.Contains(err.Error(), `no skill named "tick"`) {
		t.Fatalf("call after the removal: %v", err)
	}
	c.finish()
	if n := ev.count(reload.EventReloadFailed); n != 0 {
		t.Fatalf("the deletion was reported as a failure: %+v", ev.list())
	}
	// Put back: the parent's watch sees the folder appear.
	devTick(t, parent)
	eventually(t, "the skill back", func() bool { return ev.count(reload.EventReloaded) == 1 })
	if v, err := version(context.Background(), h); err != nil || v != "1" {
		t.Fatalf("version %q, %v", v, err)
	}
}

// TestReloadSaveByRename saves a new source version as JetBrains editors
// do (write a temporary file, rename the original away, rename the
// temporary file over it, delete the original): one rebuild, one reload.
// TestWatcherEditorSaves covers the other ways editors save.
func TestReloadSaveByRename(t *testing.T) {
	h := newHost(t)
	dir := devTick(t, t.TempDir())
	r, ev := watching(t, h, reload.Options{}, func() []string { return []string{dir} })
	before := r.Stats()
	p := filepath.Join(dir, "main.go")
	write(t, p+"___jb_tmp___", reloadtest.Source("2", false))
	rename(t, p, p+"___jb_old___")
	rename(t, p+"___jb_tmp___", p)
	if err := os.Remove(p + "___jb_old___"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "version 2", func() bool {
		v, err := version(context.Background(), h)
		return err == nil && v == "2"
	})
	settle(t, r, dir)
	after := r.Stats()
	if after.Reloaded-before.Reloaded != 1 || after.Builds-before.Builds != 1 {
		t.Fatalf("stats before %+v, after %+v; events %+v", before, after, ev.list())
	}
}

// TestReloadLockReplacedByRename drives the desired set from a lock-like
// file in a watched home folder, replaced by rename as the marketplace
// writes its lock: newly listed skills appear, unlisted ones are removed.
func TestReloadLockReplacedByRename(t *testing.T) {
	h := newHost(t)
	home := t.TempDir()
	lockFile := filepath.Join(home, "skills.lock")
	dir := devTick(t, t.TempDir())
	v1, err := os.ReadFile(reloadtest.Artifact(dir))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(v1)
	setLock := func(dirs ...string) {
		b, _ := json.Marshal(dirs)
		if err := reloadtest.WriteAtomic(lockFile, b); err != nil {
			t.Fatal(err)
		}
	}
	setLock()
	ev := &events{}
	start(t, reload.Options{Host: h, OnEvent: ev.add, Dirs: []string{home}, Sources: func(context.Context) ([]host.Source, error) {
		b, err := os.ReadFile(lockFile)
		if err != nil {
			return nil, err
		}
		var dirs []string
		if err := json.Unmarshal(b, &dirs); err != nil {
			return nil, err
		}
		var out []host.Source
		for _, d := range dirs {
			out = append(out, host.Source{Dir: d, SHA256: hex.EncodeToString(sum[:]), Origin: "bundled 1.0.0"})
		}
		return out, nil
	}})
	setLock(dir)
	eventually(t, "the install", func() bool { return ev.count(reload.EventReloaded) == 1 })
	if e := ev.list()[0]; e.From != "" || e.To != "1.0.0" || e.Origin != "bundled 1.0.0" {
		t.Fatalf("event %+v", e)
	}
	setLock()
	eventually(t, "the removal", func() bool { return ev.count(reload.EventRemoved) == 1 })
	if in := h.Skills(); len(in) != 0 {
		t.Fatalf("serving %+v", in)
	}
	// A damaged lock is reported; what serves stays.
	write(t, lockFile, "{")
	eventually(t, "the failure", func() bool { return ev.count(reload.EventReloadFailed) == 1 })
	if e := ev.list()[2]; e.Skill != "" || !strings.Contains(e.Error, "compute the skill set") {
		t.Fatalf("event %+v", e)
	}
}

// start starts a Reloader with o, after its first cycle.
func start(t *testing.T, o reload.Options) *reload.Reloader {
	t.Helper()
	r, err := reload.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := r.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		r.Close()
	})
	for _, d := range o.Dirs {
		settle(t, r, d)
	}
	return r
}

// settle waits until the reloader has seen every file event so far: it
// writes a marker file into the watched folder dir and waits for a cycle
// after it. The watcher reads events in order, so the cycle that covers the
// marker covers all before it.
func settle(t testing.TB, r *reload.Reloader, dir string) {
	t.Helper()
	before := r.Stats().Cycles
	write(t, filepath.Join(dir, "settle.txt"), time.Now().String())
	eventually(t, "a cycle after the marker", func() bool { return r.Stats().Cycles > before })
	os.Remove(filepath.Join(dir, "settle.txt"))
}

func write(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func rename(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}

// TestReloadInstalledInstructions loads an installed instructions skill: it
// has no artifact digest, and its store folder is named after its package
// digest, not the skill, so the reloader must not take it for a dev folder.
func TestReloadInstalledInstructions(t *testing.T) {
	h, err := host.New(context.Background(), host.Options{Home: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	dir := filepath.Join(t.TempDir(), "store", "4f2a9c")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	data := []byte("---\nname: guide\ndescription: How to write release notes.\nmetadata:\n  version: 1.0.0\n---\n# guide\nWrite short notes.\n")
	if err := os.WriteFile(filepath.Join(dir, "SKILL.md"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Parse(manifest.FileName, data)
	if err != nil {
		t.Fatal(err)
	}
	m.Dir = dir
	r, err := reload.New(reload.Options{Host: h, Sources: func(context.Context) ([]host.Source, error) {
		return []host.Source{{Dir: dir, Manifest: m, Origin: "bundled 1.0.0"}}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rep, err := r.Reload(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Events) != 0 {
		t.Fatalf("events %+v", rep.Events)
	}
	found := false
	for _, s := range h.Skills() {
		found = found || s.Manifest.Name == "guide"
	}
	if !found {
		t.Fatalf("guide not loaded: %+v", rep.Result)
	}
}
