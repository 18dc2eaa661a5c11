package lock

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ProcessFile is the name of the process lock inside $SKILLS_HOME.
const ProcessFile = ".lock"

// Held is an acquired process lock; Release gives it up.
type Held struct {
	f    *os.File
	path string
}

// Acquire takes the exclusive process lock of home, so that commands that
// change the installed set run one at a time. If another process holds it,
// waiting is called once with that process's pid (0 when unknown) and
// Acquire waits until the lock is free or ctx ends. The lock is released
// when the process exits, however it exits.
func Acquire(ctx context.Context, home string, waiting func(pid int)) (*Held, error) {
	if err := os.MkdirAll(home, 0o755); err != nil {
		return nil, fmt.Errorf("process lock: %w", err)
	}
	path := filepath.Join(home, ProcessFile)
	told := false
	delay := 10 * time.Millisecond
	for {
		h, busy, err := tryLock(path)
		if err != nil {
			return nil, fmt.Errorf("process lock %s: %w", path, err)
		}
		if !busy {
			return h, nil
		}
		if !told && waiting != nil {
			waiting(readPID(path))
		}
		told = true
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("process lock %s: gave up waiting: %w", path, ctx.Err())
		case <-time.After(delay):
		}
		if delay < 200*time.Millisecond {
			delay *= 2
		}
	}
}

// readPID reads the pid the holder wrote; 0 when unknown (the holder may
// not have written it yet).
func readPID(path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid < 1 {
		return 0
	}
	return pid
}

// writePID records the holder's pid for the message other processes print.
func writePID(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return err
}
