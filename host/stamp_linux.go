//go:build linux

package host

import (
	"io/fs"
	"syscall"
	"time"
)

func stampOf(fi fs.FileInfo) fileStamp {
	st := fileStamp{size: fi.Size(), mtime: fi.ModTime()}
	if s, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.dev, st.ino = uint64(s.Dev), uint64(s.Ino)
		st.ctime = time.Unix(int64(s.Ctim.Sec), int64(s.Ctim.Nsec))
	}
	return st
}

// known reports whether the stamp has what makes it trustworthy for
// telling a changed file: its inode and change time.
func (s fileStamp) known() bool { return s.ino != 0 && !s.ctime.IsZero() }
