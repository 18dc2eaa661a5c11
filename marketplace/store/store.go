// Package store is the content-addressed store of unpacked skill packages:
// $SKILLS_HOME/store/<package sha256>/ holds the files of the package whose
// archive has that SHA-256, read-only.
//
// Add unpacks an archive whose hash the caller has already verified (package
// registry checks it while downloading) into a temporary folder inside the
// store, checks that the SKILL.md inside agrees with what the index promised
// (name, version, runtime, requirements) and that the entry artifact is
// there, hashes every file, makes the files read-only and renames the
// folder into place, so an entry is either complete or absent. Entries only
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
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/skillsdev/skills/marketplace/archive"
	"github.com/skillsdev/skills/marketplace/index"
	"github.com/skillsdev/skills/sdk/manifest"
)

// Store is a store folder.
type Store struct {
	root string
}

// Open returns the store at root. The folder is created by the first Add,
// so that reading an empty home changes nothing.
func Open(root string) (*Store, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return &Store{root: abs}, nil
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
// verified, into the store and returns the new entry. An existing entry for
// sum is replaced (it is a leftover or damaged: callers reuse good entries
// instead of adding them). On error nothing is left in the store.
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
	if err := archive.Extract(ctx, r, tmp, lim); err != nil {
		return nil, fmt.Errorf("unpack %s %s: %w", want.Name, want.Version, err)
	}
	dst := s.Path(sum)
	e, err := check(tmp, dst, sum, want)
	if err != nil {
		return nil, err
	}
	if _, err := os.Lstat(dst); err == nil {
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
	return e, nil
}

// check hashes and seals every file under dir, then parses the manifest and
// compares it with want. final is where the entry will live.
func check(dir, final, sum string, want Want) (*Entry, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("unpack %s %s: "+format, append([]any{want.Name, want.Version}, args...)...)
	}
	files, manifestData, err := hashAndSeal(dir)
	if err != nil {
		return nil, fail("%w", err)
	}
	if manifestData == nil {
		return nil, fail("the package has no %s at its top", manifest.FileName)
	}
	m, err := manifest.Parse(manifest.FileName, manifestData)
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

// hashAndSeal walks dir once: it hashes every regular file, makes it
// read-only through the descriptor it already has open (keeping the
// executable bit), keeps the bytes of the top-level SKILL.md, and finally
// makes every folder below dir read-only (dir itself is sealed by the caller
// after the rename). Anything but files and folders is an error (Extract
// never creates it).
func hashAndSeal(dir string) (files map[string]string, manifestData []byte, err error) {
	files = map[string]string{}
	buf := make([]byte, 64<<10)
	var dirs []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != dir {
				dirs = append(dirs, p)
			}
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: not a regular file", rel)
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		h := sha256.New()
		var src io.Reader = f
		var keep *bytes.Buffer
		if rel == manifest.FileName {
			if fi.Size() > manifest.MaxSize {
				return fmt.Errorf("%s is %d bytes, over the %d-byte limit", rel, fi.Size(), manifest.MaxSize)
			}
			keep = bytes.NewBuffer(make([]byte, 0, fi.Size()))
			src = io.TeeReader(f, keep)
		}
		if _, err := io.CopyBuffer(h, src, buf); err != nil {
			return err
		}
		files[rel] = hex.EncodeToString(h.Sum(nil))
		if keep != nil {
			manifestData = keep.Bytes()
		}
		mode := os.FileMode(0o444)
		if fi.Mode().Perm()&0o111 != 0 {
			mode = 0o555
		}
		return f.Chmod(mode)
	})
	if err != nil {
		return nil, nil, err
	}
	// Deepest first, so each folder is still writable while its children
	// are changed.
	slices.Reverse(dirs)
	for _, d := range dirs {
		if err := os.Chmod(d, 0o555); err != nil {
			return nil, nil, err
		}
	}
	return files, manifestData, nil
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
	return removeTree(s.Path(sum))
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
