package host

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"time"
)

// digests remembers the SHA-256 of each artifact the host has read, with
// the file's identity when it was read, so that a reload cycle does not
// read and hash every skill's artifact again to find the one that changed
// (a 4 MB module costs ~12 ms of SHA-256 on a CPU without SHA
// instructions, and every cycle looked at every skill).
//
// It is used to tell what changed, never to vouch for what runs: whatever
// is loaded is loaded from bytes read and hashed in the same pass (the
// engine checks them against Source.SHA256 when the lock pins one). A file
// rewritten in place changes its ctime, which userland cannot set back, so
// a change goes unnoticed only if the kernel's clock is moved back to
// where it was (a root-only act).
//
// It is guarded by Host.applyMu.
type digests map[string]digestEntry

type digestEntry struct {
	stamp  fileStamp
	digest string
}

// fileStamp is what identifies the content of a file without reading it.
type fileStamp struct {
	size         int64
	mtime, ctime time.Time
	dev, ino     uint64
}

// artifact returns the digest of the file at path and, when it had to read
// the file (it is new or changed since it was last hashed), its bytes.
func (d digests) artifact(path string) (digest string, code []byte, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", nil, err
	}
	if !fi.Mode().IsRegular() {
		return "", nil, fmt.Errorf("%s is not a regular file (%s)", path, fi.Mode().Type())
	}
	st := stampOf(fi)
	if e, ok := d[path]; ok && e.stamp == st && st.known() {
		return e.digest, nil, nil
	}
	code, err = readAll(f, fi.Size())
	if err != nil {
		return "", nil, err
	}
	sum := sha256.Sum256(code)
	digest = hex.EncodeToString(sum[:])
	// Stamp again: a write that raced the read changes the stamp, and the
	// next cycle reads the file afresh instead of trusting this digest.
	if fi2, err := f.Stat(); err == nil && stampOf(fi2) == st {
		d[path] = digestEntry{stamp: st, digest: digest}
	} else {
		delete(d, path)
	}
	return digest, code, nil
}

// keep drops the entries of paths not in live.
func (d digests) keep(live map[string]bool) {
	for p := range d {
		if !live[p] {
			delete(d, p)
		}
	}
}

// readAll reads f to its end; size is what Stat said, so one allocation
// usually does.
func readAll(f *os.File, size int64) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(int(size) + bytes.MinRead)
	if _, err := buf.ReadFrom(f); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
