package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/skillsdev/skills/marketplace/index"
	"github.com/skillsdev/skills/marketplace/lock"
	"github.com/skillsdev/skills/marketplace/markettest"
	"github.com/skillsdev/skills/marketplace/registry"
)

// TestCLIInstallBundled installs from the registry built into the binary,
// from a folder that has nothing to do with the repository.
func TestCLIInstallBundled(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	t.Chdir(t.TempDir())

	code, out, errOut := skillsCLI(t, "--home", home, "install", "summarize", "--dry-run", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var plan map[string][]map[string]any
	if err := json.Unmarshal([]byte(out), &plan); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if len(plan) != 1 || len(plan["install"]) != 2 {
		t.Fatalf("dry run printed %s", out)
	}
	for i, want := range []string{"wordcount", "summarize"} {
		step := plan["install"][i]
		keys := make([]string, 0, len(step))
		for k := range step {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if step["name"] != want || step["runtime"] != "wasm" || len(step["sha256"].(string)) != 64 ||
			!reflect.DeepEqual(keys, []string{"name", "runtime", "sha256", "version"}) {
			t.Fatalf("step %d: %v", i, step)
		}
	}
	if _, err := os.Stat(filepath.Join(home, "skills.lock")); !os.IsNotExist(err) {
		t.Fatal("the dry run wrote a lock")
	}
	if _, err := os.Stat(filepath.Join(home, "store")); !os.IsNotExist(err) {
		t.Fatal("the dry run created the store")
	}

	code, out, errOut = skillsCLI(t, "--home", home, "install", "summarize")
	if code != 0 || out != "install wordcount 1.0.0\ninstall summarize 1.0.0\n" {
		t.Fatalf("exit %d:\n%s\n%s", code, out, errOut)
	}
	// stderr is not a terminal here: plain progress lines.
	if !strings.Contains(errOut, "downloading 2 package(s)") || !strings.Contains(errOut, "unpacked summarize 1.0.0") || strings.Contains(errOut, "\r") {
		t.Fatalf("progress:\n%q", errOut)
	}

	// What `skills run summarize` loads: the whole installed set from the
	// store, with the artifact digests of the lock.
	a := &app{home: home, stderr: &strings.Builder{}}
	srcs, name, err := runSources(context.Background(), a, "summarize")
	if err != nil || name != "summarize" || len(srcs) != 2 {
		t.Fatalf("run sources: %v %q %d", err, name, len(srcs))
	}
	l, _ := lock.Load(home)
	for _, s := range srcs {
		e := l.Skills[s.Manifest.Name]
		if s.SHA256 != e.Artifact.SHA256 || s.Dir != filepath.Join(home, "store", e.SHA256) || s.Origin != "bundled 1.0.0" {
			t.Errorf("source %+v", s)
		}
	}
	if _, _, err := runSources(context.Background(), a, "report"); err == nil || !strings.Contains(err.Error(), "installed: wordcount, summarize") {
		t.Fatalf("run of a skill not installed: %v", err)
	}
	if raceEnabled {
		return // compiling two wasm modules under -race takes minutes
	}
	code, out, _ = skillsCLI(t, "--home", home, "run", "summarize", "--input", `{"text":"One cat. Two dogs. Three cats and cats.","sentences":1}`)
	if code != 0 || !strings.Contains(out, `"summary": "Three cats and cats."`) {
		t.Fatalf("run installed summarize: exit %d\n%s", code, out)
	}
}

// cliEnv is a home plus a real registry on 127.0.0.1.
type cliEnv struct {
	t    *testing.T
	home string
	reg  *markettest.Registry
	srv  *markettest.Server
	pub  string // the registry's verifier key file
}

func newCLIEnv(t *testing.T) *cliEnv {
	e := &cliEnv{t: t, home: filepath.Join(t.TempDir(), "home"), reg: markettest.New(t, time.Now())}
	for _, s := range []markettest.Skill{
		{Name: "wordcount", Version: "1.0.0", Description: "Counts words."},
		{Name: "wordcount", Version: "1.1.0", Description: "Counts words."},
		{Name: "summarize", Version: "1.0.0", Description: "Summarizes text.", Requires: []index.Requirement{{Name: "wordcount", Constraint: "^1.0"}}},
		{Name: "guide", Version: "0.1.0", Runtime: "instructions", Description: "How to write a guide."},
	} {
		e.reg.Add(t, s)
	}
	e.reg.Publish(t)
	e.srv = e.reg.Serve(t)
	e.pub = filepath.Join(t.TempDir(), "test.pub")
	if err := os.WriteFile(e.pub, []byte(e.reg.VKey+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return e
}

// cli runs the CLI against e's home and registry.
func (e *cliEnv) cli(args ...string) (int, string, string) {
	e.t.Helper()
	return skillsCLI(e.t, append([]string{"--home", e.home}, args...)...)
}

func (e *cliEnv) reg1(args ...string) []string {
	return append(args, "--registry", e.srv.URL, "--key", e.pub)
}

func (e *cliEnv) lockBytes() []byte {
	data, _ := os.ReadFile(filepath.Join(e.home, lock.FileName))
	return data
}

func TestCLIMarketplace(t *testing.T) {
	e := newCLIEnv(t)
	expect := func(code int, args ...string) (string, string) {
		t.Helper()
		got, out, errOut := e.cli(args...)
		if got != code {
			t.Fatalf("skills %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), got, code, out, errOut)
		}
		return out, errOut
	}

	// A URL without a key is refused, naming where keys come from.
	_, errOut := expect(2, "install", "summarize", "--registry", e.srv.URL)
	if !strings.Contains(errOut, "no key to verify its index") || !strings.Contains(errOut, "trust") {
		t.Fatal(errOut)
	}
	// A bad spec is a usage error.
	expect(2, e.reg1("install", "Summarize@^1")...)

	out, _ := expect(0, e.reg1("search", "words")...)
	if !strings.Contains(out, "wordcount") || strings.Contains(out, "guide") {
		t.Fatalf("search:\n%s", out)
	}
	out, _ = expect(0, e.reg1("install", "summarize", "guide")...)
	if out != "install guide 0.1.0\ninstall wordcount 1.1.0\ninstall summarize 1.0.0\n" {
		t.Fatalf("install:\n%s", out)
	}

	// Pins: a version that does not exist, then a real pin.
	before := e.lockBytes()
	_, errOut = expect(1, e.reg1("pin", "wordcount@3.0.0")...)
	if !strings.Contains(errOut, "available: 1.0.0, 1.1.0") {
		t.Fatal(errOut)
	}
	_, errOut = expect(1, "unpin", "wordcount")
	if !strings.Contains(errOut, "unpin wordcount: not pinned") {
		t.Fatal(errOut)
	}
	if string(before) != string(e.lockBytes()) {
		t.Fatal("a failed command changed the lock")
	}
	out, _ = expect(0, e.reg1("pin", "wordcount@1.0.0", "--reason", "1.1 miscounts")...)
	if out != "downgrade wordcount 1.1.0 -> 1.0.0\npinned wordcount at 1.0.0\n" {
		t.Fatalf("pin:\n%s", out)
	}
	out, _ = expect(0, "list")
	if !strings.Contains(out, "1.0.0 since") || !strings.Contains(out, "1.1 miscounts") {
		t.Fatalf("list:\n%s", out)
	}
	out, _ = expect(0, "list", "--json")
	var list struct {
		Skills []struct {
			Name   string `json:"name"`
			Pinned *struct {
				Version, Reason string
			} `json:"pinned"`
		} `json:"skills"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list.Skills) != 3 || list.Skills[2].Pinned == nil || list.Skills[2].Pinned.Reason != "1.1 miscounts" {
		t.Fatalf("list --json: %v\n%s", err, out)
	}
	out, _ = expect(0, e.reg1("outdated")...)
	if !strings.Contains(out, "wordcount  1.0.0    1.0.0   1.1.0   pinned (1.1 miscounts)") {
		t.Fatalf("outdated:\n%s", out)
	}
	out, _ = expect(0, e.reg1("upgrade")...)
	if !strings.Contains(out, "nothing to do") {
		t.Fatalf("upgrade with a pin:\n%s", out)
	}
	out, _ = expect(0, "unpin", "wordcount")
	if !strings.HasPrefix(out, "unpinned wordcount (was pinned at 1.0.0 since ") {
		t.Fatal(out)
	}
	out, _ = expect(0, e.reg1("upgrade", "--dry-run", "--json")...)
	if !strings.Contains(out, `"version": "1.1.0"`) {
		t.Fatalf("upgrade dry run:\n%s", out)
	}

	out, _ = expect(0, e.reg1("info", "wordcount", "--json")...)
	var info struct {
		Installed struct{ Version string } `json:"installed"`
		Versions  []struct{ Version string }
	}
	if err := json.Unmarshal([]byte(out), &info); err != nil || info.Installed.Version != "1.0.0" || len(info.Versions) != 2 || info.Versions[0].Version != "1.1.0" {
		t.Fatalf("info: %v\n%s", err, out)
	}

	// Uninstall refuses while summarize needs wordcount.
	_, errOut = expect(1, "uninstall", "wordcount")
	if !strings.Contains(errOut, "required by summarize") {
		t.Fatal(errOut)
	}
	out, _ = expect(0, "verify")
	if !strings.Contains(out, "verified 3 skill(s)") {
		t.Fatal(out)
	}
	// Tamper with a file: verify names it and exits 1.
	l, err := lock.Load(e.home)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(e.home, "store", l.Skills["summarize"].SHA256)
	os.Chmod(dir, 0o755)
	os.Chmod(filepath.Join(dir, "summarize.wasm"), 0o644)
	os.WriteFile(filepath.Join(dir, "summarize.wasm"), []byte("evil"), 0o644)
	out, errOut = expect(1, "verify")
	if !strings.Contains(out, "summarize 1.0.0: "+filepath.Join(dir, "summarize.wasm")+" modified") || !strings.Contains(errOut, "install --frozen") {
		t.Fatalf("verify:\n%s\n%s", out, errOut)
	}
	// --frozen restores it without touching the lock.
	before = e.lockBytes()
	out, _ = expect(0, e.reg1("install", "--frozen")...)
	if out != "fetch summarize 1.0.0 (store entry restored)\n" || string(before) != string(e.lockBytes()) {
		t.Fatalf("frozen:\n%s", out)
	}
	expect(0, "verify")
	out, _ = expect(0, "uninstall", "wordcount", "--with-dependents")
	if out != "removed summarize 1.0.0\nremoved wordcount 1.0.0\n" {
		t.Fatalf("uninstall:\n%s", out)
	}
}

// TestCLIRegistries checks which registries a command reads: configured
// ones before the bundled one, a name owned by the highest-priority
// registry that has it, and --registry NAME|URL|DIR alone.
func TestCLIRegistries(t *testing.T) {
	e := newCLIEnv(t)
	if err := registry.Add(e.home, registry.Config{Name: "team", URL: e.srv.URL, Keys: []string{e.reg.VKey}, Priority: 5}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := e.cli("install", "summarize")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	l, err := lock.Load(e.home)
	if err != nil {
		t.Fatal(err)
	}
	if l.Skills["summarize"].Registry != "team" || l.Skills["wordcount"].Registry != "team" || l.Skills["wordcount"].Version != "1.1.0" {
		t.Fatalf("installed from %s and %s", l.Skills["summarize"].Registry, l.Skills["wordcount"].Registry)
	}
	code, out, _ = e.cli("info", "report")
	if code != 0 || !strings.HasPrefix(out, "report (registry bundled)") {
		t.Fatalf("info report: %d\n%s", code, out)
	}
	code, out, _ = e.cli("search", "summarize", "--registry", "bundled")
	if code != 0 || !strings.Contains(out, "summarize  1.0.0   bundled") {
		t.Fatalf("search --registry bundled: %d\n%s", code, out)
	}
	code, out, _ = e.cli("search", "guide", "--registry", "team")
	if code != 0 || !strings.Contains(out, "guide") {
		t.Fatalf("search --registry team: %d\n%s", code, out)
	}
	// A folder: trusted through $SKILLS_HOME/trust/.
	code, _, errOut = e.cli("search", "guide", "--registry", e.reg.Dir)
	if code != 2 || !strings.Contains(errOut, "no key to verify its index") {
		t.Fatalf("folder without a key: %d %s", code, errOut)
	}
	os.MkdirAll(filepath.Join(e.home, "trust"), 0o755)
	os.WriteFile(filepath.Join(e.home, "trust", "test.pub"), []byte(e.reg.VKey+"\n"), 0o644)
	code, out, errOut = e.cli("install", "guide", "--registry", e.reg.Dir)
	if code != 0 || out != "install guide 0.1.0\n" {
		t.Fatalf("install from a folder: %d\n%s\n%s", code, out, errOut)
	}
	l, _ = lock.Load(e.home)
	if r := l.Skills["guide"].Registry; !strings.HasPrefix(r, "dir-") {
		t.Fatalf("guide registry %q", r)
	}
	code, _, errOut = e.cli("search", "x", "--registry", "nowhere")
	if code != 2 || !strings.Contains(errOut, "not a configured registry (bundled, team), a URL, or a folder") {
		t.Fatalf("unknown registry: %d %s", code, errOut)
	}
	// A corrupt lock stops everything and is left alone.
	bad := []byte("{\n  \"schema\": 1,\n  \"skills\": {\n    \"x\": 1\n  }\n}\n")
	os.WriteFile(filepath.Join(e.home, lock.FileName), bad, 0o644)
	code, _, errOut = e.cli("install", "guide")
	if code != 1 || !strings.Contains(errOut, filepath.Join(e.home, lock.FileName)+":4:") {
		t.Fatalf("corrupt lock: %d %s", code, errOut)
	}
	if got, _ := os.ReadFile(filepath.Join(e.home, lock.FileName)); string(got) != string(bad) {
		t.Fatal("the corrupt lock was overwritten")
	}
}
