package publish

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/skillsdev/skills/marketplace/archive"
	"github.com/skillsdev/skills/marketplace/index"
	"github.com/skillsdev/skills/sdk/manifest"
)

// noise is what a real skill folder holds besides its package: none of it
// may reach the package.
var noise = map[string]string{
	"main_test.go":         "package main\n",
	"helper.go":            "package main\n",
	"go.sum":               "",
	"testdata/input.txt":   "test input",
	".gitignore":           "*.wasm\n",
	".cache/state":         "x",
	"old.wasm":             "\x00asm\x01\x00\x00\x00",
	"stray-binary":         "\x7fELF\x02\x01\x01 a build output without an extension",
	"vendor/x/y.txt":       "vendored",
	"nested/SKILL.md":      "another skill's manifest",
	"nested/other.txt":     "another skill's file",
	"notes.pe.txt":         "MZ is how this note starts, but it is text",
	"data/stopwords.txt":   "the\na\n",
	"templates/report.md":  "# {{.Title}}\n",
	"scripts/setup.sh":     "#!/bin/sh\necho hi\n",
	"README.md":            "# readme\n",
	"nested-ok/assets.txt": "kept: no SKILL.md here",
}

var wantAssets = []string{"README.md", "SKILL.md", "data/stopwords.txt", "nested-ok/assets.txt", "notes.pe.txt", "scripts/setup.sh", "templates/report.md"}

func TestPublishFreshRegistry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := t.TempDir()
	wasmDir := writeSkill(t, src, skillSpec{name: "counter", version: "1.2.0", runtime: manifest.RuntimeWasm, files: noise})
	// A stale local build at the entry path: the package must get a fresh one.
	if err := os.WriteFile(filepath.Join(wasmDir, "counter.wasm"), []byte("stale"), 0o644); err != nil {
		t.Fatal(err)
	}
	pluginDir := writeSkill(t, src, skillSpec{name: "reporter", version: "0.3.0", runtime: manifest.RuntimePlugin, requires: []string{"counter ^1.2", "guide ~2.0"}})
	guideDir := writeSkill(t, src, skillSpec{name: "guide", version: "2.0.1", runtime: manifest.RuntimeInstructions, files: map[string]string{"examples/one.md": "example"}})

	reg := filepath.Join(t.TempDir(), "registry")
	k := newTestKey(t, "test-registry")
	var steps []Progress
	res, err := Publish(ctx, reg, []string{wasmDir, pluginDir, guideDir}, PublishOptions{
		Options:   opts(k),
		Platforms: []Platform{{OS: "linux", Arch: "arm64"}},
		Progress:  func(p Progress) { steps = append(steps, p) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed || res.Previous != 0 || res.Version != 1 || res.KeyID != k.ID() || len(res.Published) != 3 {
		t.Fatalf("result: %+v", res)
	}
	if len(res.Warnings) != 0 {
		t.Errorf("warnings for a complete batch: %q", res.Warnings)
	}
	// counter: build+package; reporter: 2 platforms x (build+package); guide: package; sign.
	if last := steps[len(steps)-1]; last.Total != 8 || last.Done != 8 || last.Doing != "" || len(steps) != 9 {
		t.Errorf("progress: %+v", steps)
	}

	_, f, err := fetch(t, reg, k.Verifier(), t.TempDir())
	if err != nil {
		t.Fatalf("client refuses the published registry: %v", err)
	}
	if got := strings.Join(f.Index.Names(), ","); got != "counter,guide,reporter" {
		t.Fatalf("skills: %s", got)
	}
	if canon, err := index.Encode(f.Index); err != nil || !bytes.Equal(canon, f.Raw) {
		t.Errorf("index.json is not in canonical form (%v)", err)
	}
	rep, _ := f.Index.Lookup("reporter", "0.3.0")
	if len(rep.Requirements) != 2 || rep.Requirements[0] != (index.Requirement{Name: "counter", Constraint: "^1.2"}) || rep.Requirements[1] != (index.Requirement{Name: "guide", Constraint: "~2.0"}) {
		t.Errorf("requirements: %+v", rep.Requirements)
	}
	if !rep.Published.Equal(now) {
		t.Errorf("published %v, want %v", rep.Published, now)
	}

	// Reproducible: the same sources, published again with another key into
	// another registry after touching a file's mtime, give the same bytes.
	os.Chtimes(filepath.Join(wasmDir, "data/stopwords.txt"), now, now)
	again, err := Publish(ctx, t.TempDir(), []string{wasmDir}, PublishOptions{Options: opts(newTestKey(t, "other"))})
	if err != nil {
		t.Fatal(err)
	}
	if a, b := res.Published[0].Artifacts[index.AnyPlatform], again.Published[0].Artifacts[index.AnyPlatform]; a.SHA256 != b.SHA256 || a.Size != b.Size {
		t.Errorf("same sources gave different packages: %+v vs %+v", a, b)
	}

	tests := []struct {
		skill, version, platform string
		url                      string
		files                    []string
		check                    func(t *testing.T, dir string)
	}{
		{"counter", "1.2.0", index.AnyPlatform, "artifacts/counter/1.2.0/counter-1.2.0.tar.gz",
			append(slices.Clone(wantAssets), "counter.wasm"),
			func(t *testing.T, dir string) {
				data, _ := os.ReadFile(filepath.Join(dir, "counter.wasm"))
				if !bytes.HasPrefix(data, []byte("\x00asm")) {
					t.Errorf("counter.wasm is not a fresh wasm module: %q", data[:min(len(data), 8)])
				}
				if st, _ := os.Stat(filepath.Join(dir, "scripts/setup.sh")); st.Mode().Perm()&0o100 == 0 {
					t.Errorf("executable asset lost its mode: %v", st.Mode())
				}
			}},
		{"reporter", "0.3.0", "linux/amd64", "artifacts/reporter/0.3.0/reporter-0.3.0-linux-amd64.tar.gz",
			[]string{"SKILL.md", "reporter"}, elfCheck(elf.EM_X86_64)},
		{"reporter", "0.3.0", "linux/arm64", "artifacts/reporter/0.3.0/reporter-0.3.0-linux-arm64.tar.gz",
			[]string{"SKILL.md", "reporter"}, elfCheck(elf.EM_AARCH64)},
		{"guide", "2.0.1", index.AnyPlatform, "artifacts/guide/2.0.1/guide-2.0.1.tar.gz",
			[]string{"SKILL.md", "examples/one.md"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.skill+"/"+tc.platform, func(t *testing.T) {
			r, err := f.Index.Lookup(tc.skill, tc.version)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Artifacts) != map[bool]int{true: 1, false: 2}[tc.platform == index.AnyPlatform] {
				t.Errorf("artifacts: %v", r.Artifacts)
			}
			a := r.Artifacts[tc.platform]
			if a.URL != tc.url {
				t.Errorf("url %q, want %q", a.URL, tc.url)
			}
			client, _, _ := fetch(t, reg, k.Verifier(), t.TempDir())
			file, err := client.Download(ctx, a, t.TempDir())
			if err != nil {
				t.Fatalf("download (size and sha256 checked): %v", err)
			}
			in, err := os.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			dst := filepath.Join(t.TempDir(), tc.skill)
			os.Mkdir(dst, 0o755)
			if err := archive.Extract(ctx, in, dst, archive.Limits{}); err != nil {
				t.Fatal(err)
			}
			var got []string
			filepath.WalkDir(dst, func(p string, d os.DirEntry, err error) error {
				if !d.IsDir() {
					rel, _ := filepath.Rel(dst, p)
					got = append(got, filepath.ToSlash(rel))
				}
				return nil
			})
			slices.Sort(tc.files)
			if !slices.Equal(got, tc.files) {
				t.Errorf("package files:\n got %q\nwant %q", got, tc.files)
			}
			m, err := manifest.Load(dst)
			if err != nil {
				t.Fatalf("SKILL.md in the package: %v", err)
			}
			if m.Name != tc.skill || m.Version.String() != tc.version || m.Runtime != r.Runtime || len(m.Requires) != len(r.Requirements) {
				t.Errorf("package SKILL.md disagrees with the index: %s %s %s", m.Name, m.Version, m.Runtime)
			}
			if tc.check != nil {
				tc.check(t, dst)
			}
		})
	}
}

func elfCheck(machine elf.Machine) func(t *testing.T, dir string) {
	return func(t *testing.T, dir string) {
		p := filepath.Join(dir, "reporter")
		st, err := os.Stat(p)
		if err != nil || st.Mode().Perm()&0o100 == 0 {
			t.Fatalf("plugin binary missing or not executable: %v %v", st, err)
		}
		f, err := elf.Open(p)
		if err != nil {
			t.Fatalf("plugin binary is not ELF: %v", err)
		}
		defer f.Close()
		if f.Machine != machine {
			t.Errorf("built for %v, want %v", f.Machine, machine)
		}
		if f.Section(".symtab") != nil {
			t.Errorf("plugin binary is not stripped (has .symtab)")
		}
	}
}

func TestPublishImmutableVersions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// Instructions skills: the rules do not depend on the runtime, and no
	// build keeps this test quick.
	src := t.TempDir()
	dir := writeSkill(t, src, skillSpec{name: "counter", version: "1.0.0", runtime: manifest.RuntimeInstructions})
	reg := t.TempDir()
	k := newTestKey(t, "test-registry")
	o := PublishOptions{Options: opts(k)}
	state := t.TempDir() // one client watching every index version
	if _, err := Publish(ctx, reg, []string{dir}, o); err != nil {
		t.Fatal(err)
	}
	first := snapshot(t, reg)

	// The same version again, also with other content: refused, nothing written.
	os.WriteFile(filepath.Join(dir, "extra.md"), []byte("new asset"), 0o644)
	_, err := Publish(ctx, reg, []string{dir}, o)
	if !errors.Is(err, ErrVersionExists) || !strings.Contains(err.Error(), "counter 1.0.0 was published on 2026-09-15") || !strings.Contains(err.Error(), "bump metadata.version") {
		t.Fatalf("re-publish: %v", err)
	}
	if !sameSnapshot(first, snapshot(t, reg)) {
		t.Fatal("a refused publish changed the registry folder")
	}
	skip := o
	skip.SkipExisting = true
	res, err := Publish(ctx, reg, []string{dir}, skip)
	if err != nil || res.Changed || res.Version != 1 || !slices.Equal(res.Skipped, []string{"counter@1.0.0"}) {
		t.Fatalf("skip existing: %+v %v", res, err)
	}
	if !sameSnapshot(first, snapshot(t, reg)) {
		t.Fatal("a skipped publish changed the registry folder")
	}

	// A new version bumps the index version and leaves the old artifact alone.
	versions := []string{"1.0.1", "1.1.0", "2.0.0-rc.1"}
	for i, v := range versions {
		dir := writeSkill(t, filepath.Join(src, v), skillSpec{name: "counter", version: v, runtime: manifest.RuntimeInstructions})
		res, err := Publish(ctx, reg, []string{dir}, o)
		if err != nil {
			t.Fatal(err)
		}
		if res.Previous != int64(i+1) || res.Version != int64(i+2) {
			t.Fatalf("publish %s: index version %d -> %d", v, res.Previous, res.Version)
		}
		if _, f, err := fetch(t, reg, k.Verifier(), state); err != nil || f.Index.Version != int64(i+2) {
			t.Fatalf("client after publishing %s: %v", v, err)
		}
	}
	now := snapshot(t, reg)
	for name, data := range first {
		if strings.HasPrefix(name, "artifacts") && now[name] != data {
			t.Errorf("%s changed after later publishes", name)
		}
	}
	x := readIndex(t, reg)
	if d := x.Skills["counter"].Description; d != "Test skill counter, version 1.1.0." {
		t.Errorf("skill description should be the highest version's: %q", d)
	}
	// Build metadata does not make a new version.
	meta := writeSkill(t, filepath.Join(src, "meta"), skillSpec{name: "counter", version: "1.1.0+build.7", runtime: manifest.RuntimeInstructions})
	if _, err := Publish(ctx, reg, []string{meta}, o); !errors.Is(err, ErrVersionExists) {
		t.Fatalf("1.1.0+build.7 over 1.1.0: %v", err)
	}
}

func TestPublishFailureLeavesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := t.TempDir()
	// good is packaged (its artifact written) before bad fails to compile.
	good := writeSkill(t, src, skillSpec{name: "good", version: "1.0.0", runtime: manifest.RuntimeInstructions})
	bad := writeSkill(t, src, skillSpec{name: "bad", version: "1.0.0", runtime: manifest.RuntimePlugin, mainGo: "package main\n\nfunc main() { undefinedThing() }\n"})
	k := newTestKey(t, "test-registry")

	t.Run("fresh registry", func(t *testing.T) {
		reg := t.TempDir()
		_, err := Publish(ctx, reg, []string{good, bad}, PublishOptions{Options: opts(k)})
		if err == nil || !strings.Contains(err.Error(), "undefined: undefinedThing") {
			t.Fatalf("compile error not reported: %v", err)
		}
		if left := snapshot(t, reg); len(left) != 0 {
			t.Fatalf("a failed publish left files: %v", keys(left))
		}
		if _, err := os.Stat(filepath.Join(reg, ArtifactsDir)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("a failed publish left the artifacts folder: %v", err)
		}
	})
	t.Run("existing registry", func(t *testing.T) {
		reg := t.TempDir()
		guide := writeSkill(t, src, skillSpec{name: "guide", version: "1.0.0", runtime: manifest.RuntimeInstructions})
		if _, err := Publish(ctx, reg, []string{guide}, PublishOptions{Options: opts(k)}); err != nil {
			t.Fatal(err)
		}
		before := snapshot(t, reg)
		if _, err := Publish(ctx, reg, []string{good, bad}, PublishOptions{Options: opts(k)}); err == nil {
			t.Fatal("no error")
		}
		if !sameSnapshot(before, snapshot(t, reg)) {
			t.Fatal("a failed publish changed the registry folder")
		}
	})
	t.Run("invalid manifest", func(t *testing.T) {
		reg := t.TempDir()
		broken := writeSkill(t, src, skillSpec{name: "broken", version: "1.0.0", runtime: manifest.RuntimeInstructions})
		os.WriteFile(filepath.Join(broken, "SKILL.md"), []byte("---\nname: broken\n---\n"), 0o644)
		_, err := Publish(ctx, reg, []string{good, broken}, PublishOptions{Options: opts(k)})
		if err == nil || !strings.Contains(err.Error(), filepath.Join(broken, "SKILL.md")) {
			t.Fatalf("invalid SKILL.md: %v", err)
		}
		if left := snapshot(t, reg); len(left) != 0 {
			t.Fatalf("files left: %v", keys(left))
		}
	})
	t.Run("no version", func(t *testing.T) {
		noVersion := filepath.Join(src, "unversioned")
		os.MkdirAll(noVersion, 0o755)
		os.WriteFile(filepath.Join(noVersion, "SKILL.md"), []byte("---\nname: unversioned\ndescription: No version.\n---\nBody.\n"), 0o644)
		_, err := Publish(ctx, t.TempDir(), []string{noVersion}, PublishOptions{Options: opts(k)})
		if err == nil || !strings.Contains(err.Error(), "metadata.version is required to publish") {
			t.Fatalf("unversioned: %v", err)
		}
	})
	t.Run("same skill twice", func(t *testing.T) {
		_, err := Publish(ctx, t.TempDir(), []string{good, good}, PublishOptions{Options: opts(k)})
		if err == nil || !strings.Contains(err.Error(), "are both skill good") {
			t.Fatalf("duplicate: %v", err)
		}
	})
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestPublishWarnsAboutMissingRequirements(t *testing.T) {
	src := t.TempDir()
	dir := writeSkill(t, src, skillSpec{name: "lonely", version: "1.0.0", runtime: manifest.RuntimeInstructions, requires: []string{"friend ^1.0"}})
	res, err := Publish(context.Background(), t.TempDir(), []string{dir}, PublishOptions{Options: opts(newTestKey(t, "k"))})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "lonely 1.0.0 requires friend ^1.0") {
		t.Fatalf("warnings: %q", res.Warnings)
	}
}

// TestAssetsInstructions checks that an instructions skill keeps what a code
// skill's build would leave out: its scripts are the skill.
func TestAssetsInstructions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pdf-forms")
	files := map[string]string{
		"SKILL.md":             "---\nname: pdf-forms\ndescription: Fills PDF forms.\nmetadata:\n  version: 1.0.0\n---\n# pdf-forms\nUse scripts/fill.go.\n",
		"scripts/fill.go":      "package main\n",
		"scripts/prebuilt":     "\x7fELF....",
		"references/guide.md":  "# guide\n",
		".hidden":              "x",
		"assets/template.wasm": "\x00asm",
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m, err := manifest.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Assets(m)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"SKILL.md", "assets/template.wasm", "references/guide.md", "scripts/fill.go", "scripts/prebuilt"}
	if !slices.Equal(got, want) {
		t.Fatalf("assets:\n got %q\nwant %q", got, want)
	}
}

func TestAssets(t *testing.T) {
	dir := writeSkill(t, t.TempDir(), skillSpec{name: "counter", version: "1.0.0", runtime: manifest.RuntimeWasm, files: noise})
	m, err := manifest.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Assets(m)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, wantAssets) {
		t.Fatalf("assets:\n got %q\nwant %q", got, wantAssets)
	}

	t.Run("symlink", func(t *testing.T) {
		if err := os.Symlink("/etc/passwd", filepath.Join(dir, "data", "link.txt")); err != nil {
			t.Skip(err)
		}
		defer os.Remove(filepath.Join(dir, "data", "link.txt"))
		if _, err := Assets(m); err == nil || !strings.Contains(err.Error(), "data/link.txt is not a regular file") {
			t.Fatalf("symlink asset: %v", err)
		}
	})
	t.Run("PE binary", func(t *testing.T) {
		pe := make([]byte, 128)
		copy(pe, "MZ")
		pe[0x3c] = 0x40
		copy(pe[0x40:], "PE\x00\x00")
		p := filepath.Join(dir, "tool.bin")
		os.WriteFile(p, pe, 0o644)
		defer os.Remove(p)
		got, err := Assets(m)
		if err != nil || slices.Contains(got, "tool.bin") {
			t.Fatalf("a PE binary is a build output: %q %v", got, err)
		}
	})
}

func TestParsePlatform(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"linux/amd64", "linux/amd64", true},
		{"darwin/arm64", "darwin/arm64", true},
		{"linux", "", false},
		{"Linux/AMD64", "", false},
		{"linux/amd64/v3", "", false},
		{"", "", false},
	} {
		p, err := ParsePlatform(tc.in)
		if (err == nil) != tc.ok || (tc.ok && p.String() != tc.want) {
			t.Errorf("ParsePlatform(%q) = %v, %v", tc.in, p, err)
		}
	}
}

func TestArtifactPath(t *testing.T) {
	if got := ArtifactPath("report", "1.0.0", "linux/amd64"); got != "artifacts/report/1.0.0/report-1.0.0-linux-amd64.tar.gz" {
		t.Error(got)
	}
	if got := ArtifactPath("wordcount", "1.2.0-rc.1", index.AnyPlatform); got != "artifacts/wordcount/1.2.0-rc.1/wordcount-1.2.0-rc.1.tar.gz" {
		t.Error(got)
	}
}
