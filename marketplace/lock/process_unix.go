//go:build unix

package lock

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// tryLock takes an flock on path without blocking. flock locks belong to the
// open file, so two opens in one process exclude each other too, and the
// kernel drops the lock when its holder dies: no stale locks after kill -9.
func tryLock(path string) (*Held, bool, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, false, err
	}
	err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		f.Close()
		return nil, true, nil
	}
	if err != nil {
		f.Close()
		return nil, false, err
	}
	if err := writePID(f); err != nil {
		f.Close()
		return nil, false, err
	}
	return &Held{f: f, path: path}, false, nil
}

// Release gives up the lock.
func (h *Held) Release() error {
	if h == nil || h.f == nil {
		return nil
	}
	h.f.Truncate(0)
	err := unix.Flock(int(h.f.Fd()), unix.LOCK_UN)
	if cerr := h.f.Close(); err == nil {
		err = cerr
	}
	h.f = nil
	return err
}
