//go:build unix

package reload

import (
	"os"
	"syscall"
)

// fileID identifies a folder across renames: its inode.
func fileID(fi os.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino)
	}
	return 1
}
