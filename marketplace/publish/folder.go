package publish

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/skillsdev/skills/marketplace/index"
	"github.com/skillsdev/skills/marketplace/registry"
	"github.com/skillsdev/skills/marketplace/sign"
)

// File names inside a registry folder. The index and signature names are
// package registry's, which reads what publish writes.
const (
	IndexFile    = registry.IndexFile
	SigFile      = registry.SigFile
	ArtifactsDir = "artifacts"
)

// DefaultExpiry is how far ahead a change pushes the index's expiry when
// Options.Expires is zero (unless the index already expires later).
const DefaultExpiry = 720 * time.Hour

// Errors for errors.Is; the wrapping errors name the keys, versions and files.
var (
	// ErrNoKey: no signer key was given.
	ErrNoKey = errors.New("no signer key")
	// ErrWrongKey: the registry's current index was signed by another key
	// (or its signature cannot be checked); Options.RotateKey overrides.
	ErrWrongKey = errors.New("the registry is signed by another key")
	// ErrEdited: index.json does not match index.json.sig, because it was
	// edited by hand or a previous change stopped between the two writes.
	ErrEdited = errors.New("index.json does not match its signature")
	// ErrBusy: another change to the same registry folder is in progress.
	ErrBusy = errors.New("registry folder is busy")
	// ErrNoRegistry: the folder holds no index.json.
	ErrNoRegistry = errors.New("no registry index")
	// ErrVersionExists: the version is already published; versions are immutable.
	ErrVersionExists = errors.New("version already published")
	// ErrNoChange: the operation would change nothing (already yanked, not
	// deprecated, ...), so the index is left as it is.
	ErrNoChange = errors.New("nothing to change")
)

// Options are what every change to a registry folder needs.
type Options struct {
	// Key signs the new index. It must be the key that signed the current
	// one, unless RotateKey is set.
	Key Key
	// RotateKey allows signing an index last signed by another key (or
	// whose signature cannot be checked): a deliberate key change, after
	// which clients must trust the new verifier key.
	RotateKey bool
	// Expires sets the new index to expire this long after now. Zero keeps
	// the current expiry, but at least DefaultExpiry from now, so routine
	// changes never shorten a long-lived index.
	Expires time.Duration
	// Now is the clock; nil means time.Now. Times are stored in UTC, to the
	// second.
	Now func() time.Time
}

func (o Options) now() time.Time {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	return now().UTC().Truncate(time.Second)
}

func (o Options) expiry(cur *index.Index, now time.Time) time.Time {
	if o.Expires > 0 {
		return now.Add(o.Expires)
	}
	e := now.Add(DefaultExpiry)
	if cur != nil && cur.Expires.After(e) {
		e = cur.Expires.UTC()
	}
	return e
}

// Result says what a change did.
type Result struct {
	Changed  bool      // false when nothing was written
	Previous int64     // index version before (0 for a new registry)
	Version  int64     // index version now (== Previous when nothing changed)
	Expires  time.Time // expiry of the index now
	KeyID    string    // key that signed the index ("name+hash")

	Published []Published // Publish: the releases added
	Skipped   []string    // Publish with SkipExisting: "name@version" already published
	Releases  []string    // operator commands: the "name@version" releases changed
	Warnings  []string    // things worth a look that did not stop the change
}

// folder is a registry folder opened for one change: locked against other
// changes, its current index loaded, and the key checked against the key
// that signed it.
type folder struct {
	dir    string
	unlock func()
	cur    *index.Index // nil for a new registry
	raw    []byte       // the current index.json bytes
	sig    []byte       // the current index.json.sig bytes
	warn   []string

	indexWritten bool // commit replaced index.json (its artifacts are now referenced)
}

// openFolder locks dir, loads its index and checks the key (see checkKey).
// With create, a missing folder or index is a new, empty registry; otherwise
// it is ErrNoRegistry.
func openFolder(dir string, o Options, create, exact bool) (*folder, error) {
	if !o.Key.valid() {
		return nil, fmt.Errorf("%s: %w: pass the registry's signer key (--key FILE)", dir, ErrNoKey)
	}
	if dir == "" {
		return nil, errors.New("no registry folder given")
	}
	if create {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("registry %s: %w", dir, err)
		}
	}
	st, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("registry %s: %w: the folder does not exist", dir, ErrNoRegistry)
		}
		return nil, fmt.Errorf("registry %s: %w", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("registry %s: not a folder", dir)
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", dir, err)
	}
	f := &folder{dir: dir, unlock: unlock}
	if err := f.load(o, create, exact); err != nil {
		unlock()
		return nil, err
	}
	return f, nil
}

func (f *folder) close() { f.unlock() }

func (f *folder) load(o Options, create, exact bool) error {
	raw, err := readCapped(filepath.Join(f.dir, IndexFile), index.MaxSize)
	if errors.Is(err, fs.ErrNotExist) {
		if !create {
			return fmt.Errorf("registry %s: %w: no %s (publish a skill to create one)", f.dir, ErrNoRegistry, IndexFile)
		}
		if _, err := os.Stat(filepath.Join(f.dir, SigFile)); err == nil {
			return fmt.Errorf("registry %s: %s exists without %s: restore the index or remove the signature", f.dir, SigFile, IndexFile)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("registry %s: %w", f.dir, err)
	}
	x, err := index.Parse(raw)
	if err != nil {
		return fmt.Errorf("registry %s: %s: %w", f.dir, IndexFile, err)
	}
	f.cur, f.raw = x, raw
	sig, err := readCapped(filepath.Join(f.dir, SigFile), sign.MaxSigSize)
	switch {
	case errors.Is(err, fs.ErrNotExist) || (err == nil && len(sig) == 0):
		f.warn = append(f.warn, fmt.Sprintf("%s had no signature (%s); it is signed now", IndexFile, SigFile))
		return nil
	case err != nil:
		return fmt.Errorf("registry %s: %w", f.dir, err)
	}
	f.sig = sig
	return f.checkKey(o, exact)
}

// checkKey refuses to sign with a key other than the one that signed the
// current index, so that an operator cannot re-key a registry by mistake:
// every client trusting the old key would refuse the result. With exact,
// index.json must also still be the file the signature covers.
func (f *folder) checkKey(o Options, exact bool) error {
	trust, err := sign.NewTrust(o.Key.Verifier())
	if err != nil {
		return fmt.Errorf("registry %s: %w", f.dir, err)
	}
	_, err = sign.Verify(f.sig, f.raw, trust)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sign.ErrMismatch):
		if !exact {
			return nil
		}
		return fmt.Errorf("registry %s: %w (index.json is version %d, %s says version %s): it was edited by hand, or an earlier change stopped between writing the two files; review index.json and run `skills registry sign %s --key FILE`",
			f.dir, ErrEdited, f.cur.Version, SigFile, signedVersionText(f.sig), f.dir)
	case o.RotateKey:
		f.warn = append(f.warn, fmt.Sprintf("key rotated: the index was signed by %s and is now signed by %s only; clients must trust %s", signedBy(f.sig), o.Key.ID(), o.Key.Verifier()))
		return nil
	case errors.Is(err, sign.ErrUntrusted):
		return fmt.Errorf("registry %s: %w: %s is signed by %s, and this key is %s; refusing to re-sign the registry with another key, which every client trusting the old one would reject (pass --rotate-key to switch keys deliberately)",
			f.dir, ErrWrongKey, SigFile, signedBy(f.sig), o.Key.ID())
	default:
		return fmt.Errorf("registry %s: %w: %s cannot be checked with this key (%s): %v; restore it, or pass --rotate-key to sign anew",
			f.dir, ErrWrongKey, SigFile, o.Key.ID(), err)
	}
}

// commit bumps x's version, stamps and signs it, and writes index.json then
// index.json.sig, each atomically.
func (f *folder) commit(x *index.Index, o Options, now time.Time) (*Result, error) {
	prev := int64(0)
	if f.cur != nil {
		prev = f.cur.Version
	}
	x.Schema = index.SchemaVersion
	x.Version = prev + 1
	x.Generated = now
	x.Expires = o.expiry(f.cur, now)
	raw, err := index.Encode(x)
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", f.dir, err)
	}
	sig, err := sign.Sign(o.Key.skey, raw, sign.Meta{Version: x.Version, Expires: x.Expires})
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", f.dir, err)
	}
	if err := writeAtomic(filepath.Join(f.dir, IndexFile), raw); err != nil {
		return nil, fmt.Errorf("registry %s: write %s: %w", f.dir, IndexFile, err)
	}
	f.indexWritten = true
	if err := writeAtomic(filepath.Join(f.dir, SigFile), sig); err != nil {
		return nil, fmt.Errorf("registry %s: write %s: %w (index.json is written but unsigned: run `skills registry sign`)", f.dir, SigFile, err)
	}
	f.cur, f.raw, f.sig = x, raw, sig
	return &Result{Changed: true, Previous: prev, Version: x.Version, Expires: x.Expires, KeyID: o.Key.ID(), Warnings: f.warn}, nil
}

// unchanged is the Result of a change that wrote nothing.
func (f *folder) unchanged(o Options) *Result {
	r := &Result{KeyID: o.Key.ID(), Warnings: f.warn}
	if f.cur != nil {
		r.Previous, r.Version, r.Expires = f.cur.Version, f.cur.Version, f.cur.Expires
	}
	return r
}

// signedText returns the unverified text of a signature note: only for
// messages and sanity checks, never for trust decisions.
func signedText(sig []byte) string {
	text, _, _ := bytes.Cut(sig, []byte("\n\n"))
	return string(text)
}

// signedVersion reads the version line of a signature note without
// verifying it; ok is false when there is none.
func signedVersion(sig []byte) (int64, bool) {
	for _, line := range strings.Split(signedText(sig), "\n") {
		if v, found := strings.CutPrefix(line, "version "); found {
			n, err := strconv.ParseInt(v, 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

func signedVersionText(sig []byte) string {
	if v, ok := signedVersion(sig); ok {
		return strconv.FormatInt(v, 10)
	}
	return "no version"
}

// signedBy names the keys of a signature note's signature lines ("— name
// base64(hash+sig)"), unverified, as "name+hash".
func signedBy(sig []byte) string {
	_, sigs, ok := bytes.Cut(sig, []byte("\n\n"))
	if !ok {
		return "no key (malformed signature file)"
	}
	var ids []string
	for _, line := range strings.Split(strings.TrimSpace(string(sigs)), "\n") {
		rest, ok := strings.CutPrefix(line, "— ")
		if !ok {
			continue
		}
		name, b64, ok := strings.Cut(rest, " ")
		if !ok {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(raw) < 4 {
			continue
		}
		ids = append(ids, fmt.Sprintf("%s+%02x%02x%02x%02x", name, raw[0], raw[1], raw[2], raw[3]))
	}
	if len(ids) == 0 {
		return "no key (malformed signature file)"
	}
	return strings.Join(ids, ", ")
}

// readCapped reads a whole file, refusing more than limit bytes.
func readCapped(path string, limit int64) ([]byte, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, limit)
	}
	return data, nil
}

// writeAtomic writes data to path through a synced temporary file in the
// same folder and a rename, so that readers see the old file or the new one
// and never a part of either.
func writeAtomic(path string, data []byte) error {
	return writeAtomicFrom(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// writeAtomicFrom is writeAtomic for content produced by fill.
func writeAtomicFrom(path string, fill func(io.Writer) error) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	defer os.Remove(name) // no-op after the rename
	if err := fill(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(name, 0o644); err != nil {
		return err
	}
	if err := os.Rename(name, path); err != nil {
		return err
	}
	syncDir(dir)
	return nil
}

// syncDir makes a rename durable where the platform can sync a folder.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
