package install

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/skillsdev/skills/marketplace/archive"
	"github.com/skillsdev/skills/marketplace/index"
	"github.com/skillsdev/skills/marketplace/markettest"
	"github.com/skillsdev/skills/marketplace/registry"
)

// benchSkills is the plan size and benchArtifact the size of each entry
// artifact (incompressible, like a compiled module).
const (
	benchSkills   = 50
	benchArtifact = 256 << 10
)

// benchRegistry publishes "app", which requires 49 skills, some of which
// require each other, and returns it served on 127.0.0.1 with the package
// paths.
func benchRegistry(b *testing.B) (*markettest.Registry, *markettest.Server, []string) {
	reg := markettest.New(b, now)
	var paths []string
	var appReqs []index.Requirement
	for i := 1; i < benchSkills; i++ {
		name := fmt.Sprintf("s%02d", i)
		var reqs []index.Requirement
		if i > 1 && i%5 != 0 {
			reqs = []index.Requirement{{Name: fmt.Sprintf("s%02d", i-1), Constraint: "^1.0"}}
		}
		reg.Add(b, markettest.Skill{Name: name, Version: "1.0.0", ArtifactSize: benchArtifact, Requires: reqs})
		reg.Add(b, markettest.Skill{Name: name, Version: "0.9.0", ArtifactSize: 1024})
		appReqs = append(appReqs, index.Requirement{Name: name, Constraint: "^1.0"})
		paths = append(paths, "/artifacts/"+name+"-1.0.0.tar.gz")
	}
	reg.Add(b, markettest.Skill{Name: "app", Version: "1.0.0", ArtifactSize: benchArtifact, Requires: appReqs})
	paths = append(paths, "/artifacts/app-1.0.0.tar.gz")
	reg.Publish(b)
	return reg, reg.Serve(b), paths
}

// BenchmarkInstall50 installs a 50-skill plan into a fresh home: fetch and
// verify the index, resolve, download (4 at a time, verified while
// streaming), unpack into the store, hash every file, write the lock.
func BenchmarkInstall50(b *testing.B) {
	reg, srv, _ := benchRegistry(b)
	ctx := context.Background()
	root := b.TempDir()
	b.SetBytes(benchSkills * benchArtifact)
	i := 0
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		home := filepath.Join(root, fmt.Sprint(i))
		i++
		r, err := registry.New(registry.Config{Name: "bench", URL: srv.URL, Keys: []string{reg.VKey}},
			registry.Options{StateDir: filepath.Join(home, "registries"), Now: clock})
		if err != nil {
			b.Fatal(err)
		}
		m, err := New(Options{Home: home, Registries: []*registry.Registry{r}, Now: clock})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		c0 := cpuTime()
		res, err := m.Install(ctx, []Want{{Name: "app"}}, Flags{})
		if err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime() - c0
		b.StopTimer()
		if len(res.Order) != benchSkills {
			b.Fatalf("installed %d skills", len(res.Order))
		}
		removeHome(home)
		b.StartTimer()
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// BenchmarkDownload50 is the floor BenchmarkInstall50 is compared with:
// the same 50 packages fetched over HTTP from the same server, 4 at a time,
// and SHA-256 hashed, nothing else.
func BenchmarkDownload50(b *testing.B) { benchDownload(b, false) }

// BenchmarkDownloadToFile50 is BenchmarkDownload50 writing each package to
// a file as well, like curl -o followed by sha256sum.
func BenchmarkDownloadToFile50(b *testing.B) { benchDownload(b, true) }

func benchDownload(b *testing.B, toFile bool) {
	_, srv, paths := benchRegistry(b)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: DefaultJobs, DisableCompression: true}}
	dir := b.TempDir()
	b.SetBytes(benchSkills * benchArtifact)
	c0 := cpuTime()
	i := 0
	for b.Loop() {
		sem := make(chan struct{}, DefaultJobs)
		var wg sync.WaitGroup
		i++
		for j, p := range paths {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				resp, err := client.Get(srv.URL + p)
				if err != nil {
					b.Error(err)
					return
				}
				defer resp.Body.Close()
				h := sha256.New()
				var w io.Writer = h
				if toFile {
					f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%d-%d", i, j)))
					if err != nil {
						b.Error(err)
						return
					}
					defer f.Close()
					w = io.MultiWriter(h, f)
				}
				if _, err := io.Copy(w, resp.Body); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
	}
	b.ReportMetric(float64((cpuTime()-c0).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// BenchmarkUnpackFloor50 is the least work an install must do without
// per-file hashes in the signed index, measured to tell install overhead
// from the cost of the job: the same 50 packages fetched 4 at a time and
// checked against their SHA-256 while streaming, each then gunzipped and
// untarred into a fresh folder with every file SHA-256-hashed as it is
// written. No index, resolution, manifest check, sync or lock. Like
// BenchmarkInstall50 it removes each iteration's files before the next.
func BenchmarkUnpackFloor50(b *testing.B) {
	reg, srv, paths := benchRegistry(b)
	sums := make([][32]byte, len(paths))
	for i, p := range paths {
		data, err := os.ReadFile(filepath.Join(reg.Dir, filepath.FromSlash(p)))
		if err != nil {
			b.Fatal(err)
		}
		sums[i] = sha256.Sum256(data)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: DefaultJobs, DisableCompression: true}}
	root := b.TempDir()
	b.SetBytes(benchSkills * benchArtifact)
	var cpu time.Duration
	i := 0
	for b.Loop() {
		b.StopTimer()
		dir := filepath.Join(root, fmt.Sprint(i))
		i++
		b.StartTimer()
		c0 := cpuTime()
		sem := make(chan struct{}, DefaultJobs)
		var wg sync.WaitGroup
		for j, p := range paths {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				if err := fetchUnpack(client, srv.URL+p, sums[j], filepath.Join(dir, fmt.Sprint(j))); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
		cpu += cpuTime() - c0
		b.StopTimer()
		os.RemoveAll(dir)
		b.StartTimer()
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// fetchUnpack is one package of BenchmarkUnpackFloor50.
func fetchUnpack(client *http.Client, url string, sum [32]byte, dst string) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	h := sha256.New()
	if _, err := buf.ReadFrom(io.TeeReader(resp.Body, h)); err != nil {
		return err
	}
	if [32]byte(h.Sum(nil)) != sum {
		return fmt.Errorf("%s: sha256 mismatch", url)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	var hashes []hash.Hash
	tee := func(string, int64) (io.Writer, error) {
		h := sha256.New()
		hashes = append(hashes, h)
		return h, nil
	}
	if err := archive.ExtractWith(context.Background(), &buf, dst, archive.Options{Tee: tee}); err != nil {
		return err
	}
	for _, h := range hashes {
		h.Sum(nil)
	}
	return nil
}

// removeHome deletes a home whose store is read-only.
func removeHome(home string) {
	filepath.WalkDir(home, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o755)
		}
		return nil
	})
	os.RemoveAll(home)
}
