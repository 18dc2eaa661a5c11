package lock

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skillsdev/skills/sdk/manifest"
)

var now = time.Date(2026, 9, 15, 12, 0, 0, 0, time.UTC)

func hex64(c byte) string { return strings.Repeat(string(c), 64) }

func sample() *Lock {
	l := New()
	l.Skills["wordcount"] = &Entry{
		Version: "1.2.0", Runtime: manifest.RuntimeWasm, Platform: "any",
		SHA256: hex64('a'), Size: 100,
		Artifact: &Artifact{Path: "wordcount.wasm", SHA256: hex64('b')},
		Files:    map[string]string{"SKILL.md": hex64('c'), "wordcount.wasm": hex64('b')},
		Registry: "bundled", IndexVersion: 3, Installed: now,
	}
	l.Skills["summarize"] = &Entry{
		Version: "1.0.0", Runtime: manifest.RuntimeWasm, Platform: "any",
		SHA256: hex64('d'), Size: 200,
		Artifact: &Artifact{Path: "summarize.wasm", SHA256: hex64('e')},
		Files:    map[string]string{"SKILL.md": hex64('f'), "summarize.wasm": hex64('e'), "assets/x.txt": hex64('0')},
		Requires: map[string]string{"wordcount": "^1.0"},
		Registry: "bundled", IndexVersion: 3, Installed: now,
		Requested: "^1.0",
		Pinned:    &Pin{Version: "1.0.0", Reason: "hold", Time: now},
	}
	l.Skills["notes"] = &Entry{
		Version: "0.1.0", Runtime: manifest.RuntimeInstructions, Platform: "any",
		SHA256: hex64('1'), Size: 10, Files: map[string]string{"SKILL.md": hex64('2')},
		Registry: "other", IndexVersion: 1, Installed: now, Requested: "*",
	}
	return l
}

func TestRoundTrip(t *testing.T) {
	home := t.TempDir()
	l := sample()
	if err := Save(home, l); err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(filepath.Join(home, FileName))
	got, err := Load(home)
	if err != nil {
		t.Fatal(err)
	}
	if err := Save(home, got); err != nil {
		t.Fatal(err)
	}
	second, _ := os.ReadFile(filepath.Join(home, FileName))
	if !bytes.Equal(first, second) {
		t.Fatalf("not deterministic:\n%s\n---\n%s", first, second)
	}
	if e := got.Skills["summarize"]; e.Pinned == nil || e.Pinned.Reason != "hold" || !e.Pinned.Time.Equal(now) || e.Requires["wordcount"] != "^1.0" {
		t.Fatalf("summarize: %+v", e)
	}
	if !strings.HasSuffix(string(first), "}\n") || !strings.Contains(string(first), `"index_version": 3`) {
		t.Fatalf("format:\n%s", first)
	}
	if got := strings.Join(got.Order(), " "); got != "notes wordcount summarize" {
		t.Fatalf("order %s", got)
	}
	if d := got.Dependents("wordcount"); len(d) != 1 || d[0] != "summarize" {
		t.Fatalf("dependents %v", d)
	}
	// A missing lock is an empty one.
	if l, err := Load(t.TempDir()); err != nil || len(l.Skills) != 0 {
		t.Fatalf("missing lock: %v %v", l, err)
	}
}

func TestParseErrors(t *testing.T) {
	good, err := Encode(sample())
	if err != nil {
		t.Fatal(err)
	}
	lineOf := func(s string) int {
		i := bytes.Index(good, []byte(s))
		if i < 0 {
			t.Fatalf("%q not in lock", s)
		}
		return bytes.Count(good[:i], []byte("\n")) + 1
	}
	replace := func(old, new string) []byte {
		if !bytes.Contains(good, []byte(old)) {
			t.Fatalf("%q not in lock", old)
		}
		return bytes.Replace(good, []byte(old), []byte(new), 1)
	}
	tests := []struct {
		name string
		data []byte
		line int
		want string
	}{
		{"truncated", good[:len(good)/2], 0, "not a valid lock"},
		{"syntax", replace(`"schema": 1,`, `"schema": 1,,`), lineOf(`"schema"`), "invalid character"},
		{"unknown field", replace(`"schema": 1,`, `"schema": 1, "extra": true,`), lineOf(`"schema"`), `unknown field "extra"`},
		{"wrong type", replace(`"size": 100`, `"size": "100"`), lineOf(`"size": 100`), "cannot unmarshal string"},
		{"schema", replace(`"schema": 1`, `"schema": 9`), lineOf(`"schema"`), "unsupported lock schema 9"},
		{"bad version", replace(`"version": "1.2.0"`, `"version": "1.2"`), lineOf(`"wordcount": {`), `skill "wordcount": version "1.2" is not strict semver`},
		{"bad sha", replace(`"sha256": "`+hex64('a'), `"sha256": "`+hex64('A')), lineOf(`"wordcount": {`), "sha256"},
		{"pin differs", replace(`"version": "1.0.0"`+"\n", `"version": "1.0.1"`+"\n"), lineOf(`"summarize": {`), `pinned to "1.0.1" but version is "1.0.0"`},
		{"artifact not in files", replace(`"path": "wordcount.wasm"`, `"path": "other.wasm"`), lineOf(`"wordcount": {`), "artifact"},
		{"bad file path", replace(`"assets/x.txt"`, `"../x.txt"`), lineOf(`"summarize": {`), "clean relative"},
		{"trailing data", append(bytes.Clone(good), "{}"...), lineOf("") + bytes.Count(good, []byte("\n")), "unexpected data"},
		{"bad constraint", replace(`"wordcount": "^1.0"`, `"wordcount": "^^1"`), lineOf(`"summarize": {`), "invalid constraint"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("/home/x/skills.lock", tc.data)
			var le *Error
			if !errors.As(err, &le) {
				t.Fatalf("error %v (%T), want *Error", err, err)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "/home/x/skills.lock:") {
				t.Fatalf("error %q, want it to name the file and contain %q", err, tc.want)
			}
			if tc.line > 0 && le.Line != tc.line {
				t.Fatalf("line %d, want %d (%v)", le.Line, tc.line, err)
			}
		})
	}
}

func TestLoadCorruptKeepsFile(t *testing.T) {
	home := t.TempDir()
	bad := []byte("{\n  \"schema\": 1,\n  \"skills\": {\n    \"x\": 5\n  }\n}\n")
	os.WriteFile(filepath.Join(home, FileName), bad, 0o644)
	_, err := Load(home)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(home, FileName)+":4:") || !strings.Contains(err.Error(), "left as it is") {
		t.Fatalf("error %v", err)
	}
	if data, _ := os.ReadFile(filepath.Join(home, FileName)); !bytes.Equal(data, bad) {
		t.Fatal("lock changed")
	}
}

func TestSaveCleansLeftovers(t *testing.T) {
	home := t.TempDir()
	left := filepath.Join(home, tmpPrefix+"123")
	os.WriteFile(left, []byte("half"), 0o644)
	if err := Save(home, sample()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(left); !os.IsNotExist(err) {
		t.Fatal("leftover temporary file kept")
	}
	if err := Save(home, &Lock{Skills: map[string]*Entry{"x": {Version: "1"}}}); err == nil {
		t.Fatal("invalid entry saved")
	}
}

func TestProcessLock(t *testing.T) {
	home := t.TempDir()
	ctx := context.Background()
	first, err := Acquire(ctx, home, nil)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu     sync.Mutex
		waited []int
		order  []string
	)
	waitedCh := make(chan struct{})
	done := make(chan error)
	go func() {
		h, err := Acquire(ctx, home, func(pid int) {
			mu.Lock()
			waited = append(waited, pid)
			mu.Unlock()
			close(waitedCh)
		})
		if err == nil {
			mu.Lock()
			order = append(order, "second")
			mu.Unlock()
			err = h.Release()
		}
		done <- err
	}()
	<-waitedCh
	mu.Lock()
	order = append(order, "first")
	mu.Unlock()
	if err := first.Release(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(waited) != 1 || waited[0] != os.Getpid() || strings.Join(order, ",") != "first,second" {
		t.Fatalf("waited %v order %v", waited, order)
	}

	// A waiter gives up when its context ends.
	h, _ := Acquire(ctx, home, nil)
	defer h.Release()
	cctx, cancel := context.WithCancel(ctx)
	_, err = Acquire(cctx, home, func(int) { cancel() })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: %v", err)
	}
}
