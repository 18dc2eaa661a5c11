//go:build unix

package reload

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// lockBuild takes an exclusive flock on the build lock of dir, polling so
// that ctx can end the wait. flock locks belong to an open file, so two
// callers in one process exclude each other too.
func lockBuild(ctx context.Context, dir string) (unlock func(), err error) {
	path := buildLockPath(dir)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("build lock: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				_ = f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("build lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("build lock %s: %w", path, ctx.Err())
		case <-time.After(25 * time.Millisecond):
		}
	}
}
