package plugin

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-plugin/runner"
)

// procRunner starts and stops one plugin process for go-plugin. go-plugin's
// own runner (used when ClientConfig.Cmd is set) hands the host's stdin to
// the plugin, kills only the plugin and not its children, and keeps the exit
// status to itself; this one gives the plugin no stdin, kills its whole
// process group, and reports how it ended.
type procRunner struct {
	path string   // the private copy in the store
	env  []string // go-plugin's handshake variables plus envAllowlist

	cmd            *exec.Cmd
	stdout, stderr io.ReadCloser
	pid            int
	leaderDone     chan struct{} // closed when the plugin has exited (before it is reaped), if canWatchExit

	mu        sync.Mutex
	groupDone bool // the group may no longer be signaled: killed at exit, or the leader reaped

	exited  chan struct{} // closed once the plugin has been reaped
	waitErr error         // how it ended; read only after exited is closed
}

var _ runner.Runner = (*procRunner)(nil)

// envAllowlist is what a plugin gets from the host's environment. Secrets
// such as model API keys live there, and a third-party plugin has no business
// reading them.
var envAllowlist = []string{"PATH", "HOME", "TMPDIR", "TZ", "LANG", "LC_ALL"}

// pipeGrace is how long the plugin's stdout and stderr may stay open after it
// exited. Only a process that left the plugin's group (so survived the group
// kill) can hold them longer; go-plugin would then wait for it forever.
const pipeGrace = time.Second

func newProcRunner(path string, goPluginEnv []string) *procRunner {
	env := append([]string(nil), goPluginEnv...)
	for _, k := range envAllowlist {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return &procRunner{path: path, env: env, exited: make(chan struct{}), leaderDone: make(chan struct{})}
}

// Start starts the plugin. A binary written moments ago can fail with
// ETXTBSY while another goroutine's fork still holds its write descriptor
// (golang/go#22315), so that error is retried briefly.
func (r *procRunner) Start(ctx context.Context) error {
	for attempt := 0; ; attempt++ {
		cmd := exec.Command(r.path)
		cmd.Env = r.env
		cmd.SysProcAttr = sysProcAttr()
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return err
		}
		stderr, err := cmd.StderrPipe()
		if err != nil {
			stdout.Close()
			return err
		}
		err = cmd.Start()
		if err == nil {
			r.cmd, r.stdout, r.stderr, r.pid = cmd, stdout, stderr, cmd.Process.Pid
			if canWatchExit {
				go r.watch()
			}
			return nil
		}
		stdout.Close()
		stderr.Close()
		if !errors.Is(err, syscall.ETXTBSY) || attempt == 10 {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// watch kills the plugin's group as soon as the plugin exits, while its
// zombie still holds the group id, so a crashed plugin leaves no children
// behind and a later kill cannot reach a stranger that reused the id.
func (r *procRunner) watch() {
	if err := waitExit(r.pid); err != nil {
		// Cannot happen short of a seccomp filter; Kill still works until
		// the reap, as on systems without waitExit.
		close(r.leaderDone)
		return
	}
	r.mu.Lock()
	_ = killGroup(r.cmd.Process)
	r.groupDone = true
	r.mu.Unlock()
	close(r.leaderDone)
	time.AfterFunc(pipeGrace, func() {
		r.stdout.Close()
		r.stderr.Close()
	})
}

// Wait reaps the plugin; go-plugin calls it once, after the plugin's stdout
// and stderr are closed.
func (r *procRunner) Wait(context.Context) error {
	if canWatchExit {
		<-r.leaderDone // reap only after watch has killed the group
	}
	err := r.cmd.Wait()
	r.mu.Lock()
	r.groupDone = true
	r.mu.Unlock()
	r.waitErr = err
	close(r.exited)
	return err
}

// Kill SIGKILLs the plugin's process group. It does not wait.
func (r *procRunner) Kill(context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil || r.groupDone {
		return nil
	}
	return killGroup(r.cmd.Process)
}

// exitStatus describes how the plugin ended; call it after exited is closed.
func (r *procRunner) exitStatus() string {
	if r.waitErr == nil {
		return "exit status 0"
	}
	var ee *exec.ExitError
	if errors.As(r.waitErr, &ee) {
		return ee.Error() // "exit status 3", "signal: killed"
	}
	return r.waitErr.Error()
}

// Diagnose explains a plugin that never completed the handshake.
func (r *procRunner) Diagnose(context.Context) string {
	return "the binary did not answer the go-plugin handshake: it must be a skills plugin (package main calling sdk.Serve) built for this OS and architecture"
}

// Stdout carries the handshake line.
func (r *procRunner) Stdout() io.ReadCloser { return r.stdout }

// Stderr carries the plugin's raw stderr: panics and go-plugin's own log.
func (r *procRunner) Stderr() io.ReadCloser { return r.stderr }

// Name is the path of the running copy.
func (r *procRunner) Name() string { return r.path }

// ID is the pid.
func (r *procRunner) ID() string {
	if r.pid == 0 {
		return ""
	}
	return strconv.Itoa(r.pid)
}

// PluginToHost keeps addresses: the plugin runs on this machine.
func (r *procRunner) PluginToHost(network, addr string) (string, string, error) {
	return network, addr, nil
}

// HostToPlugin keeps addresses: the plugin runs on this machine.
func (r *procRunner) HostToPlugin(network, addr string) (string, string, error) {
	return network, addr, nil
}
