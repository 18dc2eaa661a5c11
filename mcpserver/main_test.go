package mcpserver_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skillsdev/skills/host"
	"github.com/skillsdev/skills/marketplace/install"
	"github.com/skillsdev/skills/reload/reloadtest"
)

// What TestMain prepares once for every test: the real CLI, a signed
// registry folder holding wordcount 1.0.0 (built from skills/wordcount: the
// only wasm module of the run) and guide 1.0.0 (an instructions skill with
// scripts/, references/ and assets/), and a home with both installed whose
// compilation cache holds wordcount for this test binary.
var (
	skillsBin string // the skills CLI, built without -race
	regDir    string // the registry folder
	regPub    string // its verifier key file
	unitHome  string // home with wordcount and guide installed, compiled for in-process hosts
	cliCache  string // compilation cache shared by the CLI's homes
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "mcpserver-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	if err := setup(tmp); err != nil {
		fmt.Fprintln(os.Stderr, "mcpserver tests: setup:", err)
		return 1
	}
	return m.Run()
}

func setup(tmp string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	root, err := reloadtest.Root()
	if err != nil {
		return err
	}
	skillsBin = filepath.Join(tmp, "skills")
	build := exec.CommandContext(ctx, "go", "build", "-o", skillsBin, "./cmd/skills")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/skills: %v\n%s", err, out)
	}
	regDir = filepath.Join(tmp, "registry")
	regPub = filepath.Join(tmp, "keys", "test.pub")
	cliCache = filepath.Join(tmp, "cli-cache")
	unitHome = filepath.Join(tmp, "unit-home")
	for _, args := range [][]string{
		{"keygen", "test", "--out", filepath.Join(tmp, "keys")},
		{"publish", filepath.Join(root, "skills", "wordcount"), filepath.Join(root, "mcpserver", "testdata", "guide"),
			"--registry", regDir, "--key", filepath.Join(tmp, "keys", "test.key")},
		{"--home", unitHome, "install", "wordcount", "guide", "--registry", regDir, "--key", regPub},
	} {
		if _, err := cli(ctx, args...); err != nil {
			return err
		}
	}
	installed, err := install.Installed(unitHome, nil)
	if err != nil {
		return err
	}
	for _, s := range installed {
		if s.Name == "wordcount" {
			return reloadtest.Precompile(ctx, root, unitHome, filepath.Join(s.Dir, s.Manifest.Entry))
		}
	}
	return fmt.Errorf("wordcount is not installed in %s", unitHome)
}

// cli runs the CLI and returns its stdout; an exit status other than 0 is
// an error holding stderr.
func cli(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, skillsBin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("skills %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// unitSources returns the skills installed in unitHome as host sources.
func unitSources(t testing.TB) map[string]host.Source {
	t.Helper()
	installed, err := install.Installed(unitHome, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]host.Source{}
	for _, s := range installed {
		out[s.Name] = host.Source{Dir: s.Dir, Manifest: s.Manifest, SHA256: s.ArtifactSHA256, Origin: "test"}
	}
	return out
}

// newHost returns a host whose compilation cache holds wordcount.
func newHost(t *testing.T) *host.Host {
	t.Helper()
	h, err := host.New(context.Background(), host.Options{Home: unitHome, Workspace: t.TempDir(), AllowTools: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	return h
}
