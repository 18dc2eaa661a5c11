//go:build !unix

package store

import "os"

// syncFolder is a no-op where folders cannot be synced (Windows): renames
// are still atomic, and files are still synced.
func syncFolder(*os.File) error { return nil }
