//go:build unix

package plugin

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// alive reports whether pid is a running process. A zombie counts as dead:
// in a container, pid 1 may never reap the orphans it inherits.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return !errors.Is(err, os.ErrNotExist) || !procMounted()
	}
	// pid (comm) state ...: comm may hold spaces and parentheses.
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z' && stat[i+2] != 'X'
	}
	return true
}

func procMounted() bool {
	_, err := os.Stat("/proc/self/stat")
	return err == nil
}

// waitGone polls until pid is gone. The bound is generous: it only fails a
// test when the process never goes.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d is still alive", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCloseKillsProcessGroup(t *testing.T) {
	e := newEngine(t)
	s := load(t, e, "spawn", nil)
	out, err := s.Call(context.Background(), []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	var pids struct{ Pid, Child int }
	if err := json.Unmarshal(out, &pids); err != nil {
		t.Fatal(err)
	}
	for _, pid := range []int{pids.Pid, pids.Child} {
		if !alive(pid) {
			t.Fatalf("process %d is not running before Close", pid)
		}
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitGone(t, pids.Pid)
	waitGone(t, pids.Child)
}

// TestCrashKillsChildren: a plugin that dies takes what it started with it.
func TestCrashKillsChildren(t *testing.T) {
	if !canWatchExit {
		t.Skip("only where the host can see a plugin exit before reaping it")
	}
	e := newEngine(t)
	s := load(t, e, "spawn", nil)
	out, err := s.Call(context.Background(), []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	var pids struct{ Pid, Child int }
	if err := json.Unmarshal(out, &pids); err != nil {
		t.Fatal(err)
	}
	// Kill only the plugin, as a crash would.
	if err := syscall.Kill(pids.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitGone(t, pids.Child)
}

// TestHostDeathLeavesNoOrphan runs this test binary as a host that starts a
// plugin, SIGKILLs that host, and checks the plugin goes too.
func TestHostDeathLeavesNoOrphan(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	host := exec.CommandContext(ctx, exe, "-test.run=^$")
	host.Env = append(os.Environ(),
		envFakeHostArtifact+"="+guests["echo"],
		envFakeHostStore+"="+filepath.Join(t.TempDir(), "store"),
		"TMPDIR="+t.TempDir()) // go-plugin's socket dir, which a killed host cannot remove
	var stderr bytes.Buffer
	host.Stderr = &stderr
	stdout, err := host.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := host.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		host.Process.Kill()
		host.Wait()
		t.Fatalf("fake host: %v\n%s", err, stderr.String())
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace([]byte(line))))
	if err != nil || pid <= 0 || !alive(pid) {
		host.Process.Kill()
		host.Wait()
		t.Fatalf("fake host printed %q: want the pid of a running plugin", line)
	}
	if err := host.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	host.Wait()
	waitGone(t, pid)
}
