// Package registry fetches a registry's signed index and its artifacts from
// a local folder, a file:// URL, an http(s):// URL or an fs.FS (NewFS, for
// the registry embedded in the binary), and refuses anything it cannot
// verify.
//
// Fetch reads index.json.sig and index.json (each read capped), verifies the
// signature against the registry's keys (package sign), parses the index
// strictly (package index), checks that the signature and the index agree on
// version and expiry, then checks freshness against the registry's record in
// the state folder: an index older than the newest one seen is a rollback, an
// expired one a freeze, and both are refused; a newer one advances the
// record. Open and Download fetch an artifact reading at most its declared
// size plus one byte and fail unless the length and SHA-256 match the index.
// Download only returns a path once the file is complete and verified, so
// callers never unpack or run unverified bytes.
package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/skillsdev/skills/marketplace/index"
	"github.com/skillsdev/skills/marketplace/sign"
)

// File names inside a registry folder.
const (
	IndexFile = "index.json"
	SigFile   = "index.json.sig"
)

// DefaultStallTimeout is how long an HTTP transfer may go without receiving
// a byte before it is abandoned.
const DefaultStallTimeout = 30 * time.Second

// Errors for errors.Is; the wrapping errors carry the numbers, times and URLs.
// Signature problems wrap the errors of package sign (sign.ErrUnsigned and
// so on).
var (
	ErrRollback     = errors.New("index rollback")
	ErrConflict     = errors.New("index changed without a version bump")
	ErrExpired      = errors.New("index expired")
	ErrTooLarge     = errors.New("response over its size limit")
	ErrSizeMismatch = errors.New("artifact size mismatch")
	ErrHashMismatch = errors.New("artifact sha256 mismatch")
	ErrStalled      = errors.New("transfer stalled")
)

// Options configures a Registry client.
type Options struct {
	// StateDir holds the freshness record <name>.json of each registry,
	// normally $SKILLS_HOME/registries. Required: without it rollback
	// protection would silently be off.
	StateDir string
	// Client makes the HTTP requests. Nil means a client with dial, TLS
	// handshake and response-header timeouts, no transparent decompression
	// (artifacts are hashed as served) and no redirects from https to http.
	Client *http.Client
	// StallTimeout abandons an HTTP transfer that receives nothing for this
	// long; 0 means DefaultStallTimeout. The overall deadline is the ctx's.
	StallTimeout time.Duration
	// Now is the clock for expiry checks; nil means time.Now.
	Now func() time.Time
	// Logger receives one debug line per accepted index; nil discards.
	Logger *slog.Logger
}

// Registry is a client for one registry. It is safe for concurrent use,
// though two concurrent Fetches race to update the freshness record (both
// results are valid; the record keeps the higher version unless they
// interleave exactly between read and rename).
type Registry struct {
	name   string
	base   *url.URL
	trust  *sign.Trust
	client *http.Client
	fsys   fs.FS // set for registries created by NewFS, whose base is fs:///
	opts   Options

	maxIndex int64 // index.MaxSize; lowered by tests to keep the endless-body test quick
}

// New returns a client for the registry c. A registry embedded in the binary
// (the bundled one) uses NewFS instead.
func New(c Config, o Options) (*Registry, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if o.StateDir == "" {
		return nil, fmt.Errorf("registry %s: no state folder for its freshness record", c.Name)
	}
	base, err := ParseLocation(c.URL)
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", c.Name, err)
	}
	return newRegistry(c, base, nil, o)
}

func newRegistry(c Config, base *url.URL, fsys fs.FS, o Options) (*Registry, error) {
	trust, err := sign.NewTrust(c.Keys...)
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", c.Name, err)
	}
	if o.StallTimeout <= 0 {
		o.StallTimeout = DefaultStallTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	client := o.Client
	if client == nil {
		client = defaultClient()
	}
	return &Registry{name: c.Name, base: base, trust: trust, client: client, fsys: fsys, opts: o, maxIndex: index.MaxSize}, nil
}

func defaultClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: 30 * time.Second,
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConnsPerHost:   4,
			DisableCompression:    true,
			ForceAttemptHTTP2:     true,
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("more than 5 redirects")
			}
			if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
				return fmt.Errorf("refusing redirect from https to %s", req.URL.Redacted())
			}
			return nil
		},
	}
}

// Name returns the registry's name.
func (r *Registry) Name() string { return r.name }

// Location returns the URL of the registry's folder.
func (r *Registry) Location() string { return r.base.String() }

// Fetched is a verified index.
type Fetched struct {
	Index     *index.Index
	Raw       []byte       // the exact bytes that were verified and parsed
	Signature []byte       // the signature file
	Signed    *sign.Signed // who signed, and the signed version and expiry
}

// Fetch downloads, verifies and parses the registry's index and advances its
// freshness record. See the package doc for what is refused. If the index and
// its signature do not match, Fetch tries once more, since a publisher
// replacing both files can be caught halfway.
func (r *Registry) Fetch(ctx context.Context) (*Fetched, error) {
	f, err := r.fetch(ctx)
	if errors.Is(err, sign.ErrMismatch) {
		f, err = r.fetch(ctx)
	}
	return f, err
}

func (r *Registry) fetch(ctx context.Context) (*Fetched, error) {
	sigURL := r.base.ResolveReference(&url.URL{Path: SigFile})
	idxURL := r.base.ResolveReference(&url.URL{Path: IndexFile})
	sig, err := r.readAll(ctx, sigURL, sign.MaxSigSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("registry %s: %w: no %s", r.name, sign.ErrUnsigned, sigURL.Redacted())
	}
	if err != nil {
		return nil, fmt.Errorf("registry %s: signature: %w", r.name, err)
	}
	raw, err := r.readAll(ctx, idxURL, r.maxIndex)
	if err != nil {
		return nil, fmt.Errorf("registry %s: index: %w", r.name, err)
	}
	signed, err := sign.Verify(sig, raw, r.trust)
	if err != nil {
		return nil, fmt.Errorf("registry %s: %s: %w", r.name, idxURL.Redacted(), err)
	}
	idx, err := index.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("registry %s: %s: %w", r.name, idxURL.Redacted(), err)
	}
	if idx.Version != signed.Version || !idx.Expires.Equal(signed.Expires) {
		return nil, fmt.Errorf("registry %s: %w: signature says version %d expiring %s, index says version %d expiring %s",
			r.name, sign.ErrMismatch, signed.Version, stamp(signed.Expires), idx.Version, stamp(idx.Expires))
	}
	if err := r.checkFresh(idx, signed); err != nil {
		return nil, err
	}
	r.opts.Logger.Debug("index accepted", "registry", r.name, "version", idx.Version, "key", signed.Key(), "expires", stamp(idx.Expires))
	return &Fetched{Index: idx, Raw: raw, Signature: sig, Signed: signed}, nil
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// State is a registry's freshness record: the newest index it has accepted.
type State struct {
	Version  int64     `json:"version"`
	SHA256   string    `json:"sha256"`
	Expires  time.Time `json:"expires"`
	Accepted time.Time `json:"accepted"`
}

// State returns the registry's freshness record; ok is false before the
// first accepted index.
func (r *Registry) State() (st State, ok bool, err error) {
	return loadState(r.statePath())
}

func (r *Registry) statePath() string {
	return filepath.Join(r.opts.StateDir, r.name+".json")
}

func loadState(path string) (State, bool, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return State{}, false, nil
	}
	if err != nil {
		return State{}, false, fmt.Errorf("freshness record: %w", err)
	}
	var st State
	dec := jsonDecoder(data)
	err = dec.Decode(&st)
	if err == nil && st.Version < 1 {
		err = fmt.Errorf("version %d", st.Version)
	}
	if err != nil {
		// Fail closed: a broken record must not reset rollback protection.
		return State{}, false, fmt.Errorf("freshness record %s is damaged (%v); delete it to accept the next valid index as new", path, err)
	}
	return st, true, nil
}

func (r *Registry) checkFresh(idx *index.Index, signed *sign.Signed) error {
	path := r.statePath()
	st, ok, err := loadState(path)
	if err != nil {
		return fmt.Errorf("registry %s: %w", r.name, err)
	}
	if ok {
		switch {
		case idx.Version < st.Version:
			return fmt.Errorf("registry %s: %w: got index version %d, but version %d was already seen on %s", r.name, ErrRollback, idx.Version, st.Version, stamp(st.Accepted))
		case idx.Version == st.Version && signed.SHA256 != st.SHA256:
			return fmt.Errorf("registry %s: %w: index version %d has sha256 %s, but was %s when first seen", r.name, ErrConflict, idx.Version, signed.SHA256, st.SHA256)
		}
	}
	now := r.opts.Now()
	if idx.Expired(now) {
		return fmt.Errorf("registry %s: %w at %s (now %s): the registry stopped refreshing its index, or someone is replaying an old one", r.name, ErrExpired, stamp(idx.Expires), stamp(now))
	}
	if ok && idx.Version == st.Version {
		return nil
	}
	// Re-read right before writing so that a concurrent Fetch that stored a
	// newer version is not overwritten by an older one.
	if cur, ok, err := loadState(path); err == nil && ok && cur.Version >= idx.Version {
		return nil
	}
	next := State{Version: idx.Version, SHA256: signed.SHA256, Expires: idx.Expires.UTC(), Accepted: now.UTC()}
	data, err := jsonIndent(next)
	if err != nil {
		return fmt.Errorf("registry %s: freshness record: %w", r.name, err)
	}
	if err := os.MkdirAll(r.opts.StateDir, 0o755); err != nil {
		return fmt.Errorf("registry %s: freshness record: %w", r.name, err)
	}
	if err := writeAtomic(path, data); err != nil {
		return fmt.Errorf("registry %s: freshness record: %w", r.name, err)
	}
	return nil
}

// ResolveURL returns the absolute URL of an artifact: relative URLs are
// taken from the registry's folder. An http(s) registry may only point at
// http(s) artifacts, so a remote index cannot make the client read local
// files.
func (r *Registry) ResolveURL(a index.Artifact) (*url.URL, error) {
	ref, err := url.Parse(a.URL)
	if err != nil {
		return nil, fmt.Errorf("artifact URL %q: %w", a.URL, err)
	}
	u := r.base.ResolveReference(ref)
	switch u.Scheme {
	case "http", "https":
	case "file":
		if r.base.Scheme != "file" {
			return nil, fmt.Errorf("artifact URL %q: a %s registry cannot point at local files", a.URL, r.base.Scheme)
		}
	case fsScheme:
		if r.fsys == nil {
			return nil, fmt.Errorf("artifact URL %q: only a registry in a file system value (NewFS) has %s: URLs", a.URL, fsScheme)
		}
	default:
		return nil, fmt.Errorf("artifact URL %q: unsupported scheme %q", a.URL, u.Scheme)
	}
	return u, nil
}

// Open returns a reader of the artifact that yields at most a.Size bytes and
// reports an error instead of io.EOF unless exactly a.Size bytes with SHA-256
// a.SHA256 were read. Bytes read before that final check are unverified:
// write them somewhere nothing uses until Read has returned io.EOF (Download
// does exactly that).
func (r *Registry) Open(ctx context.Context, a index.Artifact) (io.ReadCloser, error) {
	u, err := r.ResolveURL(a)
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", r.name, err)
	}
	body, length, err := r.get(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("registry %s: artifact: %w", r.name, err)
	}
	if length >= 0 && length != a.Size {
		body.Close()
		return nil, fmt.Errorf("registry %s: %s: %w: it is %d bytes, the index says %d", r.name, u.Redacted(), ErrSizeMismatch, length, a.Size)
	}
	v, err := NewVerifyingReader(body, a.Size, a.SHA256, "registry "+r.name+": "+u.Redacted())
	if err != nil {
		body.Close()
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{v, body}, nil
}

// Download fetches the artifact into a new file in dir (created with mode
// 0600, synced) and returns its path only once its size and SHA-256 match
// the index. On any error nothing is left behind. Put dir on the same file
// system as the destination so that the caller can rename the verified file
// into place.
func (r *Registry) Download(ctx context.Context, a index.Artifact, dir string) (string, error) {
	rc, err := r.Open(ctx, a)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	f, err := os.CreateTemp(dir, ".download-*")
	if err != nil {
		return "", fmt.Errorf("registry %s: download: %w", r.name, err)
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err := io.Copy(f, rc); err != nil {
		return "", err
	}
	if err := f.Sync(); err != nil {
		return "", fmt.Errorf("registry %s: download: %w", r.name, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("registry %s: download: %w", r.name, err)
	}
	ok = true
	return f.Name(), nil
}

// readAll reads a whole small document, refusing more than limit bytes.
func (r *Registry) readAll(ctx context.Context, u *url.URL, limit int64) ([]byte, error) {
	body, length, err := r.get(ctx, u)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	if length > limit {
		return nil, fmt.Errorf("%s: %w: %d bytes, the limit is %d", u.Redacted(), ErrTooLarge, length, limit)
	}
	data, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", u.Redacted(), err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: %w: more than %d bytes", u.Redacted(), ErrTooLarge, limit)
	}
	return data, nil
}

// get opens u for reading and returns its length when known (-1 if not). A
// missing file or a 404/410 wraps fs.ErrNotExist.
func (r *Registry) get(ctx context.Context, u *url.URL) (io.ReadCloser, int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	switch u.Scheme {
	case "file":
		return openFile(ctx, u)
	case "http", "https":
		return r.httpGet(ctx, u)
	case fsScheme:
		if r.fsys != nil {
			return openFS(ctx, r.fsys, u)
		}
	}
	return nil, 0, fmt.Errorf("%s: unsupported scheme", u.Redacted())
}

func openFile(ctx context.Context, u *url.URL) (io.ReadCloser, int64, error) {
	path := filepath.FromSlash(u.Path)
	// Stat first: opening a FIFO would block until a writer appears.
	fi, err := os.Stat(path)
	if err != nil {
		return nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		return nil, 0, fmt.Errorf("%s: not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	fi2, err := f.Stat()
	if err != nil || !os.SameFile(fi, fi2) {
		f.Close()
		return nil, 0, fmt.Errorf("%s: changed while being opened", path)
	}
	return &ctxFile{ctx: ctx, File: f}, fi2.Size(), nil
}

// ctxFile stops a long local read when its context ends.
type ctxFile struct {
	ctx context.Context
	*os.File
}

func (f *ctxFile) Read(p []byte) (int, error) {
	if err := f.ctx.Err(); err != nil {
		return 0, err
	}
	return f.File.Read(p)
}

func (r *Registry) httpGet(ctx context.Context, u *url.URL) (io.ReadCloser, int64, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	stall := r.opts.StallTimeout
	timer := time.AfterFunc(stall, func() {
		cancel(fmt.Errorf("%s: %w: nothing received for %s", u.Redacted(), ErrStalled, stall))
	})
	fail := func(err error) (io.ReadCloser, int64, error) {
		timer.Stop()
		if cause := context.Cause(ctx); cause != nil && errors.Is(cause, ErrStalled) {
			err = cause
		}
		cancel(nil)
		return nil, 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fail(err)
	}
	// Ask for the bytes as stored: a transparently decompressed artifact
	// would not match its hash. This also holds for caller-supplied clients.
	req.Header.Set("Accept-Encoding", "identity")
	req.Header.Set("User-Agent", "skills-registry/1")
	resp, err := r.client.Do(req)
	if err != nil {
		return fail(err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		err := fmt.Errorf("GET %s: %s", u.Redacted(), resp.Status)
		if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone {
			err = fmt.Errorf("%w (%w)", err, fs.ErrNotExist)
		}
		return fail(err)
	}
	if enc := resp.Header.Get("Content-Encoding"); enc != "" && enc != "identity" {
		resp.Body.Close()
		return fail(fmt.Errorf("GET %s: server applied Content-Encoding %q; want the bytes as published", u.Redacted(), enc))
	}
	timer.Reset(stall)
	return &stallBody{ctx: ctx, body: resp.Body, timer: timer, stall: stall, cancel: cancel}, resp.ContentLength, nil
}

// stallBody restarts the stall timer on every byte received and reports the
// stall, not a bare "context canceled", when the timer fires.
type stallBody struct {
	ctx    context.Context
	body   io.ReadCloser
	timer  *time.Timer
	stall  time.Duration
	cancel context.CancelCauseFunc
}

func (b *stallBody) Read(p []byte) (int, error) {
	n, err := b.body.Read(p)
	if n > 0 {
		b.timer.Reset(b.stall)
	}
	if err != nil && err != io.EOF {
		if cause := context.Cause(b.ctx); cause != nil {
			err = cause
		}
	}
	return n, err
}

func (b *stallBody) Close() error {
	b.timer.Stop()
	err := b.body.Close()
	b.cancel(nil)
	return err
}

// VerifyingReader is a reader that passes through at most size bytes of r and
// checks them: at the end it returns io.EOF only if exactly size bytes with
// the expected SHA-256 went through, and otherwise an error wrapping
// ErrSizeMismatch or ErrHashMismatch. It reads one byte past size to tell an
// exact-length source from a longer one, and never more.
type VerifyingReader struct {
	r     io.Reader
	name  string
	size  int64
	want  [32]byte
	n     int64
	h     hash.Hash
	final error // sticky result once decided
}

// NewVerifyingReader wraps r; name labels errors (typically the URL).
func NewVerifyingReader(r io.Reader, size int64, sha256hex, name string) (*VerifyingReader, error) {
	want, err := decodeHex32(sha256hex)
	if err != nil {
		return nil, fmt.Errorf("%s: bad expected sha256 %q", name, sha256hex)
	}
	if size < 0 {
		return nil, fmt.Errorf("%s: negative size %d", name, size)
	}
	return &VerifyingReader{r: r, name: name, size: size, want: want, h: sha256.New()}, nil
}

func (v *VerifyingReader) Read(p []byte) (int, error) {
	if v.final != nil {
		return 0, v.final
	}
	if v.n == v.size {
		return 0, v.finish()
	}
	if rem := v.size - v.n; int64(len(p)) > rem {
		p = p[:rem]
	}
	k, err := v.r.Read(p)
	v.n += int64(k)
	v.h.Write(p[:k])
	switch {
	case err == io.EOF && v.n < v.size:
		v.final = fmt.Errorf("%s: %w: ended after %d of %d bytes", v.name, ErrSizeMismatch, v.n, v.size)
		return k, v.final
	case err == io.EOF:
		v.final = v.check()
		return k, v.final
	case err != nil:
		v.final = fmt.Errorf("%s: after %d of %d bytes: %w", v.name, v.n, v.size, err)
		return k, v.final
	}
	return k, nil
}

// finish probes for one byte beyond the declared size, then checks the hash.
func (v *VerifyingReader) finish() error {
	var one [1]byte
	for {
		k, err := v.r.Read(one[:])
		if k > 0 {
			v.final = fmt.Errorf("%s: %w: longer than the %d bytes the index declares", v.name, ErrSizeMismatch, v.size)
			return v.final
		}
		if err == io.EOF {
			v.final = v.check()
			return v.final
		}
		if err != nil {
			v.final = fmt.Errorf("%s: after %d bytes: %w", v.name, v.n, err)
			return v.final
		}
	}
}

func (v *VerifyingReader) check() error {
	var got [32]byte
	v.h.Sum(got[:0])
	if got != v.want {
		return fmt.Errorf("%s: %w: got %x, the index says %x", v.name, ErrHashMismatch, got, v.want)
	}
	return io.EOF
}

func decodeHex32(s string) ([32]byte, error) {
	var out [32]byte
	if len(s) != 64 || strings.Trim(s, "0123456789abcdef") != "" {
		return out, errors.New("want 64 lowercase hex digits")
	}
	_, err := hex.Decode(out[:], []byte(s))
	return out, err
}

func jsonDecoder(data []byte) *json.Decoder {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec
}

func jsonIndent(v any) ([]byte, error) {
	data, err := json.MarshalIndent(v, "", "  ")
	return append(data, '\n'), err
}
