package registry

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skillsdev/skills/marketplace/sign"
)

func TestConfig(t *testing.T) {
	home := t.TempDir()
	skey, vkey, err := sign.GenerateKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	_, vkey2, _ := sign.GenerateKey("k2")

	if cs, err := List(home); err != nil || len(cs) != 0 {
		t.Fatalf("empty home: %v %v", cs, err)
	}
	good := []Config{
		{Name: "main", URL: "https://skills.example.com/registry", Keys: []string{vkey}, Priority: 10},
		{Name: "local", URL: "some/dir", Keys: []string{vkey, vkey2}},
		{Name: "files", URL: "file:///srv/registry/", Keys: []string{vkey}, Priority: 10},
	}
	for _, c := range good {
		if err := Add(home, c); err != nil {
			t.Fatalf("add %s: %v", c.Name, err)
		}
	}
	cs, err := List(home)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range cs {
		names = append(names, c.Name)
	}
	if strings.Join(names, ",") != "files,main,local" {
		t.Fatalf("order = %v", names)
	}
	local, err := Find(home, "local")
	if err != nil || !filepath.IsAbs(local.URL) {
		t.Fatalf("relative path not made absolute: %+v %v", local, err)
	}

	bad := []struct {
		name string
		c    Config
		want string
	}{
		{"duplicate name", Config{Name: "main", URL: "https://x.example", Keys: []string{vkey}}, "already configured"},
		{"bad name", Config{Name: "Main Registry", URL: "https://x.example", Keys: []string{vkey}}, "invalid name"},
		{"empty url", Config{Name: "a", URL: "", Keys: []string{vkey}}, "no registry URL"},
		{"ftp", Config{Name: "a", URL: "ftp://x.example/r", Keys: []string{vkey}}, `unsupported scheme "ftp"`},
		{"no host", Config{Name: "a", URL: "https:///r", Keys: []string{vkey}}, "no host"},
		{"credentials", Config{Name: "a", URL: "https://user:pw@x.example/r", Keys: []string{vkey}}, "credentials"},
		{"query", Config{Name: "a", URL: "https://x.example/r?token=1", Keys: []string{vkey}}, "without query"},
		{"relative file URL", Config{Name: "a", URL: "file:reg", Keys: []string{vkey}}, "file:///absolute/path"},
		{"no keys", Config{Name: "a", URL: "https://x.example"}, "no verifier keys"},
		{"bad key", Config{Name: "a", URL: "https://x.example", Keys: []string{"nonsense"}}, "not a verifier key"},
		{"secret key", Config{Name: "a", URL: "https://x.example", Keys: []string{skey}}, "secret signer key"},
		{"repeated key", Config{Name: "a", URL: "https://x.example", Keys: []string{vkey, vkey}}, "listed twice"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			err := Add(home, tc.c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "PRIVATE") {
				t.Fatalf("error leaks a secret key: %v", err)
			}
		})
	}

	if err := Remove(home, "main"); err != nil {
		t.Fatal(err)
	}
	if err := Remove(home, "main"); err == nil {
		t.Fatal("removed twice")
	}
	if cs, _ := List(home); len(cs) != 2 {
		t.Fatalf("after remove: %v", cs)
	}
	if _, err := Find(home, "main"); err == nil {
		t.Fatal("found a removed registry")
	}

	if err := os.WriteFile(filepath.Join(home, ConfigFile), []byte(`{"registries": [{"name": "x", "url": "/r", "keys": ["`+vkey+`"], "mirror": true}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := List(home); err == nil || !strings.Contains(err.Error(), `unknown field "mirror"`) {
		t.Fatalf("unknown field: %v", err)
	}
	if err := os.WriteFile(filepath.Join(home, ConfigFile), []byte(`{"registries": [{"name": "x", "url": "/r", "keys": ["`+vkey+`"]}, {"name": "x", "url": "/s", "keys": ["`+vkey+`"]}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := List(home); err == nil || !strings.Contains(err.Error(), "listed twice") {
		t.Fatalf("duplicate in file: %v", err)
	}
}

func TestNewNeedsState(t *testing.T) {
	_, vkey, _ := sign.GenerateKey("k")
	if _, err := New(Config{Name: "a", URL: "/r", Keys: []string{vkey}}, Options{}); err == nil {
		t.Fatal("client without a state folder")
	}
}
