//go:build unix

package install

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/skillsdev/skills/marketplace/markettest"
	"github.com/skillsdev/skills/marketplace/registry"
)

// TestMain lets the test binary act as a skills process that installs into
// a home: the kill -9 and disk-limit tests run it as a real subprocess.
func TestMain(m *testing.M) {
	if os.Getenv("INSTALL_HELPER") == "1" {
		os.Exit(helper())
	}
	os.Exit(m.Run())
}

// helper installs $HELPER_WANTS into $HELPER_HOME from the registry at
// $HELPER_URL. It prints every event as a line on stdout; at the event
// named by $HELPER_STOP it stops (blocking inside the install) so that the
// parent can kill it at exactly that point. $HELPER_FSIZE sets RLIMIT_FSIZE.
func helper() int {
	if s := os.Getenv("HELPER_FSIZE"); s != "" {
		n, _ := strconv.ParseUint(s, 10, 64)
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: n, Max: n}); err != nil {
			fmt.Println("setrlimit:", err)
			return 3
		}
	}
	home := os.Getenv("HELPER_HOME")
	r, err := registry.New(registry.Config{Name: "test", URL: os.Getenv("HELPER_URL"), Keys: []string{os.Getenv("HELPER_KEY")}},
		registry.Options{StateDir: filepath.Join(home, "registries"), Now: clock})
	if err != nil {
		fmt.Println(err)
		return 3
	}
	stop := os.Getenv("HELPER_STOP")
	var mu sync.Mutex
	m, err := New(Options{Home: home, Registries: []*registry.Registry{r}, Now: clock, Events: func(e Event) {
		mu.Lock()
		fmt.Printf("event %s %s %s %d\n", e.Kind, e.Name, e.Version, e.Bytes)
		mu.Unlock()
		// A download stops mid-stream: some bytes in, not all.
		if string(e.Kind) == stop && (e.Kind != EventDownload || (e.Bytes > 0 && e.Bytes < e.Total)) {
			fmt.Println("stopped")
			select {} // wait here for SIGKILL
		}
	}})
	if err != nil {
		fmt.Println(err)
		return 3
	}
	var ws []Want
	for _, s := range strings.Fields(os.Getenv("HELPER_WANTS")) {
		w, err := ParseWant(s)
		if err != nil {
			fmt.Println(err)
			return 3
		}
		ws = append(ws, w)
	}
	if _, err := m.Install(context.Background(), ws, Flags{}); err != nil {
		fmt.Println("error:", err)
		return 1
	}
	fmt.Println("done")
	return 0
}

// subprocess starts the helper installing wants into e's home.
func (e *env) subprocess(t *testing.T, stop string, extraEnv []string, wants ...string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "INSTALL_HELPER=1", "HELPER_HOME="+e.home, "HELPER_URL="+e.srv.URL,
		"HELPER_KEY="+e.reg.VKey, "HELPER_STOP="+stop, "HELPER_WANTS="+strings.Join(wants, " "))
	cmd.Env = append(cmd.Env, extraEnv...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, bufio.NewScanner(out)
}

// slow serves data 4 KiB at a time, so a download is in flight for a
// while.
func slow(data []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		for i := 0; i < len(data); i += 4096 {
			if _, err := w.Write(data[i:min(i+4096, len(data))]); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}
}

// TestKill9 kills a real installing process at several points and checks
// that the home still works: the old lock is intact, verify passes, the
// installed skills load, and a new install succeeds and cleans up.
func TestKill9(t *testing.T) {
	for _, stop := range []string{string(EventDownload), string(EventUnpacked), string(EventCommit)} {
		t.Run(stop, func(t *testing.T) {
			e := newEnv(t)
			e.reg.Add(t, markettest.Skill{Name: "big", Version: "1.0.0", ArtifactSize: 256 << 10})
			e.reg.Publish(t)
			e.mustInstall("wordcount@1.0.0")
			before := e.snapshot()
			for _, n := range []string{"big-1.0.0", "summarize-1.0.0", "report-1.0.0"} {
				data, err := os.ReadFile(filepath.Join(e.reg.Dir, "artifacts", n+".tar.gz"))
				if err != nil {
					t.Fatal(err)
				}
				e.srv.Handle("/artifacts/"+n+".tar.gz", slow(data))
			}
			cmd, out := e.subprocess(t, stop, nil, "report", "big")
			stopped := false
			var lines []string
			for out.Scan() {
				lines = append(lines, out.Text())
				if out.Text() == "stopped" {
					stopped = true
					break
				}
			}
			if !stopped {
				t.Fatalf("the helper did not reach %s:\n%s", stop, strings.Join(lines, "\n"))
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			cmd.Wait()

			after := e.snapshot()
			if string(after.lock) != string(before.lock) {
				t.Fatalf("lock changed by a killed install")
			}
			if probs, n, err := Verify(e.home); err != nil || len(probs) != 0 || n != 1 {
				t.Fatalf("verify after kill: %v %d %v", probs, n, err)
			}
			if skills, err := Installed(e.home, nil); err != nil || len(skills) != 1 {
				t.Fatalf("installed after kill: %v %v", skills, err)
			}
			// The process lock died with the process: this does not wait.
			for _, n := range []string{"big-1.0.0", "summarize-1.0.0", "report-1.0.0"} {
				e.srv.Handle("/artifacts/"+n+".tar.gz", nil)
			}
			e.mustInstall("report", "big")
			if e.versions() != "big@1.0.0 report@1.0.0 summarize@1.0.0 wordcount@1.0.0" {
				t.Fatal(e.versions())
			}
			if got := e.storeNames(); len(got) != 4 {
				t.Fatalf("leftovers not collected: %v", got)
			}
			if probs, _, err := Verify(e.home); err != nil || len(probs) != 0 {
				t.Fatalf("verify after the new install: %v %v", probs, err)
			}
		})
	}
}

// TestDiskLimit runs an install whose file writes fail (RLIMIT_FSIZE below
// the artifact's size: the kernel refuses the write with EFBIG, root or
// not) and checks that nothing changed.
func TestDiskLimit(t *testing.T) {
	e := newEnv(t)
	e.mustInstall("notes")
	e.reg.Add(t, markettest.Skill{Name: "big", Version: "1.0.0", ArtifactSize: 256 << 10})
	e.reg.Publish(t)
	before := e.snapshot()
	cmd, out := e.subprocess(t, "", []string{"HELPER_FSIZE=65536"}, "big")
	var lines []string
	for out.Scan() {
		lines = append(lines, out.Text())
	}
	err := cmd.Wait()
	if err == nil || !strings.Contains(strings.Join(lines, "\n"), "file too large") {
		t.Fatalf("exit %v, output:\n%s", err, strings.Join(lines, "\n"))
	}
	e.unchanged(before)
}

// TestSerialized runs two installs at once in one process: the second waits
// for the first (naming its pid) and then sees its result.
func TestSerialized(t *testing.T) {
	e := newEnv(t)
	data, err := os.ReadFile(filepath.Join(e.reg.Dir, "artifacts", "summarize-1.0.0.tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	requested := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	e.srv.Handle("/artifacts/summarize-1.0.0.tar.gz", func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(requested) })
		<-release
		w.Write(data)
	})
	ctx := context.Background()
	first := make(chan error)
	go func() {
		_, err := e.manager().Install(ctx, wants(t, "summarize"), Flags{})
		first <- err
	}()
	<-requested // the first install holds the lock and is downloading

	waiting := make(chan int, 1)
	m2, err := New(Options{Home: e.home, Registries: []*registry.Registry{e.registry()}, Now: clock, Events: func(ev Event) {
		if ev.Kind == EventWaiting {
			waiting <- ev.PID
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	second := make(chan error)
	go func() {
		_, err := m2.Install(ctx, wants(t, "notes"), Flags{})
		second <- err
	}()
	if pid := <-waiting; pid != os.Getpid() {
		t.Fatalf("waiting for pid %d, want %d", pid, os.Getpid())
	}
	if _, err := os.Stat(filepath.Join(e.home, "skills.lock")); !os.IsNotExist(err) {
		t.Fatal("a lock was written while the first install was still downloading")
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-second; err != nil {
		t.Fatal(err)
	}
	if e.versions() != "notes@0.1.0 summarize@1.0.0 wordcount@1.1.0" {
		t.Fatal(e.versions())
	}
}
