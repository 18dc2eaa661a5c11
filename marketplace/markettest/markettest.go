// Package markettest builds real, signed registries for tests: skill
// packages made with package archive from small hand-written SKILL.md files
// and artifact bytes, an index made with package index, signed with package
// sign, written to a folder and optionally served over HTTP on 127.0.0.1.
// Nothing is mocked: clients read these registries exactly as they read a
// published one.
package markettest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skillsdev/skills/marketplace/archive"
	"github.com/skillsdev/skills/marketplace/index"
	"github.com/skillsdev/skills/marketplace/sign"
	"github.com/skillsdev/skills/sdk/manifest"
)

// Skill describes one published version. Zero fields get defaults: runtime
// wasm, a description, a 4 KiB artifact named NAME.wasm (NAME for plugins).
type Skill struct {
	Name, Version string
	Runtime       manifest.Runtime
	Description   string
	Requires      []index.Requirement // written to SKILL.md and to the index
	Deprecated    *index.Deprecation
	Yanked        *index.Yank
	ArtifactSize  int               // bytes of the fake entry artifact; 0 means 4096
	Files         map[string][]byte // extra files in the package
	// SkillMD replaces the generated SKILL.md in the package (the index
	// still describes the fields above), to make the two disagree.
	SkillMD []byte
	// Package replaces the whole package archive (hostile archives).
	Package []byte
}

// Registry is a registry folder under construction.
type Registry struct {
	Dir        string
	SKey, VKey string // signer and verifier key
	Version    int64  // of the last Publish
	Now        time.Time

	mu       sync.Mutex
	releases map[string]map[string]*index.Release
	desc     map[string]string
}

// New returns an empty registry in a new temporary folder with a fresh key
// named "test". now is the clock used for published times and expiry.
func New(t testing.TB, now time.Time) *Registry {
	t.Helper()
	skey, vkey, err := sign.GenerateKey("test")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "artifacts"), 0o755); err != nil {
		t.Fatal(err)
	}
	return &Registry{Dir: dir, SKey: skey, VKey: vkey, Now: now,
		releases: map[string]map[string]*index.Release{}, desc: map[string]string{}}
}

// SkillMD returns the SKILL.md that Add packs for s.
func SkillMD(s Skill) []byte {
	s = defaults(s)
	var b strings.Builder
	fmt.Fprintf(&b, "---\nname: %s\ndescription: %s\nmetadata:\n  version: %s\n  runtime: %s\n", s.Name, s.Description, s.Version, s.Runtime)
	if e := entry(s); e != "" {
		fmt.Fprintf(&b, "  entry: %s\n", e)
	}
	fmt.Fprintf(&b, "---\n# %s\n\nA test skill.\n", s.Name)
	if len(s.Requires) > 0 {
		b.WriteString("\n## Requires\n\n")
		for _, q := range s.Requires {
			fmt.Fprintf(&b, "- %s %s\n", q.Name, q.Constraint)
		}
	}
	if s.Runtime != manifest.RuntimeInstructions {
		b.WriteString("\n## Input\n\n```json\n{\"type\": \"object\"}\n```\n")
	}
	return []byte(b.String())
}

func defaults(s Skill) Skill {
	if s.Runtime == "" {
		s.Runtime = manifest.RuntimeWasm
	}
	if s.Description == "" {
		s.Description = "The " + s.Name + " test skill."
	}
	if s.ArtifactSize == 0 {
		s.ArtifactSize = 4096
	}
	return s
}

func entry(s Skill) string {
	switch s.Runtime {
	case manifest.RuntimeWasm:
		return s.Name + ".wasm"
	case manifest.RuntimePlugin:
		return s.Name
	}
	return ""
}

// Artifact returns the deterministic fake artifact bytes of s.
func Artifact(s Skill) []byte {
	s = defaults(s)
	seed := sha256.Sum256([]byte(s.Name + "@" + s.Version))
	out := make([]byte, 0, s.ArtifactSize)
	for len(out) < s.ArtifactSize {
		seed = sha256.Sum256(seed[:])
		out = append(out, seed[:]...)
	}
	return out[:s.ArtifactSize]
}

// Add builds the package of s into artifacts/NAME-VERSION.tar.gz and adds
// the release to the index (published by the next Publish). It returns the
// package bytes.
func (r *Registry) Add(t testing.TB, s Skill) []byte {
	t.Helper()
	s = defaults(s)
	pkg := s.Package
	if pkg == nil {
		src := t.TempDir()
		files := map[string][]byte{manifest.FileName: SkillMD(s)}
		if s.SkillMD != nil {
			files[manifest.FileName] = s.SkillMD
		}
		if e := entry(s); e != "" {
			files[e] = Artifact(s)
		}
		for k, v := range s.Files {
			files[k] = v
		}
		names := make([]string, 0, len(files))
		for name, data := range files {
			p := filepath.Join(src, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			mode := os.FileMode(0o644)
			if s.Runtime == manifest.RuntimePlugin && name == entry(s) {
				mode = 0o755
			}
			if err := os.WriteFile(p, data, mode); err != nil {
				t.Fatal(err)
			}
			names = append(names, name)
		}
		sort.Strings(names)
		var buf bytes.Buffer
		if err := archive.Pack(&buf, src, names); err != nil {
			t.Fatal(err)
		}
		pkg = buf.Bytes()
	}
	file := path.Join("artifacts", s.Name+"-"+s.Version+".tar.gz")
	if err := os.WriteFile(filepath.Join(r.Dir, filepath.FromSlash(file)), pkg, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(pkg)
	key := index.AnyPlatform
	if s.Runtime == manifest.RuntimePlugin {
		key = runtime.GOOS + "/" + runtime.GOARCH
	}
	rel := &index.Release{
		Runtime:      s.Runtime,
		Requirements: s.Requires,
		Artifacts:    map[string]index.Artifact{key: {URL: file, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(pkg))}},
		Published:    r.Now.Add(-time.Hour),
		Deprecated:   s.Deprecated,
		Yanked:       s.Yanked,
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.releases[s.Name] == nil {
		r.releases[s.Name] = map[string]*index.Release{}
	}
	r.releases[s.Name][s.Version] = rel
	r.desc[s.Name] = s.Description
	return pkg
}

// Edit changes the release name@version in place (deprecate, yank); it is
// published by the next Publish.
func (r *Registry) Edit(t testing.TB, name, version string, edit func(*index.Release)) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	rel := r.releases[name][version]
	if rel == nil {
		t.Fatalf("markettest: no release %s@%s", name, version)
	}
	edit(rel)
}

// Index returns the index the next Publish would sign, at version v
// expiring at exp.
func (r *Registry) Index(v int64, exp time.Time) *index.Index {
	r.mu.Lock()
	defer r.mu.Unlock()
	x := &index.Index{Schema: index.SchemaVersion, Version: v, Generated: exp.Add(-72 * time.Hour), Expires: exp, Skills: map[string]*index.Skill{}}
	for name, vs := range r.releases {
		s := &index.Skill{Description: r.desc[name], Versions: map[string]*index.Release{}}
		for ver, rel := range vs {
			c := *rel
			s.Versions[ver] = &c
		}
		x.Skills[name] = s
	}
	return x
}

// Publish bumps the version, signs the index (expiring a day after Now) and
// writes index.json and index.json.sig. It returns the index bytes.
func (r *Registry) Publish(t testing.TB) []byte {
	t.Helper()
	r.Version++
	return r.PublishAs(t, r.Version, r.Now.Add(24*time.Hour))
}

// PublishAs signs and writes the index with an explicit version and expiry
// (replays, expired indexes). It does not change r.Version.
func (r *Registry) PublishAs(t testing.TB, version int64, expires time.Time) []byte {
	t.Helper()
	x := r.Index(version, expires)
	raw, err := index.Encode(x)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := sign.Sign(r.SKey, raw, sign.Meta{Version: version, Expires: expires})
	if err != nil {
		t.Fatal(err)
	}
	r.WriteFile(t, "index.json", raw)
	r.WriteFile(t, "index.json.sig", sig)
	return raw
}

// WriteFile replaces a file of the registry folder.
func (r *Registry) WriteFile(t testing.TB, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(r.Dir, filepath.FromSlash(name)), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Server serves a registry folder on 127.0.0.1. Paths given a handler with
// Handle are served by it instead.
type Server struct {
	*httptest.Server
	mu       sync.Mutex
	override map[string]http.HandlerFunc
	hits     map[string]int
}

// Serve starts serving r's folder; it stops when the test ends.
func (r *Registry) Serve(t testing.TB) *Server {
	s := &Server{override: map[string]http.HandlerFunc{}, hits: map[string]int{}}
	files := http.FileServer(http.Dir(r.Dir))
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		s.mu.Lock()
		h := s.override[req.URL.Path]
		s.hits[req.URL.Path]++
		s.mu.Unlock()
		if h != nil {
			h(w, req)
			return
		}
		files.ServeHTTP(w, req)
	}))
	t.Cleanup(s.Close)
	return s
}

// Handle serves path (e.g. "/artifacts/a-1.0.0.tar.gz") with h; nil restores
// the file.
func (s *Server) Handle(path string, h http.HandlerFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h == nil {
		delete(s.override, path)
		return
	}
	s.override[path] = h
}

// Hits returns how many requests path has received.
func (s *Server) Hits(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

// SHA256 returns the lowercase hex SHA-256 of b.
func SHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
