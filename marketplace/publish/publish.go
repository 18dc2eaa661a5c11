// Package publish is the publisher's and operator's side of a registry
// folder: Publish builds, packages and adds skill versions; Deprecate,
// Undeprecate, Yank and Unyank change the state of published versions; Sign
// re-signs an index edited by hand. Every change bumps the index version,
// signs the index with the registry's key, and is refused if that key is
// not the one that signed the current index (Options.RotateKey overrides).
// Versions are never deleted or overwritten.
//
// # Registry layout
//
//	index.json                 the index (package index), canonical encoding
//	index.json.sig             its detached signature (package sign)
//	artifacts/NAME/VERSION/    one folder per published version, holding
//	  NAME-VERSION.tar.gz                  wasm and instructions skills
//	  NAME-VERSION-GOOS-GOARCH.tar.gz      plugin skills, one per platform
//
// Index URLs of artifacts are relative ("artifacts/wordcount/1.0.0/
// wordcount-1.0.0.tar.gz"), so a registry folder can be copied, served over
// HTTP or embedded as it is.
//
// # What a concurrent reader sees
//
// A change writes each new artifact first (temporary file, fsync, rename),
// then index.json, then index.json.sig, each by the same atomic rename.
// Artifacts are never changed or removed once an index refers to them, so
// every artifact named by any index a reader can get exists with the bytes
// that index pins. A reader therefore sees the old index with its old
// signature, the new index with the old signature for a moment between the
// two renames (its verification fails with a mismatch, and
// registry.Registry.Fetch retries once), or the new index with its new
// signature. Changes to one folder are serialized by a lock on the folder
// (flock; a second change fails at once with ErrBusy).
//
// # Reproducible packages
//
// Builds are reproducible (sdk/build: -trimpath, no build id, no VCS stamp,
// CGO off, stripped) and packages are deterministic (archive.Pack), so the
// same sources built with the same Go version give byte-identical
// artifacts, and anyone can rebuild a release and compare its SHA-256 with
// the index.
package publish

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/skillsdev/skills/marketplace/archive"
	"github.com/skillsdev/skills/marketplace/index"
	"github.com/skillsdev/skills/sdk/build"
	"github.com/skillsdev/skills/sdk/manifest"
)

// Platform is a plugin build target.
type Platform struct{ OS, Arch string }

// String returns "os/arch", the index's artifact key.
func (p Platform) String() string { return p.OS + "/" + p.Arch }

// DefaultPlatform is the target every plugin skill is built for; Platforms
// in PublishOptions adds more.
var DefaultPlatform = Platform{OS: "linux", Arch: "amd64"}

var platformPattern = regexp.MustCompile(`^([a-z0-9]+)/([a-z0-9]+)$`)

// ParsePlatform parses "os/arch" as Go spells them, e.g. "darwin/arm64".
// Whether Go can build for it is up to the go command.
func ParsePlatform(s string) (Platform, error) {
	m := platformPattern.FindStringSubmatch(s)
	if m == nil {
		return Platform{}, fmt.Errorf("platform %q: want GOOS/GOARCH like linux/arm64", s)
	}
	return Platform{OS: m[1], Arch: m[2]}, nil
}

// PublishOptions configures Publish.
type PublishOptions struct {
	Options
	// Platforms are plugin targets built in addition to DefaultPlatform,
	// cross-compiled with CGO off. Wasm and instructions skills have one
	// platform-independent artifact.
	Platforms []Platform
	// SkipExisting makes a version that is already published a skip (listed
	// in Result.Skipped, nothing built) instead of an ErrVersionExists error.
	// The published version is never touched either way.
	SkipExisting bool
	// Go is the go command for builds; "" means "go" on PATH.
	Go string
	// Progress, if set, is called before each step and once at the end.
	Progress func(Progress)
}

// Progress reports where a Publish is.
type Progress struct {
	Done, Total int    // steps finished, steps in all
	Doing       string // the step starting now, e.g. "build report linux/amd64"; "" at the end
}

// Published is one release added by Publish.
type Published struct {
	Name, Version string
	Runtime       manifest.Runtime
	Artifacts     map[string]index.Artifact // by platform key: index.AnyPlatform or "os/arch"
	Files         []string                  // the package's files, sorted
}

// job is one skill version to build and package.
type job struct {
	m         *manifest.Manifest
	version   string
	platforms []string
}

// Publish validates the skills in skillDirs (each a folder with SKILL.md),
// builds them (wasm and plugin skills, with sdk/build), packages each with
// its assets (see Assets), writes the artifacts under registryDir/artifacts,
// adds the versions to the index, bumps its version and signs it. The folder
// is created, with a new index, if it holds none. All skills go into one new
// index version; if anything fails, the index is unchanged and the artifacts
// written so far are removed.
func Publish(ctx context.Context, registryDir string, skillDirs []string, o PublishOptions) (*Result, error) {
	if len(skillDirs) == 0 {
		return nil, errors.New("publish: no skill folders given")
	}
	var ms []*manifest.Manifest
	seen := make(map[string]string)
	for _, d := range skillDirs {
		m, err := manifest.Load(d)
		if err != nil {
			return nil, fmt.Errorf("publish: %w", err)
		}
		if m.Version == nil {
			return nil, fmt.Errorf("publish: %s: metadata.version is required to publish (strict semver, e.g. 1.0.0)", m.File)
		}
		if prev, dup := seen[m.Name]; dup {
			return nil, fmt.Errorf("publish: %s and %s are both skill %s", prev, d, m.Name)
		}
		seen[m.Name] = d
		ms = append(ms, m)
	}
	platforms := []string{DefaultPlatform.String()}
	for _, p := range o.Platforms {
		if !slices.Contains(platforms, p.String()) {
			platforms = append(platforms, p.String())
		}
	}
	slices.Sort(platforms)

	f, err := openFolder(registryDir, o.Options, true, true)
	if err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	defer f.close()
	now := o.now()
	x := f.cur
	if x == nil {
		x = &index.Index{Schema: index.SchemaVersion, Skills: make(map[string]*index.Skill)}
	}

	var jobs []job
	var skipped []string
	total := 1 // signing the index
	for _, m := range ms {
		v := m.Version.String()
		if have, r := findVersion(x, m.Name, m.Version); r != nil {
			if o.SkipExisting {
				skipped = append(skipped, m.Name+"@"+have)
				continue
			}
			return nil, fmt.Errorf("publish %s: %w: %s %s was published on %s; versions are immutable: bump metadata.version in %s (or deprecate or yank %s)",
				m.Name, ErrVersionExists, m.Name, have, r.Published.UTC().Format(time.DateOnly), m.File, have)
		}
		j := job{m: m, version: v, platforms: []string{index.AnyPlatform}}
		if m.Runtime == manifest.RuntimePlugin {
			j.platforms = platforms
		}
		steps := len(j.platforms)
		if m.Runtime != manifest.RuntimeInstructions {
			steps *= 2 // build, then package
		}
		total += steps
		jobs = append(jobs, j)
	}
	if len(jobs) == 0 {
		res := f.unchanged(o.Options)
		res.Skipped = skipped
		return res, nil
	}

	p := &progress{fn: o.Progress, total: total}
	w := &artifactWriter{dir: registryDir, referenced: referencedURLs(x)}
	var published []Published
	err = func() error {
		for _, j := range jobs {
			pub, err := w.publishJob(ctx, j, o, p)
			if err != nil {
				return err
			}
			published = append(published, pub)
		}
		return nil
	}()
	if err != nil {
		w.removeAll()
		return nil, fmt.Errorf("publish: %w", err)
	}

	for i, j := range jobs {
		addRelease(x, j.m, j.version, published[i].Artifacts, now)
	}
	warnings := requirementWarnings(x, jobs)
	p.step("sign index")
	res, err := f.commit(x, o.Options, now)
	if err != nil {
		if !f.indexWritten {
			w.removeAll()
		}
		return nil, fmt.Errorf("publish: %w", err)
	}
	p.finish()
	res.Published = published
	res.Skipped = skipped
	res.Warnings = append(res.Warnings, warnings...)
	return res, nil
}

// findVersion returns the key and release of name at a version equal to v
// (semver equality: build metadata does not make a new version).
func findVersion(x *index.Index, name string, v *semver.Version) (string, *index.Release) {
	s := x.Skills[name]
	if s == nil {
		return "", nil
	}
	for key, r := range s.Versions {
		if kv, err := semver.StrictNewVersion(key); err == nil && kv.Equal(v) {
			return key, r
		}
	}
	return "", nil
}

func addRelease(x *index.Index, m *manifest.Manifest, version string, arts map[string]index.Artifact, now time.Time) {
	s := x.Skills[m.Name]
	if s == nil {
		s = &index.Skill{Versions: make(map[string]*index.Release)}
		x.Skills[m.Name] = s
	}
	r := &index.Release{
		Runtime:     m.Runtime,
		Description: m.Description,
		Artifacts:   arts,
		Published:   now,
	}
	for _, q := range m.Requires {
		r.Requirements = append(r.Requirements, index.Requirement{Name: q.Name, Constraint: q.Raw})
	}
	s.Versions[version] = r
	// Listings show the description of the highest stable version (of the
	// highest prerelease while there is no stable one).
	if s.Description == "" || listedVersion(s) == version {
		s.Description = m.Description
	}
}

// listedVersion is the version whose description a skill's listing shows.
func listedVersion(s *index.Skill) string {
	vs := s.Sorted()
	for i := len(vs) - 1; i >= 0; i-- {
		if v, err := semver.StrictNewVersion(vs[i]); err == nil && v.Prerelease() == "" {
			return vs[i]
		}
	}
	return vs[len(vs)-1]
}

// requirementWarnings names requirements that no installable version in
// this registry satisfies: legitimate when another registry has them, but
// usually a skill published before its dependency.
func requirementWarnings(x *index.Index, jobs []job) []string {
	var out []string
	for _, j := range jobs {
		for _, q := range j.m.Requires {
			if !satisfiable(x, q.Name, q.Constraint) {
				out = append(out, fmt.Sprintf("%s %s requires %s %s, which no installable version in this registry satisfies (clients need another registry that has it)", j.m.Name, j.version, q.Name, q.Raw))
			}
		}
	}
	return out
}

func satisfiable(x *index.Index, name string, c *semver.Constraints) bool {
	s := x.Skills[name]
	if s == nil {
		return false
	}
	for key, r := range s.Versions {
		if v, err := semver.StrictNewVersion(key); err == nil && r.Yanked == nil && c.Check(v) {
			return true
		}
	}
	return false
}

// referencedURLs is every artifact URL of the index: files a publish must
// never overwrite or remove.
func referencedURLs(x *index.Index) map[string]bool {
	out := make(map[string]bool)
	for _, s := range x.Skills {
		for _, r := range s.Versions {
			for _, a := range r.Artifacts {
				out[a.URL] = true
			}
		}
	}
	return out
}

// ArtifactPath returns the index URL (relative to the registry folder) of a
// release's package: artifacts/NAME/VERSION/NAME-VERSION.tar.gz, with
// -GOOS-GOARCH before .tar.gz for a plugin platform.
func ArtifactPath(name, version, platform string) string {
	file := name + "-" + version
	if platform != index.AnyPlatform {
		file += "-" + strings.ReplaceAll(platform, "/", "-")
	}
	return path.Join(ArtifactsDir, name, version, file+".tar.gz")
}

// artifactWriter writes packages into the registry folder and remembers
// them, so that a failed publish can remove what no index refers to.
type artifactWriter struct {
	dir        string
	referenced map[string]bool
	written    []string
}

func (w *artifactWriter) removeAll() {
	for _, p := range w.written {
		os.Remove(p)
		// Then the version, name and artifacts folders if that left them
		// empty (Remove refuses a folder that is not).
		for d, i := filepath.Dir(p), 0; i < 3; d, i = filepath.Dir(d), i+1 {
			if os.Remove(d) != nil {
				break
			}
		}
	}
	w.written = nil
}

func (w *artifactWriter) publishJob(ctx context.Context, j job, o PublishOptions, p *progress) (Published, error) {
	m := j.m
	pub := Published{Name: m.Name, Version: j.version, Runtime: m.Runtime, Artifacts: make(map[string]index.Artifact)}
	assets, err := Assets(m)
	if err != nil {
		return pub, err
	}
	staging, err := os.MkdirTemp("", "skills-publish-"+m.Name+"-*")
	if err != nil {
		return pub, err
	}
	defer os.RemoveAll(staging)
	for _, rel := range assets {
		if err := copyFile(filepath.Join(m.Dir, filepath.FromSlash(rel)), filepath.Join(staging, filepath.FromSlash(rel))); err != nil {
			return pub, fmt.Errorf("%s: stage %s: %w", m.Name, rel, err)
		}
	}
	files := assets
	if m.Runtime != manifest.RuntimeInstructions {
		files = append(slices.Clone(assets), m.Entry)
		slices.Sort(files)
	}
	pub.Files = files
	for _, plat := range j.platforms {
		if err := ctx.Err(); err != nil {
			return pub, err
		}
		label := m.Name + " " + j.version
		if plat != index.AnyPlatform {
			label += " " + plat
		}
		if m.Runtime != manifest.RuntimeInstructions {
			p.step("build " + label)
			bo := build.Options{Dir: m.Dir, Runtime: m.Runtime, Output: filepath.Join(staging, filepath.FromSlash(m.Entry)), Go: o.Go}
			if plat != index.AnyPlatform {
				goos, goarch, _ := strings.Cut(plat, "/")
				bo.GOOS, bo.GOARCH = goos, goarch
			}
			if _, err := build.Build(ctx, bo); err != nil {
				return pub, err
			}
		}
		p.step("package " + label)
		a, err := w.write(m.Name, j.version, plat, staging, files)
		if err != nil {
			return pub, fmt.Errorf("%s: %w", label, err)
		}
		pub.Artifacts[plat] = a
	}
	return pub, nil
}

// write packs files of staging into the release's artifact file and returns
// its index entry.
func (w *artifactWriter) write(name, version, platform, staging string, files []string) (index.Artifact, error) {
	url := ArtifactPath(name, version, platform)
	if w.referenced[url] {
		return index.Artifact{}, fmt.Errorf("%s is already referenced by the index; refusing to overwrite a published artifact", url)
	}
	dst := filepath.Join(w.dir, filepath.FromSlash(url))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return index.Artifact{}, err
	}
	h := sha256.New()
	var size int64
	err := writeAtomicFrom(dst, func(out io.Writer) error {
		cw := &countWriter{w: io.MultiWriter(out, h)}
		err := archive.Pack(cw, staging, files)
		size = cw.n
		return err
	})
	if err != nil {
		return index.Artifact{}, fmt.Errorf("write %s: %w", url, err)
	}
	w.written = append(w.written, dst)
	return index.Artifact{URL: url, SHA256: hex.EncodeToString(h.Sum(nil)), Size: size}, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// copyFile copies a regular file, keeping only whether it is executable
// (the package normalises modes anyway).
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("not a regular file")
	}
	mode := os.FileMode(0o644)
	if st.Mode().Perm()&0o111 != 0 {
		mode = 0o755
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// progress counts steps for PublishOptions.Progress.
type progress struct {
	fn          func(Progress)
	done, total int
	started     bool
}

func (p *progress) step(doing string) {
	if p.started {
		p.done++
	}
	p.started = true
	if p.fn != nil {
		p.fn(Progress{Done: p.done, Total: p.total, Doing: doing})
	}
}

func (p *progress) finish() {
	if p.fn != nil {
		p.fn(Progress{Done: p.total, Total: p.total})
	}
}
