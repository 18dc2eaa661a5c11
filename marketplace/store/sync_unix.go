//go:build unix

package store

import "os"

// syncFolder makes the entries of the open folder d durable.
func syncFolder(d *os.File) error { return d.Sync() }
