//go:build !unix

package lock

// syncDir is a no-op where folders cannot be synced (Windows): the rename
// itself is still atomic.
func syncDir(string) error { return nil }
