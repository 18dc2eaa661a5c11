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

// fetch runs the jobs, Options.Jobs at a time, and returns the store
// entries added. The first failure cancels the rest.
func (m *Manager) fetch(ctx context.Context, jobs []*job) ([]string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, m.o.Jobs)
	var (
		mu       sync.Mutex
		added    []string
		firstErr error
		wg       sync.WaitGroup
	)
	for _, j := range jobs {
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			if ctx.Err() != nil {
				return
			}
			err := m.fetchOne(ctx, j)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
					cancel()
				}
				return
			}
			added = append(added, j.art.SHA256)
		})
	}
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	return added, firstErr
}

// fetchOne downloads one package, verified while it streams, unpacks it
// into the store and completes the job's lock entry.
func (m *Manager) fetchOne(ctx context.Context, j *job) error {
	fail := func(err error) error { return fmt.Errorf("install %s %s: %w", j.name, j.version, err) }
	rc, err := j.reg.Open(ctx, j.art)
	if err != nil {
		return fail(err)
	}
	defer rc.Close()
	pw := &progress{m: m, name: j.name, version: j.version, total: j.art.Size}
	var src io.Reader
	if j.art.Size <= memLimit {
		buf := bytes.NewBuffer(make([]byte, 0, j.art.Size))
		if _, err := io.Copy(io.MultiWriter(buf, pw), rc); err != nil {
			return fail(err)
		}
		src = bytes.NewReader(buf.Bytes())
	} else {
		// Not synced: it is read back at once and then removed.
		if err := os.MkdirAll(m.store.Root(), 0o755); err != nil {
			return fail(err)
		}
		tmp, err := os.CreateTemp(m.store.Root(), ".download-*")
		if err != nil {
			return fail(err)
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		if _, err := io.Copy(io.MultiWriter(tmp, pw), rc); err != nil {
			return fail(err)
		}
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return fail(err)
		}
		src = tmp
	}
	pw.flush()
	se, err := m.store.Add(ctx, j.art.SHA256, src, j.want, m.o.Limits)
	if err != nil {
		return err // store errors name the skill and version
	}
	if err := fill(j.entry, se); err != nil {
		m.store.Remove(j.art.SHA256)
		return fail(err)
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
