// Package store is the content-addressed store of unpacked skill packages:
// $SKILLS_HOME/store/<package sha256>/ holds the files of the package whose
// archive has that SHA-256, read-only.
//
// Add unpacks an archive whose hash the caller has already verified (package
// registry checks it while downloading) into a temporary folder inside the
// store, hashing every file and making it read-only as it is written (one
// pass over the bytes), checks that the SKILL.md inside agrees with what the
// index promised (name, version, runtime, requirements) and that the entry
// artifact is there, and renames the folder into place, so an entry is
// either complete or absent. It then starts syncing the entry to disk in the
// background; Sync waits until every entry added so far is durable, which
// the caller does before committing to them (writing the lock). Entries only
// become installed when the lock names them; GC removes the rest, including
// the temporary folders of a process that was killed.
package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/skillsdev/skills/marketplace/archive"
	"github.com/skillsdev/skills/marketplace/index"
	"github.com/skillsdev/skills/sdk/manifest"
)

// Store is a store folder.
type Store struct {
	root string

	mu      sync.Mutex
	pending map[string]*pending // entry sum -> its background syncs, until Sync
	fsyncs  chan struct{}       // bounds the background fsyncs in flight
}

// syncJobs bounds the fsyncs in flight: each mostly waits for the disk, and
// the disk handles several at once better than one after another.
const syncJobs = 16

// pending tracks the background syncs of one new entry.
type pending struct {
	wg   sync.WaitGroup
	mu   sync.Mutex
	errs []error
}

// Open returns the store at root. The folder is created by the first Add,
// so that reading an empty home changes nothing.
func Open(root string) (*Store, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return &Store{root: abs, pending: map[string]*pending{}, fsyncs: make(chan struct{}, syncJobs)}, nil
}

// Root returns the store folder.
func (s *Store) Root() string { return s.root }

var hexSHA256 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Path returns the folder of the entry for package sha256 sum.
func (s *Store) Path(sum string) string { return filepath.Join(s.root, sum) }

// Has reports whether an entry for sum exists (it is complete if it exists,
// unless someone changed it since: Verify tells).
func (s *Store) Has(sum string) bool {
	fi, err := os.Stat(s.Path(sum))
	return err == nil && fi.IsDir()
}

// Want is what the index promises about a package.
type Want struct {
	Name         string
	Version      string
	Runtime      manifest.Runtime
	Requirements []index.Requirement
}

// Entry is an unpacked package in the store.
type Entry struct {
	SHA256         string // of the package archive
	Dir            string
	Manifest       *manifest.Manifest // File and Dir point into the store
	Files          map[string]string  // slash path -> SHA-256 of every file
	ArtifactSHA256 string             // of Manifest.Entry; "" for instructions skills
}

// MismatchError is a package whose SKILL.md disagrees with the index.
type MismatchError struct {
	Name, Version string
	Problems      []string // each names both sides
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("package %s %s: its SKILL.md disagrees with the index: %s", e.Name, e.Version, strings.Join(e.Problems, "; "))
}

// Limits bound what Add unpacks; the zero value means the archive package's
// defaults.
type Limits = archive.Limits

// Add unpacks the package archive r, whose SHA-256 sum the caller has
// verified, into the store and returns the new entry. Every file is hashed
// and made read-only as it is written, and starts being synced in the
// background. An existing entry for sum is replaced (it is a leftover or
// damaged: callers reuse good entries instead of adding them). On error
// nothing is left in the store. The new entry survives a crash once Sync
// has returned.
func (s *Store) Add(ctx context.Context, sum string, r io.Reader, want Want, lim Limits) (*Entry, error) {
	if !hexSHA256.MatchString(sum) {
		return nil, fmt.Errorf("unpack %s %s: bad package sha256 %q", want.Name, want.Version, sum)
	}
	if err := os.MkdirAll(s.root, 0o755); err != nil {
		return nil, fmt.Errorf("unpack %s %s: %w", want.Name, want.Version, err)
	}
	tmp, err := os.MkdirTemp(s.root, ".tmp-")
	if err != nil {
		return nil, fmt.Errorf("unpack %s %s: %w", want.Name, want.Version, err)
	}
	ok := false
	defer func() {
		if !ok {
			removeTree(tmp)
		}
	}()
	hs := &hashes{files: map[string]hash.Hash{}}
	if err := archive.ExtractWith(ctx, r, tmp, archive.Options{Limits: lim, Tee: hs.tee, ReadOnly: true}); err != nil {
		return nil, fmt.Errorf("unpack %s %s: %w", want.Name, want.Version, err)
	}
	dst := s.Path(sum)
	e, err := check(hs, dst, sum, want)
	if err != nil {
		return nil, err
	}
	if _, err := os.Lstat(dst); err == nil {
		s.forget(sum)
		if err := removeTree(dst); err != nil {
			return nil, fmt.Errorf("unpack %s %s: replace damaged entry: %w", want.Name, want.Version, err)
		}
	}
	if err := os.Rename(tmp, dst); err != nil {
		return nil, fmt.Errorf("unpack %s %s: %w", want.Name, want.Version, err)
	}
	ok = true
	// The folder is sealed last: renaming a folder may need write access to
	// it on some systems.
	if err := os.Chmod(dst, 0o555); err != nil {
		return nil, fmt.Errorf("unpack %s %s: %w", want.Name, want.Version, err)
	}
	s.startSync(sum, dst, hs)
	return e, nil
}

// startSync starts syncing the files and folders of the new entry dst in
// the background, so that the disk works while the caller downloads and
// unpacks the next packages; Sync waits for it.
func (s *Store) startSync(sum, dst string, hs *hashes) {
	paths := []string{dst}
	dirs := map[string]bool{}
	for p := range hs.files {
		paths = append(paths, filepath.Join(dst, filepath.FromSlash(p)))
		for d := path.Dir(p); d != "." && !dirs[d]; d = path.Dir(d) {
			dirs[d] = true
			paths = append(paths, filepath.Join(dst, filepath.FromSlash(d)))
		}
	}
	p := &pending{}
	p.wg.Go(func() {
		var wg sync.WaitGroup
		for _, f := range paths {
			s.fsyncs <- struct{}{}
			wg.Go(func() {
				defer func() { <-s.fsyncs }()
				if err := syncPath(f); err != nil {
					p.mu.Lock()
					p.errs = append(p.errs, err)
					p.mu.Unlock()
				}
			})
		}
		wg.Wait()
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending[sum] = p
}

// Sync makes the entries added since the last Sync durable: it waits for
// the background syncs of their files and folders, then syncs the store
// folder (their renames) and its parent (the store folder itself). Write a
// lock naming new entries only after Sync returns: until then a power
// failure may leave an entry with missing or partial files, which only an
// entry no lock names can have (a new install replaces it, GC removes it).
func (s *Store) Sync() error {
	s.mu.Lock()
	ps := s.pending
	s.pending = map[string]*pending{}
	s.mu.Unlock()
	if len(ps) == 0 {
		return nil // nothing new since the last Sync
	}
	var errs []error
	for _, p := range ps {
		p.wg.Wait()
		errs = append(errs, p.errs...)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("store sync: %w", err)
	}
	for _, d := range []string{s.root, filepath.Dir(s.root)} {
		if err := syncPath(d); err != nil {
			return fmt.Errorf("store sync: %w", err)
		}
	}
	return nil
}

// syncPath fsyncs the file or folder p.
func syncPath(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.IsDir() {
		err = syncFolder(f)
	} else {
		err = f.Sync()
	}
	if err != nil {
		return fmt.Errorf("sync %s: %w", p, err)
	}
	return nil
}

// hashes collects, through archive.Options.Tee, the SHA-256 of every file
// being extracted and the bytes of the top-level SKILL.md.
type hashes struct {
	files    map[string]hash.Hash // slash path -> running hash
	manifest *bytes.Buffer        // nil until SKILL.md is met
}

func (hs *hashes) tee(name string, size int64) (io.Writer, error) {
	h := sha256.New()
	hs.files[name] = h
	if name != manifest.FileName {
		return h, nil
	}
	if size > manifest.MaxSize {
		return nil, fmt.Errorf("%s is %d bytes, over the %d-byte limit", name, size, manifest.MaxSize)
	}
	hs.manifest = bytes.NewBuffer(make([]byte, 0, size))
	return io.MultiWriter(h, hs.manifest), nil
}

// check parses the manifest collected in hs and compares it with want.
// final is where the entry will live.
func check(hs *hashes, final, sum string, want Want) (*Entry, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("unpack %s %s: "+format, append([]any{want.Name, want.Version}, args...)...)
	}
	if hs.manifest == nil {
		return nil, fail("the package has no %s at its top", manifest.FileName)
	}
	files := make(map[string]string, len(hs.files))
	for p, h := range hs.files {
		files[p] = hex.EncodeToString(h.Sum(nil))
	}
	m, err := manifest.Parse(manifest.FileName, hs.manifest.Bytes())
	if err != nil {
		return nil, fail("%s: %w", final, err)
	}
	m.File = filepath.Join(final, manifest.FileName)
	m.Dir = final
	if probs := compare(m, want); len(probs) > 0 {
		return nil, &MismatchError{Name: want.Name, Version: want.Version, Problems: probs}
	}
	e := &Entry{SHA256: sum, Dir: final, Manifest: m, Files: files}
	if m.Entry != "" {
		d, ok := files[m.Entry]
		if !ok {
			return nil, fail("%s names entry %q, which is not in the package", manifest.FileName, m.Entry)
		}
		e.ArtifactSHA256 = d
	}
	return e, nil
}

// compare lists every way m differs from want, naming both sides.
func compare(m *manifest.Manifest, want Want) []string {
	var probs []string
	if m.Name != want.Name {
		probs = append(probs, fmt.Sprintf("name is %q in SKILL.md, %q in the index", m.Name, want.Name))
	}
	got := "(none)"
	if m.Version != nil {
		got = m.Version.Original()
	}
	if got != want.Version {
		probs = append(probs, fmt.Sprintf("version is %s in SKILL.md, %s in the index", got, want.Version))
	}
	if m.Runtime != want.Runtime {
		probs = append(probs, fmt.Sprintf("runtime is %s in SKILL.md, %s in the index", m.Runtime, want.Runtime))
	}
	inManifest := map[string]string{}
	for _, q := range m.Requires {
		inManifest[q.Name] = strings.TrimSpace(q.Raw)
	}
	inIndex := map[string]string{}
	for _, q := range want.Requirements {
		inIndex[q.Name] = strings.TrimSpace(q.Constraint)
	}
	names := make([]string, 0, len(inManifest)+len(inIndex))
	for n := range inManifest {
		names = append(names, n)
	}
	for n := range inIndex {
		if _, ok := inManifest[n]; !ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		a, inM := inManifest[n]
		b, inI := inIndex[n]
		switch {
		case !inI:
			probs = append(probs, fmt.Sprintf("SKILL.md requires %s %s, the index does not list it", n, a))
		case !inM:
			probs = append(probs, fmt.Sprintf("the index requires %s %s, SKILL.md does not list it", n, b))
		case a != b:
			probs = append(probs, fmt.Sprintf("SKILL.md requires %s %s, the index says %s %s", n, a, n, b))
		}
	}
	return probs
}

func hashFile(p string, buf []byte) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.CopyBuffer(h, f, buf); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// removeTree removes a sealed tree: folders are made writable first.
func removeTree(dir string) error {
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o755)
		}
		return nil
	})
	return os.RemoveAll(dir)
}

// Load returns the entry for sum with its manifest, without hashing (the
// caller has the hashes, from the lock). It fails if the entry is missing.
func (s *Store) Load(sum string) (*manifest.Manifest, error) {
	dir := s.Path(sum)
	m, err := parseManifest(dir, dir)
	if err != nil {
		return nil, fmt.Errorf("store entry %s: %w", sum, err)
	}
	return m, nil
}

// Problem is one file of an entry that is not as recorded.
type Problem struct {
	Path string // slash path inside the entry; "" for the whole entry
	Kind string // "missing", "modified" or "unexpected"
}

func (p Problem) String() string {
	if p.Path == "" {
		return "entry " + p.Kind
	}
	return p.Path + " " + p.Kind
}

// Verify re-hashes the entry for sum and compares it with files (slash path
// -> SHA-256, as Entry.Files). It returns every difference, sorted by path;
// none means the entry is intact.
func (s *Store) Verify(sum string, files map[string]string) ([]Problem, error) {
	dir := s.Path(sum)
	fi, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return []Problem{{Kind: "missing"}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", sum, err)
	}
	if !fi.IsDir() {
		return []Problem{{Kind: "modified"}}, nil
	}
	var probs []Problem
	seen := map[string]bool{}
	buf := make([]byte, 64<<10)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			probs = append(probs, Problem{Path: filepath.ToSlash(rel), Kind: "unexpected"})
			return nil
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		want, known := files[rel]
		if !known {
			probs = append(probs, Problem{Path: rel, Kind: "unexpected"})
			return nil
		}
		seen[rel] = true
		if !d.Type().IsRegular() {
			probs = append(probs, Problem{Path: rel, Kind: "modified"})
			return nil
		}
		got, err := hashFile(p, buf)
		if err != nil || got != want {
			probs = append(probs, Problem{Path: rel, Kind: "modified"})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", sum, err)
	}
	for p := range files {
		if !seen[p] {
			probs = append(probs, Problem{Path: p, Kind: "missing"})
		}
	}
	sort.Slice(probs, func(i, j int) bool { return probs[i].Path < probs[j].Path })
	return probs, nil
}

// GC removes every entry whose sum is not in keep, and every leftover
// temporary file or folder. It returns the sums removed. Only run it while
// holding the process lock: an entry being added is a temporary folder
// until it is renamed.
func (s *Store) GC(keep map[string]bool) ([]string, error) {
	des, err := os.ReadDir(s.root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store gc: %w", err)
	}
	var removed []string
	var errs []error
	for _, d := range des {
		n := d.Name()
		if keep[n] {
			continue
		}
		s.forget(n)
		if err := removeTree(filepath.Join(s.root, n)); err != nil {
			errs = append(errs, err)
			continue
		}
		if hexSHA256.MatchString(n) {
			removed = append(removed, n)
		}
	}
	sort.Strings(removed)
	if err := errors.Join(errs...); err != nil {
		return removed, fmt.Errorf("store gc: %w", err)
	}
	return removed, nil
}

// Remove deletes the entry for sum if it exists.
func (s *Store) Remove(sum string) error {
	if !hexSHA256.MatchString(sum) {
		return fmt.Errorf("store: bad sha256 %q", sum)
	}
	s.forget(sum)
	return removeTree(s.Path(sum))
}

// forget drops sum's background syncs from the next Sync, once they are
// over: the entry is going away.
func (s *Store) forget(sum string) {
	s.mu.Lock()
	p := s.pending[sum]
	delete(s.pending, sum)
	s.mu.Unlock()
	if p != nil {
		p.wg.Wait()
	}
}

// parseManifest parses dir/SKILL.md. The store folder is named by hash, not
// by skill, so the folder-name rule of manifest.Load does not apply; File and
// Dir are set to final.
func parseManifest(dir, final string) (*manifest.Manifest, error) {
	f, err := os.Open(filepath.Join(dir, manifest.FileName))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, manifest.MaxSize+1))
	if err != nil {
		return nil, err
	}
	m, err := manifest.Parse(manifest.FileName, data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", final, err)
	}
	m.File = filepath.Join(final, manifest.FileName)
	m.Dir = final
	return m, nil
}
