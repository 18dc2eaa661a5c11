package install

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/skillsdev/skills/marketplace/lock"
	"github.com/skillsdev/skills/marketplace/store"
)

// fetch runs the jobs as a two-stage pipeline, Options.Jobs downloads and
// Options.Jobs unpacks at a time, so that one package is downloaded while
// another is unpacked, hashed and synced (a sync waits for the disk, not for
// a core). It returns the store entries added, durable once it returns
// without error. The first failure cancels the rest.
func (m *Manager) fetch(ctx context.Context, jobs []*job) ([]string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	downloads := make(chan struct{}, m.o.Jobs)
	unpacks := make(chan struct{}, m.o.Jobs)
	acquire := func(sem chan struct{}) bool {
		select {
		case sem <- struct{}{}:
			if ctx.Err() != nil {
				<-sem
				return false
			}
			return true
		case <-ctx.Done():
			return false
		}
	}
	var (
		mu       sync.Mutex
		added    []string
		firstErr error
		wg       sync.WaitGroup
	)
	// Package buffers are reused: at most 2*Jobs are in use at once.
	bufs := make(chan []byte, 2*m.o.Jobs)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
			cancel()
		}
	}
	for _, j := range jobs {
		wg.Go(func() {
			if !acquire(downloads) {
				return
			}
			pkg, err := m.download(ctx, j, bufs)
			if err == nil {
				// The download slot is kept until an unpack slot is free,
				// so at most 2*Jobs packages are held at once.
				if !acquire(unpacks) {
					err = ctx.Err()
				}
			}
			<-downloads
			if err != nil {
				if pkg != nil {
					pkg.release()
				}
				fail(err)
				return
			}
			defer func() { <-unpacks }()
			err = m.unpack(ctx, j, pkg)
			pkg.release()
			if err != nil {
				fail(err)
				return
			}
			mu.Lock()
			added = append(added, j.art.SHA256)
			mu.Unlock()
		})
	}
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	if firstErr == nil && len(added) > 0 {
		// The lock written next must only name entries that survive a crash.
		firstErr = m.store.Sync()
	}
	return added, firstErr
}

// pkgData is a downloaded package whose length and SHA-256 matched the
// index.
type pkgData struct {
	r       io.Reader
	release func() // gives back its buffer or removes its temporary file
}

// download fetches j's package, verified while it streams, into a buffer
// taken from bufs if one there is large enough (or, for a large package, a
// temporary file in the store). Nothing of it is returned unless it matched
// the index.
func (m *Manager) download(ctx context.Context, j *job, bufs chan []byte) (*pkgData, error) {
	fail := func(err error) error { return fmt.Errorf("install %s %s: %w", j.name, j.version, err) }
	rc, err := j.reg.Open(ctx, j.art)
	if err != nil {
		return nil, fail(err)
	}
	defer rc.Close()
	pw := &progress{m: m, name: j.name, version: j.version, total: j.art.Size}
	if j.art.Size <= memLimit {
		// ReadFrom reads straight into the buffer; it wants MinRead bytes
		// of room even for the final read that only finds the end.
		need := int(j.art.Size) + bytes.MinRead
		var b []byte
		select {
		case b = <-bufs:
		default:
		}
		if cap(b) < need {
			b = make([]byte, 0, need)
		}
		buf := bytes.NewBuffer(b[:0])
		release := func() {
			select {
			case bufs <- buf.Bytes()[:0]:
			default:
			}
		}
		if _, err := buf.ReadFrom(io.TeeReader(rc, pw)); err != nil {
			release()
			return nil, fail(err)
		}
		pw.flush()
		return &pkgData{r: bytes.NewReader(buf.Bytes()), release: release}, nil
	}
	// Not synced: it is read back at once and then removed.
	if err := os.MkdirAll(m.store.Root(), 0o755); err != nil {
		return nil, fail(err)
	}
	tmp, err := os.CreateTemp(m.store.Root(), ".download-*")
	if err != nil {
		return nil, fail(err)
	}
	release := func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}
	if _, err := io.Copy(io.MultiWriter(tmp, pw), rc); err != nil {
		release()
		return nil, fail(err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		release()
		return nil, fail(err)
	}
	pw.flush()
	return &pkgData{r: tmp, release: release}, nil
}

// unpack adds a downloaded package to the store and completes the job's
// lock entry.
func (m *Manager) unpack(ctx context.Context, j *job, pkg *pkgData) error {
	se, err := m.store.Add(ctx, j.art.SHA256, pkg.r, j.want, m.o.Limits)
	if err != nil {
		return err // store errors name the skill and version
	}
	if err := fill(j.entry, se); err != nil {
		m.store.Remove(j.art.SHA256)
		return fmt.Errorf("install %s %s: %w", j.name, j.version, err)
	}
	m.emit(Event{Kind: EventUnpacked, Name: j.name, Version: j.version})
	return nil
}

// fill records the store entry's hashes in e; for an entry already in the
// lock (a re-fetch) they must be the ones recorded.
func fill(e *lock.Entry, se *store.Entry) error {
	var art *lock.Artifact
	if se.Manifest.Entry != "" {
		art = &lock.Artifact{Path: se.Manifest.Entry, SHA256: se.ArtifactSHA256}
	}
	if len(e.Files) > 0 {
		if !sameFiles(e.Files, se.Files) || (e.Artifact == nil) != (art == nil) || (art != nil && *art != *e.Artifact) {
			return fmt.Errorf("the unpacked package (sha256 %s) does not hold the files the lock records", se.SHA256)
		}
		return nil
	}
	e.Files, e.Artifact = se.Files, art
	return nil
}

func sameFiles(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// progress reports download progress about every 64 KiB.
type progress struct {
	m             *Manager
	name, version string
	total, n, at  int64
}

func (p *progress) Write(b []byte) (int, error) {
	p.n += int64(len(b))
	if p.n-p.at >= 64<<10 {
		p.flush()
	}
	return len(b), nil
}

func (p *progress) flush() {
	p.at = p.n
	p.m.emit(Event{Kind: EventDownload, Name: p.name, Version: p.version, Bytes: p.n, Total: p.total})
}
