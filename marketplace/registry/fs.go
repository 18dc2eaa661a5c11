package registry

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"strings"
)

// fsScheme is the URL scheme of the files of a registry created by NewFS:
// its folder is fs:///, so an index-relative artifact URL resolves to
// fs:///artifacts/x.tar.gz and is read from the fs.FS.
const fsScheme = "fs"

// NewFS returns a client for a registry whose index.json, index.json.sig and
// artifacts are held in fsys (its root is the registry folder), such as the
// bundled registry embedded in the binary with go:embed. It is verified like
// any other: the signature against keys, the freshness record named name in
// o.StateDir (rollback and expiry), and the same read caps. Its Location is
// "fs:///". Artifact URLs in its index may be relative (read from fsys) or
// http(s); file:// URLs are refused as for any non-file registry.
func NewFS(name string, keys []string, fsys fs.FS, o Options) (*Registry, error) {
	c := Config{Name: name, URL: fsScheme + ":///", Keys: keys}
	if err := validName(name); err != nil {
		return nil, err
	}
	if err := c.validateKeys(); err != nil {
		return nil, err
	}
	if fsys == nil {
		return nil, fmt.Errorf("registry %s: no file system", name)
	}
	if o.StateDir == "" {
		return nil, fmt.Errorf("registry %s: no state folder for its freshness record", name)
	}
	return newRegistry(c, &url.URL{Scheme: fsScheme, Path: "/"}, fsys, o)
}

// openFS opens the file of fsys that u names. Like openFile it refuses
// anything but a regular file and reports the size it will read.
func openFS(ctx context.Context, fsys fs.FS, u *url.URL) (io.ReadCloser, int64, error) {
	name := strings.TrimPrefix(u.Path, "/")
	if !fs.ValidPath(name) || name == "." {
		return nil, 0, fmt.Errorf("%s: not a path inside the registry", u.Redacted())
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, 0, fmt.Errorf("%s: not a regular file", u.Redacted())
	}
	return &ctxReadCloser{ctx: ctx, rc: f}, fi.Size(), nil
}

// ctxReadCloser stops a long read when its context ends.
type ctxReadCloser struct {
	ctx context.Context
	rc  io.ReadCloser
}

func (c *ctxReadCloser) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.rc.Read(p)
}

func (c *ctxReadCloser) Close() error { return c.rc.Close() }
