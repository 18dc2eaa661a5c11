// Package archive packs a skill package (SKILL.md, its entry artifact,
// assets) into a deterministic tar.gz and extracts such archives safely.
//
// Pack writes the same bytes for the same files, whoever packs them and when:
// entries sorted by path, regular files only, modification times, owners and
// names zeroed, modes normalised to 0644 (0755 when the source file is
// executable), and a gzip header without name or time. Reproducible
// packages let anyone rebuild a release and compare its SHA-256 with the
// index.
//
// Extract is written for hostile input, although callers only extract
// archives whose hash the index pinned: it writes through an os.Root opened
// on the destination, so no entry can land outside it even through a
// symlink planted beforehand, and it refuses, naming the entry, any absolute
// path, any "..", links of both kinds, devices, FIFOs, sparse files, any
// other entry that is not a regular file or a folder, duplicate entries, and
// archives over the entry-count, file-size or total-size limits (checked
// against each header before its data is read). ExtractWith also hands each
// file's bytes to the caller as they are written (to hash them without
// reading them back) and can leave the result read-only.
package archive

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"time"
)

// Default limits; a zero field of Limits means the default.
const (
	DefaultMaxEntries   = 4096
	DefaultMaxFileSize  = 256 << 20
	DefaultMaxTotalSize = 512 << 20
)

// Limits bound what Extract writes.
type Limits struct {
	MaxEntries   int   // entries of any type, including refused ones
	MaxFileSize  int64 // bytes of one file
	MaxTotalSize int64 // bytes of all files together
}

func (l Limits) withDefaults() Limits {
	if l.MaxEntries <= 0 {
		l.MaxEntries = DefaultMaxEntries
	}
	if l.MaxFileSize <= 0 {
		l.MaxFileSize = DefaultMaxFileSize
	}
	if l.MaxTotalSize <= 0 {
		l.MaxTotalSize = DefaultMaxTotalSize
	}
	return l
}

// EntryError is a refused or failed archive entry.
type EntryError struct {
	Name string // the entry's name as stored in the archive
	Err  error
}

func (e *EntryError) Error() string { return fmt.Sprintf("archive entry %q: %v", e.Name, e.Err) }
func (e *EntryError) Unwrap() error { return e.Err }

// Errors wrapped by EntryError, for errors.Is.
var (
	ErrUnsafePath  = errors.New("unsafe path")
	ErrType        = errors.New("not a regular file or folder")
	ErrDuplicate   = errors.New("duplicate entry")
	ErrLimit       = errors.New("over the limit")
	ErrNotGzip     = errors.New("not a gzip stream")
	ErrPackListing = errors.New("bad package file list")
)

// epoch is the modification time of every packed entry.
var epoch = time.Unix(0, 0)

// Pack writes a deterministic tar.gz of the given files of dir to w. files
// are slash-separated paths relative to dir (e.g. "SKILL.md",
// "bin/skill.wasm"); folders are implied by the paths. Every file must be a
// regular file inside dir (symlinks are refused, and reads go through an
// os.Root so none can lead outside). The result is within DefaultLimits, so
// Extract with default limits accepts it.
func Pack(w io.Writer, dir string, files []string) error {
	names := slices.Clone(files)
	slices.Sort(names)
	if len(names) == 0 {
		return fmt.Errorf("pack %s: %w: no files", dir, ErrPackListing)
	}
	if len(names) > DefaultMaxEntries {
		return fmt.Errorf("pack %s: %w: %d files, over the %d-entry limit", dir, ErrLimit, len(names), DefaultMaxEntries)
	}
	for i, n := range names {
		if _, err := cleanName(n, false); err != nil || n != path.Clean(n) || strings.HasPrefix(n, "./") {
			return fmt.Errorf("pack %s: %w: %q is not a clean relative slash path", dir, ErrPackListing, n)
		}
		if i > 0 && names[i-1] == n {
			return fmt.Errorf("pack %s: %w: %q listed twice", dir, ErrPackListing, n)
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("pack: %w", err)
	}
	defer root.Close()

	zw, err := gzip.NewWriterLevel(w, gzip.DefaultCompression)
	if err != nil {
		return fmt.Errorf("pack %s: %w", dir, err)
	}
	tw := tar.NewWriter(zw)
	var total int64
	for _, n := range names {
		size, err := packFile(tw, root, n)
		if err != nil {
			return fmt.Errorf("pack %s: %s: %w", dir, n, err)
		}
		if total += size; total > DefaultMaxTotalSize {
			return fmt.Errorf("pack %s: %w: files total more than %d bytes", dir, ErrLimit, int64(DefaultMaxTotalSize))
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("pack %s: %w", dir, err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("pack %s: %w", dir, err)
	}
	return nil
}

func packFile(tw *tar.Writer, root *os.Root, name string) (int64, error) {
	fi, err := root.Lstat(name)
	if err != nil {
		return 0, err
	}
	if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("%w (%s); packages hold regular files only", ErrType, fi.Mode().Type())
	}
	if fi.Size() > DefaultMaxFileSize {
		return 0, fmt.Errorf("%w: %d bytes, the limit is %d", ErrLimit, fi.Size(), int64(DefaultMaxFileSize))
	}
	f, err := root.Open(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi2, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if !os.SameFile(fi, fi2) {
		return 0, errors.New("changed while being packed")
	}
	mode := int64(0o644)
	if fi2.Mode().Perm()&0o111 != 0 {
		mode = 0o755
	}
	hdr := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     name,
		Size:     fi2.Size(),
		Mode:     mode,
		ModTime:  epoch,
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return 0, err
	}
	n, err := io.Copy(tw, io.LimitReader(f, hdr.Size+1))
	if err != nil {
		return 0, err
	}
	if n != hdr.Size {
		return 0, errors.New("changed while being packed")
	}
	return n, nil
}

// Extract unpacks the tar.gz r into the existing folder dst, refusing
// anything unsafe (see the package doc) with an *EntryError. Existing files
// are never overwritten. On error dst may hold part of the archive: extract
// into a fresh folder and remove it on failure. Only extract archives whose
// SHA-256 has already been verified against the index.
func Extract(ctx context.Context, r io.Reader, dst string, lim Limits) error {
	return ExtractWith(ctx, r, dst, Options{Limits: lim})
}

// Options are what ExtractWith does beyond Extract; the zero value is
// Extract.
type Options struct {
	// Limits bound what is extracted (zero fields mean the defaults).
	Limits Limits
	// Tee, when set, is called for every regular file before its data is
	// written, with its clean slash path and size; the file's bytes also go
	// to the writer it returns (nil for none). It lets a caller hash files
	// as they are written instead of reading them back. An error refuses the
	// entry.
	Tee func(name string, size int64) (io.Writer, error)
	// ReadOnly removes write permission from every file and folder written
	// (dst itself is left as it is: the caller may still need to rename it).
	ReadOnly bool
}

// ExtractWith is Extract with the extra work of o, done while each file is
// open so that it costs no second pass over the files.
func ExtractWith(ctx context.Context, r io.Reader, dst string, o Options) error {
	lim := o.Limits.withDefaults()
	root, err := os.OpenRoot(dst)
	if err != nil {
		return fmt.Errorf("extract: %w", err)
	}
	defer root.Close()
	zr, err := gzip.NewReader(&ctxReader{ctx: ctx, r: r})
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("extract to %s: %w", dst, ctx.Err())
		}
		return fmt.Errorf("extract to %s: %w: %v", dst, ErrNotGzip, err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	x := &extractor{root: root, tr: tr, o: o, lim: lim, seen: map[string]bool{}, dirs: map[string]bool{}, buf: make([]byte, 32<<10)}
	for entries := 0; ; entries++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("extract to %s: after %d entries: %w", dst, entries, err)
		}
		if entries >= lim.MaxEntries {
			return &EntryError{hdr.Name, fmt.Errorf("%w: more than %d entries", ErrLimit, lim.MaxEntries)}
		}
		if err := x.entry(hdr); err != nil {
			return err
		}
	}
	if err := x.finishDirs(); err != nil {
		return fmt.Errorf("extract to %s: %w", dst, err)
	}
	return nil
}

// extractor is the state of one ExtractWith.
type extractor struct {
	root  *os.Root
	tr    *tar.Reader
	o     Options
	lim   Limits
	seen  map[string]bool // entry names, to refuse duplicates
	dirs  map[string]bool // every folder created below dst, implied ones included
	total int64
	buf   []byte
}

// addDirs records dir and its parents as created.
func (x *extractor) addDirs(dir string) {
	for dir != "." && !x.dirs[dir] {
		x.dirs[dir] = true
		dir = path.Dir(dir)
	}
}

func (x *extractor) entry(hdr *tar.Header) error {
	fail := func(err error) error { return &EntryError{Name: hdr.Name, Err: err} }
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeDir:
	case tar.TypeSymlink:
		return fail(fmt.Errorf("%w: symlink to %q", ErrType, hdr.Linkname))
	case tar.TypeLink:
		return fail(fmt.Errorf("%w: hard link to %q", ErrType, hdr.Linkname))
	case tar.TypeChar, tar.TypeBlock:
		return fail(fmt.Errorf("%w: device file", ErrType))
	case tar.TypeFifo:
		return fail(fmt.Errorf("%w: FIFO", ErrType))
	default:
		return fail(fmt.Errorf("%w: entry type %q", ErrType, hdr.Typeflag))
	}
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return fail(fmt.Errorf("%w: sparse file", ErrType))
		}
	}
	isDir := hdr.Typeflag == tar.TypeDir
	name, err := cleanName(hdr.Name, isDir)
	if err != nil {
		return fail(err)
	}
	if name == "." {
		return nil // the destination itself, as in "./"
	}
	if x.seen[name] {
		return fail(ErrDuplicate)
	}
	x.seen[name] = true
	if isDir {
		if err := x.root.MkdirAll(name, 0o755); err != nil {
			return fail(err)
		}
		x.addDirs(name)
		return nil
	}
	if hdr.Size < 0 || hdr.Size > x.lim.MaxFileSize {
		return fail(fmt.Errorf("%w: claims %d bytes, the file limit is %d", ErrLimit, hdr.Size, x.lim.MaxFileSize))
	}
	if x.total += hdr.Size; x.total > x.lim.MaxTotalSize {
		return fail(fmt.Errorf("%w: the archive's files exceed %d bytes in total", ErrLimit, x.lim.MaxTotalSize))
	}
	var tee io.Writer
	if x.o.Tee != nil {
		if tee, err = x.o.Tee(name, hdr.Size); err != nil {
			return fail(err)
		}
	}
	if dir := path.Dir(name); dir != "." {
		if err := x.root.MkdirAll(dir, 0o755); err != nil {
			return fail(err)
		}
		x.addDirs(dir)
	}
	mode := os.FileMode(0o644)
	if hdr.Mode&0o111 != 0 {
		mode = 0o755
	}
	f, err := x.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fail(err)
	}
	n, err := x.writeFile(f, tee, mode)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fail(fmt.Errorf("after %d of %d bytes: %w", n, hdr.Size, err))
	}
	if n != hdr.Size {
		return fail(fmt.Errorf("truncated: %d of %d bytes", n, hdr.Size))
	}
	return nil
}

// writeFile copies the current entry's data into f (and tee), then seals
// and syncs f as asked, all through the open descriptor.
func (x *extractor) writeFile(f *os.File, tee io.Writer, mode os.FileMode) (int64, error) {
	var w io.Writer = f
	if tee != nil {
		w = io.MultiWriter(f, tee)
	}
	// The bare reader keeps io.CopyBuffer on the shared buffer (no
	// ReadFrom/WriteTo detour with a buffer of its own).
	n, err := io.CopyBuffer(w, struct{ io.Reader }{x.tr}, x.buf)
	if err != nil {
		return n, err
	}
	if x.o.ReadOnly {
		if err := f.Chmod(mode &^ 0o222); err != nil {
			return n, err
		}
	}
	return n, nil
}

// finishDirs seals the folders, deepest first so that each is still
// writable while its children change.
func (x *extractor) finishDirs() error {
	if !x.o.ReadOnly {
		return nil
	}
	dirs := make([]string, 0, len(x.dirs))
	for d := range x.dirs {
		dirs = append(dirs, d)
	}
	slices.SortFunc(dirs, func(a, b string) int {
		if c := strings.Count(b, "/") - strings.Count(a, "/"); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	for _, d := range dirs {
		if err := x.root.Chmod(d, 0o555); err != nil {
			return err
		}
	}
	return nil
}

// cleanName turns an entry name into a clean slash path relative to the
// destination ("." for the destination itself), refusing anything that is
// absolute, climbs with "..", or is not portable.
func cleanName(raw string, isDir bool) (string, error) {
	name := raw
	switch {
	case name == "":
		return "", fmt.Errorf("%w: empty name", ErrUnsafePath)
	case strings.ContainsRune(name, 0):
		return "", fmt.Errorf("%w: NUL in name", ErrUnsafePath)
	case strings.Contains(name, `\`):
		return "", fmt.Errorf("%w: backslash in name", ErrUnsafePath)
	case strings.HasPrefix(name, "/"):
		return "", fmt.Errorf("%w: absolute path", ErrUnsafePath)
	case len(name) >= 2 && name[1] == ':' && ('a' <= name[0]|0x20 && name[0]|0x20 <= 'z'):
		return "", fmt.Errorf("%w: drive letter", ErrUnsafePath)
	}
	for strings.HasPrefix(name, "./") {
		name = name[2:]
	}
	if isDir {
		name = strings.TrimSuffix(name, "/")
	}
	if name == "" || name == "." {
		return ".", nil
	}
	for _, elem := range strings.Split(name, "/") {
		if elem == ".." {
			return "", fmt.Errorf("%w: \"..\" leads outside the destination", ErrUnsafePath)
		}
	}
	if !fs.ValidPath(name) {
		return "", fmt.Errorf("%w: not a clean relative path", ErrUnsafePath)
	}
	return name, nil
}

// ctxReader stops reading once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
