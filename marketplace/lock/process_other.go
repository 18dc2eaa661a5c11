//go:build !unix

package lock

import (
	"errors"
	"os"
)

// tryLock creates path exclusively. Without flock a crashed holder leaves the
// file behind; the waiting message names the pid so a person can check it
// and remove the file.
func tryLock(path string) (*Held, bool, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		return nil, true, nil
	}
	if err != nil {
		return nil, false, err
	}
	if err := writePID(f); err != nil {
		f.Close()
		os.Remove(path)
		return nil, false, err
	}
	return &Held{f: f, path: path}, false, nil
}

// Release gives up the lock.
func (h *Held) Release() error {
	if h == nil || h.f == nil {
		return nil
	}
	err := h.f.Close()
	if rerr := os.Remove(h.path); err == nil {
		err = rerr
	}
	h.f = nil
	return err
}
