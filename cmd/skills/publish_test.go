package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skillsdev/skills/marketplace/publish"
	"github.com/skillsdev/skills/marketplace/sign"
)

// skillsCLI runs the CLI in-process and returns its exit code and output.
func skillsCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// writeGuide writes an instructions skill folder (no build needed).
func writeGuide(t *testing.T, root, name, version string) string {
	t.Helper()
	dir := filepath.Join(root, name)
	if err := os.MkdirAll(filepath.Join(dir, "examples"), 0o755); err != nil {
		t.Fatal(err)
	}
	md := "---\nname: " + name + "\ndescription: How to write a " + name + ".\nmetadata:\n  version: " + version + "\n---\n# " + name + "\n\nSteps.\n"
	if err := os.WriteFile(filepath.Join(dir, "SKILL.md"), []byte(md), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "examples", "one.md"), []byte("example"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestCLIKeygen(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := skillsCLI(t, "keygen", "ops", "--out", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	vkey := strings.TrimSpace(out)
	if _, err := sign.NewTrust(vkey); err != nil || !strings.HasPrefix(vkey, "ops+") {
		t.Fatalf("stdout is not the verifier key: %q (%v)", out, err)
	}
	for _, tc := range []struct {
		file string
		mode os.FileMode
		want string
	}{
		{"ops.key", 0o600, "PRIVATE+KEY+ops+"},
		{"ops.pub", 0o644, vkey},
	} {
		st, err := os.Stat(filepath.Join(dir, tc.file))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != tc.mode {
			t.Errorf("%s: mode %04o, want %04o", tc.file, st.Mode().Perm(), tc.mode)
		}
		data, _ := os.ReadFile(filepath.Join(dir, tc.file))
		if !strings.HasPrefix(string(data), tc.want) {
			t.Errorf("%s: %q", tc.file, data)
		}
	}
	if code, _, errOut := skillsCLI(t, "keygen", "ops", "--out", dir); code != 1 || !strings.Contains(errOut, "exists") {
		t.Errorf("overwriting a key: exit %d, %s", code, errOut)
	}
	if code, _, _ := skillsCLI(t, "keygen"); code != 2 {
		t.Errorf("keygen without a name: exit %d, want 2", code)
	}
	t.Run("default folder", func(t *testing.T) {
		wd := t.TempDir()
		t.Chdir(wd)
		if code, _, errOut := skillsCLI(t, "keygen", "here"); code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if st, err := os.Stat(filepath.Join(wd, "here.key")); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("here.key in the current folder: %v %v", st, err)
		}
	})
}

func TestCLIPublishAndOperate(t *testing.T) {
	root := t.TempDir()
	keys := filepath.Join(root, "keys")
	if code, _, errOut := skillsCLI(t, "keygen", "ops", "--out", keys); code != 0 {
		t.Fatal(errOut)
	}
	if code, _, errOut := skillsCLI(t, "keygen", "other", "--out", keys); code != 0 {
		t.Fatal(errOut)
	}
	key, other := filepath.Join(keys, "ops.key"), filepath.Join(keys, "other.key")
	reg := filepath.Join(root, "registry")
	guide := writeGuide(t, filepath.Join(root, "src"), "guide", "1.0.0")
	guide2 := writeGuide(t, filepath.Join(root, "src2"), "guide", "2.0.0")

	steps := []struct {
		name   string
		args   []string
		code   int
		stdout string // substring of stdout
		stderr string // substring of stderr
	}{
		{"publish", []string{"publish", guide, "--registry", reg, "--key", key}, 0, "published guide 1.0.0 (instructions)", "publish: [1/2] package guide 1.0.0"},
		{"index version", nil, 0, "", ""},
		{"publish again", []string{"publish", guide, "--registry", reg, "--key", key}, 1, "", "version already published: guide 1.0.0 was published on"},
		{"skip existing", []string{"publish", guide, "--registry", reg, "--key", key, "--skip-existing"}, 0, "skipped guide@1.0.0: already published", ""},
		{"publish 2.0.0", []string{"publish", guide2, "--registry", reg, "--key", key, "--expires", "2h"}, 0, "index version 1 -> 2", ""},
		{"deprecate", []string{"deprecate", "guide@^1", "--message", "use 2", "--replacement", "guide@^2", "--sunset", "2099-01-01", "--registry", reg, "--key", key}, 0, "deprecated guide@1.0.0, replacement guide@^2, sunset 2099-01-01", ""},
		{"deprecate with a missing replacement", []string{"deprecate", "guide@^1", "--message", "m", "--replacement", "nosuch", "--registry", reg, "--key", key}, 1, "", "nosuch does not exist in this registry"},
		{"deprecate with a bad sunset", []string{"deprecate", "guide@^1", "--message", "m", "--sunset", "someday", "--registry", reg, "--key", key}, 1, "", `bad sunset date "someday"`},
		{"deprecate without a message", []string{"deprecate", "guide@^1", "--registry", reg, "--key", key}, 2, "", "--message is required"},
		{"undeprecate", []string{"undeprecate", "guide@^1", "--reason", "changed our mind", "--registry", reg, "--key", key}, 0, "undeprecated guide@1.0.0", ""},
		{"yank", []string{"yank", "guide@1.0.0", "--reason", "typo", "--registry", reg, "--key", key}, 0, "yanked guide@1.0.0", ""},
		{"yank with the wrong key", []string{"yank", "guide@2.0.0", "--registry", reg, "--key", other}, 1, "", "the registry is signed by another key"},
		{"yank without a key", []string{"yank", "guide@2.0.0", "--registry", reg}, 2, "", "--key FILE is required"},
		{"yank without a registry", []string{"yank", "guide@2.0.0", "--key", key}, 2, "", "--registry DIR is required"},
		{"yank an unknown skill", []string{"yank", "nosuch@1.0.0", "--registry", reg, "--key", key}, 1, "", `unknown skill "nosuch"`},
		{"unyank", []string{"unyank", "guide@1.0.0", "--registry", reg, "--key", key}, 0, "unyanked guide@1.0.0", ""},
		{"bad platform", []string{"publish", guide, "--registry", reg, "--key", key, "--platform", "linux"}, 2, "", "want GOOS/GOARCH"},
		{"registry sign, nothing to do", []string{"registry", "sign", reg, "--key", key}, 0, "", "already signed"},
		{"rotate the key", []string{"registry", "sign", reg, "--key", other, "--rotate-key"}, 0, "signed " + filepath.Join(reg, "index.json") + ": index version 6", "key rotated"},
		{"the old key is now refused", []string{"yank", "guide@2.0.0", "--registry", reg, "--key", key}, 1, "", "is signed by other+"},
	}
	for _, s := range steps {
		if s.args == nil {
			var x struct{ Version int }
			data, _ := os.ReadFile(filepath.Join(reg, "index.json"))
			if err := json.Unmarshal(data, &x); err != nil || x.Version != 1 {
				t.Fatalf("index version after the first publish: %d %v", x.Version, err)
			}
			continue
		}
		code, out, errOut := skillsCLI(t, s.args...)
		if code != s.code || !strings.Contains(out, s.stdout) || !strings.Contains(errOut, s.stderr) {
			t.Fatalf("%s: exit %d (want %d)\nstdout: %s\nstderr: %s\nwant stdout %q, stderr %q", s.name, code, s.code, out, errOut, s.stdout, s.stderr)
		}
	}
}

func TestCLIRegistryConfig(t *testing.T) {
	root := t.TempDir()
	home := filepath.Join(root, "home")
	keys := filepath.Join(root, "keys")
	code, vkey, errOut := skillsCLI(t, "keygen", "team", "--out", keys)
	if code != 0 {
		t.Fatal(errOut)
	}
	vkey = strings.TrimSpace(vkey)
	skillsCLI(t, "keygen", "stranger", "--out", keys)
	reg := filepath.Join(root, "registry")
	if code, _, errOut := skillsCLI(t, "publish", writeGuide(t, root, "guide", "1.0.0"), "--registry", reg, "--key", filepath.Join(keys, "team.key")); code != 0 {
		t.Fatal(errOut)
	}

	steps := []struct {
		name         string
		args         []string
		code         int
		stdout, errs string
	}{
		{"list empty", []string{"registry", "list"}, 0, "no registries configured", ""},
		{"add with a .pub file", []string{"registry", "add", "team", reg, "--key", filepath.Join(keys, "team.pub"), "--priority", "10"}, 0, "added registry team", "verified"},
		{"add with a key string", []string{"registry", "add", "mirror", "file://" + reg, "--key", vkey}, 0, "added registry mirror", ""},
		{"add a name twice", []string{"registry", "add", "team", reg, "--key", vkey}, 1, "", "already configured"},
		{"add with the wrong key", []string{"registry", "add", "bad", reg, "--key", filepath.Join(keys, "stranger.pub")}, 1, "", "untrusted key"},
		{"add with a secret key", []string{"registry", "add", "bad", reg, "--key", filepath.Join(keys, "team.key")}, 1, "", "secret signer key"},
		{"add with a missing key file", []string{"registry", "add", "bad", reg, "--key", filepath.Join(keys, "nope.pub")}, 1, "", "nope.pub"},
		{"add an unreachable registry", []string{"registry", "add", "gone", filepath.Join(root, "nothing"), "--key", vkey}, 1, "", "--no-verify"},
		{"add it anyway", []string{"registry", "add", "gone", filepath.Join(root, "nothing"), "--key", vkey, "--no-verify"}, 0, "added registry gone", ""},
		{"add without a key", []string{"registry", "add", "bad", reg}, 2, "", "--key is required"},
		{"list", []string{"registry", "list"}, 0, "team", ""},
		{"remove", []string{"registry", "remove", "mirror"}, 0, "removed registry mirror", ""},
		{"remove again", []string{"registry", "remove", "mirror"}, 1, "", "not configured"},
	}
	for _, s := range steps {
		code, out, errOut := skillsCLI(t, append([]string{"--home", home}, s.args...)...)
		if code != s.code || !strings.Contains(out, s.stdout) || !strings.Contains(errOut, s.errs) {
			t.Fatalf("%s: exit %d (want %d)\nstdout: %s\nstderr: %s", s.name, code, s.code, out, errOut)
		}
	}
	code, out, _ := skillsCLI(t, "--home", home, "registry", "list", "--json")
	var got struct {
		Registries []struct {
			Name     string   `json:"name"`
			URL      string   `json:"url"`
			Keys     []string `json:"keys"`
			Priority int      `json:"priority"`
		} `json:"registries"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil {
		t.Fatalf("list --json: exit %d, %s", code, out)
	}
	if len(got.Registries) != 2 || got.Registries[0].Name != "team" || got.Registries[0].Priority != 10 || got.Registries[0].Keys[0] != vkey || got.Registries[1].Name != "gone" {
		t.Fatalf("list --json: %+v", got)
	}
}

func TestBuildBarOnTerminal(t *testing.T) {
	var buf bytes.Buffer
	// What newBuildBar makes for a terminal, without the redraw ticker.
	b := &buildBar{w: &buf, tty: true, stop: make(chan struct{})}
	b.update(publish.Progress{Done: 1, Total: 4, Doing: "build report 1.0.0 linux/amd64"})
	b.update(publish.Progress{Done: 4, Total: 4})
	b.close()
	out := buf.String()
	for _, want := range []string{"\r[======                  ] 1/4 build report 1.0.0 linux/amd64 (0s)", "\r[========================] 4/4 ", "\r" + strings.Repeat(" ", 10)} {
		if !strings.Contains(out, want) {
			t.Errorf("bar output %q lacks %q", out, want)
		}
	}
	if strings.Contains(out, "\n") {
		t.Errorf("a terminal bar redraws in place; got a newline: %q", out)
	}
}
