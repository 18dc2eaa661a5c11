package publish

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/skillsdev/skills/marketplace/index"
	"github.com/skillsdev/skills/marketplace/sign"
	"github.com/skillsdev/skills/sdk/manifest"
)

// opsFixture is a published registry of instructions skills (real
// packages, no builds):
//
//	wordcount 1.0.0 1.1.0 2.0.0 2.1.0-rc.1
//	summarize 1.0.0 (requires wordcount ^1.0)
//	lone      1.0.0
type opsFixture struct {
	dir string
	key Key
}

var fixtureVersions = []struct{ name, version string }{
	{"wordcount", "1.0.0"}, {"wordcount", "1.1.0"}, {"wordcount", "2.0.0"}, {"wordcount", "2.1.0-rc.1"},
	{"summarize", "1.0.0"}, {"lone", "1.0.0"},
}

func newOpsFixture(t *testing.T) *opsFixture {
	t.Helper()
	f := &opsFixture{dir: t.TempDir(), key: newTestKey(t, "ops")}
	src := t.TempDir()
	for _, v := range fixtureVersions {
		spec := skillSpec{name: v.name, version: v.version, runtime: manifest.RuntimeInstructions}
		if v.name == "summarize" {
			spec.requires = []string{"wordcount ^1.0"}
		}
		dir := writeSkill(t, filepath.Join(src, v.version), spec)
		if _, err := Publish(context.Background(), f.dir, []string{dir}, PublishOptions{Options: opts(f.key)}); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// clone copies the fixture's registry folder, so that each case starts from
// the same published state.
func (f *opsFixture) clone(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(f.dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(f.dir, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(target)
		if err != nil {
			return err
		}
		defer out.Close()
		_, err = io.Copy(out, in)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func release(t *testing.T, dir, name, version string) *index.Release {
	t.Helper()
	r, err := readIndex(t, dir).Lookup(name, version)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestOperatorCommands(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newOpsFixture(t)
	base := int64(len(fixtureVersions))
	o := opts(fx.key)

	deprecate := func(spec string, d Deprecation) func(string) (*Result, error) {
		return func(dir string) (*Result, error) { return Deprecate(ctx, dir, spec, d, o) }
	}
	yank := func(spec, reason string) func(string) (*Result, error) {
		return func(dir string) (*Result, error) { return Yank(ctx, dir, spec, reason, o) }
	}

	tests := []struct {
		name     string
		setup    []func(string) (*Result, error)
		op       func(string) (*Result, error)
		releases []string
		warning  string
		check    func(t *testing.T, dir string)
	}{
		{
			name:     "deprecate a range with a replacement range and a sunset date",
			op:       deprecate("wordcount@^1", Deprecation{Message: "use wordcount 2", Replacement: "wordcount@^2", Sunset: "2027-01-31"}),
			releases: []string{"wordcount@1.0.0", "wordcount@1.1.0"},
			check: func(t *testing.T, dir string) {
				for _, v := range []string{"1.0.0", "1.1.0"} {
					d := release(t, dir, "wordcount", v).Deprecated
					if d == nil || d.Message != "use wordcount 2" || d.Replacement != "wordcount" || d.ReplacementConstraint != "^2" || d.Sunset != "2027-01-31" || !d.Time.Equal(now) {
						t.Errorf("%s: deprecation %+v", v, d)
					}
					h := release(t, dir, "wordcount", v).History
					if len(h) != 1 || h[0] != (index.Event{Action: index.ActionDeprecated, Time: now, Reason: "use wordcount 2"}) {
						t.Errorf("%s: history %+v", v, h)
					}
				}
				if release(t, dir, "wordcount", "2.0.0").Deprecated != nil {
					t.Error("2.0.0 is outside the range but got deprecated")
				}
			},
		},
		{
			name:     "deprecate every version of a bare name, sunset as RFC 3339",
			op:       deprecate("wordcount", Deprecation{Message: "retired", Replacement: "summarize", Sunset: "2027-01-31T23:30:00-02:00"}),
			releases: []string{"wordcount@1.0.0", "wordcount@1.1.0", "wordcount@2.0.0", "wordcount@2.1.0-rc.1"},
			check: func(t *testing.T, dir string) {
				if d := release(t, dir, "wordcount", "2.1.0-rc.1").Deprecated; d == nil || d.Sunset != "2027-02-01" {
					t.Errorf("sunset should be the UTC date of the time: %+v", d)
				}
			},
		},
		{
			name:     "re-deprecate with a new message",
			setup:    []func(string) (*Result, error){deprecate("lone@1.0.0", Deprecation{Message: "first"})},
			op:       deprecate("lone@1.0.0", Deprecation{Message: "second", Replacement: "summarize"}),
			releases: []string{"lone@1.0.0"},
			check: func(t *testing.T, dir string) {
				r := release(t, dir, "lone", "1.0.0")
				if r.Deprecated.Message != "second" || len(r.History) != 2 || r.History[1].Reason != "second" {
					t.Errorf("re-deprecation: %+v %+v", r.Deprecated, r.History)
				}
			},
		},
		{
			name:  "undeprecate",
			setup: []func(string) (*Result, error){deprecate("wordcount@<2.0.0", Deprecation{Message: "old"})},
			op: func(dir string) (*Result, error) {
				return Undeprecate(ctx, dir, "wordcount", "was a mistake", o)
			},
			releases: []string{"wordcount@1.0.0", "wordcount@1.1.0"},
			check: func(t *testing.T, dir string) {
				r := release(t, dir, "wordcount", "1.1.0")
				if r.Deprecated != nil || len(r.History) != 2 || r.History[1] != (index.Event{Action: index.ActionUndeprecated, Time: now, Reason: "was a mistake"}) {
					t.Errorf("undeprecate: %+v %+v", r.Deprecated, r.History)
				}
			},
		},
		{
			name:     "yank with a reason",
			op:       yank("wordcount@1.1.0", "counts hyphens wrong"),
			releases: []string{"wordcount@1.1.0"},
			check: func(t *testing.T, dir string) {
				r := release(t, dir, "wordcount", "1.1.0")
				if r.Yanked == nil || r.Yanked.Reason != "counts hyphens wrong" || !r.Yanked.Time.Equal(now) || len(r.History) != 1 || r.History[0].Action != index.ActionYanked {
					t.Errorf("yank: %+v %+v", r.Yanked, r.History)
				}
			},
		},
		{
			name:     "yank without a reason",
			op:       yank("wordcount@2.0.0", ""),
			releases: []string{"wordcount@2.0.0"},
			check: func(t *testing.T, dir string) {
				if y := release(t, dir, "wordcount", "2.0.0").Yanked; y == nil || y.Reason != DefaultYankReason {
					t.Errorf("yank: %+v", y)
				}
			},
		},
		{
			name:  "unyank",
			setup: []func(string) (*Result, error){yank("summarize@1.0.0", "broken")},
			op: func(dir string) (*Result, error) {
				return Unyank(ctx, dir, "summarize@1.0.0", "fixed upstream", o)
			},
			releases: []string{"summarize@1.0.0"},
			check: func(t *testing.T, dir string) {
				r := release(t, dir, "summarize", "1.0.0")
				if r.Yanked != nil || len(r.History) != 2 || r.History[1] != (index.Event{Action: index.ActionUnyanked, Time: now, Reason: "fixed upstream"}) {
					t.Errorf("unyank: %+v %+v", r.Yanked, r.History)
				}
			},
		},
		{
			name:     "yanking the last installable version warns",
			op:       yank("lone@1.0.0", "bad"),
			releases: []string{"lone@1.0.0"},
			warning:  "every version of lone is now yanked",
		},
		{
			name:     "a sunset in the past warns",
			op:       deprecate("lone", Deprecation{Message: "gone", Sunset: "2026-01-01"}),
			releases: []string{"lone@1.0.0"},
			warning:  "sunset 2026-01-01 is in the past",
		},
		{
			name:     "a deprecated replacement warns",
			setup:    []func(string) (*Result, error){deprecate("summarize", Deprecation{Message: "old too"})},
			op:       deprecate("lone", Deprecation{Message: "use summarize", Replacement: "summarize"}),
			releases: []string{"lone@1.0.0"},
			warning:  "the replacement summarize is itself deprecated",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := fx.clone(t)
			state := t.TempDir()
			if _, _, err := fetch(t, dir, fx.key.Verifier(), state); err != nil {
				t.Fatal(err)
			}
			want := base
			for _, s := range tc.setup {
				if _, err := s(dir); err != nil {
					t.Fatalf("setup: %v", err)
				}
				want++
			}
			res, err := tc.op(dir)
			if err != nil {
				t.Fatal(err)
			}
			want++
			if !res.Changed || res.Version != want || res.Previous != want-1 || !slices.Equal(res.Releases, tc.releases) {
				t.Errorf("result: changed %v, version %d -> %d (want %d), releases %q (want %q)", res.Changed, res.Previous, res.Version, want, res.Releases, tc.releases)
			}
			if tc.warning != "" && !slices.ContainsFunc(res.Warnings, func(w string) bool { return strings.Contains(w, tc.warning) }) {
				t.Errorf("warnings %q lack %q", res.Warnings, tc.warning)
			}
			if tc.warning == "" && len(res.Warnings) > 0 {
				t.Errorf("unexpected warnings %q", res.Warnings)
			}
			// The client that saw the old version accepts the new one (signed,
			// newer), and nothing was deleted.
			_, f, err := fetch(t, dir, fx.key.Verifier(), state)
			if err != nil {
				t.Fatalf("client refuses the changed index: %v", err)
			}
			if f.Index.Version != want {
				t.Errorf("client sees version %d, want %d", f.Index.Version, want)
			}
			n := 0
			for _, s := range f.Index.Skills {
				n += len(s.Versions)
			}
			if n != len(fixtureVersions) {
				t.Errorf("%d versions in the index, want %d: versions are never deleted", n, len(fixtureVersions))
			}
			if err := VerifyArtifacts(ctx, dir, f.Index); err != nil {
				t.Error(err)
			}
			if tc.check != nil {
				tc.check(t, dir)
			}
		})
	}
}

func TestOperatorCommandErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newOpsFixture(t)
	o := opts(fx.key)
	wrong := opts(newTestKey(t, "intruder"))
	sameName := opts(newTestKey(t, "ops")) // another key with the same name

	dep := func(spec string, d Deprecation, o Options) func(string) error {
		return func(dir string) error { _, err := Deprecate(ctx, dir, spec, d, o); return err }
	}
	undep := func(spec string, o Options) func(string) error {
		return func(dir string) error { _, err := Undeprecate(ctx, dir, spec, "", o); return err }
	}
	yank := func(spec string, o Options) func(string) error {
		return func(dir string) error { _, err := Yank(ctx, dir, spec, "r", o); return err }
	}
	unyank := func(spec string, o Options) func(string) error {
		return func(dir string) error { _, err := Unyank(ctx, dir, spec, "", o); return err }
	}
	ok := Deprecation{Message: "old"}

	tests := []struct {
		name  string
		setup func(string) error
		op    func(string) error
		is    error
		want  string
	}{
		{name: "deprecate without a key", op: dep("lone", ok, Options{Now: clock}), is: ErrNoKey},
		{name: "undeprecate without a key", op: undep("lone", Options{}), is: ErrNoKey},
		{name: "yank without a key", op: yank("lone@1.0.0", Options{}), is: ErrNoKey},
		{name: "unyank without a key", op: unyank("lone@1.0.0", Options{}), is: ErrNoKey},
		{name: "deprecate with the wrong key", op: dep("lone", ok, wrong), is: ErrWrongKey, want: "is signed by ops+"},
		{name: "undeprecate with the wrong key", setup: dep("lone", ok, o), op: undep("lone", wrong), is: ErrWrongKey, want: "--rotate-key"},
		{name: "yank with the wrong key", op: yank("lone@1.0.0", wrong), is: ErrWrongKey, want: "intruder+"},
		{name: "unyank with the wrong key", setup: yank("lone@1.0.0", o), op: unyank("lone@1.0.0", wrong), is: ErrWrongKey},
		{name: "a key with the same name but other bytes", op: yank("lone@1.0.0", sameName), is: ErrWrongKey},
		{name: "replacement not in the registry", op: dep("lone", Deprecation{Message: "m", Replacement: "nosuch"}, o), is: ErrReplacement, want: "nosuch does not exist in this registry (it has lone, summarize, wordcount)"},
		{name: "replacement range matches nothing", op: dep("lone", Deprecation{Message: "m", Replacement: "wordcount@^5"}, o), is: ErrReplacement, want: "wordcount@^5 matches no installable"},
		{name: "replacement is only the deprecated versions", op: dep("wordcount", Deprecation{Message: "m", Replacement: "wordcount"}, o), is: ErrReplacement, want: "outside the ones being deprecated"},
		{name: "replacement only yanked", setup: yank("lone@1.0.0", o), op: dep("summarize", Deprecation{Message: "m", Replacement: "lone"}, o), is: ErrReplacement, want: "no installable (unyanked) version"},
		{name: "replacement not a name", op: dep("lone", Deprecation{Message: "m", Replacement: "Word Count"}, o), is: ErrBadSpec},
		{name: "sunset not a date", op: dep("lone", Deprecation{Message: "m", Sunset: "next week"}, o), is: ErrSunset, want: `"next week": want a date like 2027-01-31`},
		{name: "sunset month 13", op: dep("lone", Deprecation{Message: "m", Sunset: "2027-13-01"}, o), is: ErrSunset},
		{name: "sunset day first", op: dep("lone", Deprecation{Message: "m", Sunset: "31/01/2027"}, o), is: ErrSunset},
		{name: "range matching no version", op: dep("wordcount@^9", ok, o), is: ErrNoMatch, want: "wordcount@^9 matches none of the versions of wordcount (1.0.0, 1.1.0, 2.0.0, 2.1.0-rc.1)"},
		{name: "invalid range", op: dep("wordcount@lots", ok, o), is: ErrBadSpec, want: `invalid version range "lots"`},
		{name: "empty range", op: dep("wordcount@", ok, o), is: ErrBadSpec, want: "nothing after @"},
		{name: "deprecate an unknown skill", op: dep("nosuch@^1", ok, o), is: ErrUnknownSkill, want: `"nosuch": this registry has no such skill`},
		{name: "undeprecate an unknown skill", op: undep("nosuch", o), is: ErrUnknownSkill},
		{name: "yank an unknown skill", op: yank("nosuch@1.0.0", o), is: ErrUnknownSkill},
		{name: "no message", op: dep("lone", Deprecation{Message: "  "}, o), want: "--message) is required"},
		{name: "message too long", op: dep("lone", Deprecation{Message: strings.Repeat("x", 1025)}, o), want: "over the limit of 1024"},
		{name: "yank a range", op: yank("wordcount@^1", o), is: ErrBadSpec, want: "not one exact version"},
		{name: "yank a bare name", op: yank("wordcount", o), is: ErrBadSpec, want: "name one exact version"},
		{name: "yank a missing version", op: yank("wordcount@3.0.0", o), is: ErrNoMatch, want: "wordcount has no version 3.0.0 (it has 1.0.0, 1.1.0, 2.0.0, 2.1.0-rc.1)"},
		{name: "yank twice", setup: yank("lone@1.0.0", o), op: yank("lone@1.0.0", o), is: ErrNoChange, want: "already yanked on 2026-09-15 (r)"},
		{name: "unyank a version not yanked", op: unyank("lone@1.0.0", o), is: ErrNoChange, want: "it is not yanked"},
		{name: "undeprecate nothing deprecated", op: undep("wordcount@^1", o), is: ErrNoChange, want: "versions 1.0.0, 1.1.0 are not deprecated"},
		{name: "deprecate the same way twice", setup: dep("lone", ok, o), op: dep("lone", ok, o), is: ErrNoChange, want: "already deprecated"},
		{name: "no registry", op: func(dir string) error { return yank("lone@1.0.0", o)(filepath.Join(dir, "nope")) }, is: ErrNoRegistry},
		{name: "index edited after signing", setup: func(dir string) error {
			return editIndex(dir, func(s string) string { return strings.Replace(s, "Test skill lone", "Edited skill lone", 1) })
		}, op: yank("lone@1.0.0", o), is: ErrEdited, want: "skills registry sign"},
		{name: "signature damaged", setup: func(dir string) error {
			return os.WriteFile(filepath.Join(dir, SigFile), []byte("garbage\n"), 0o644)
		}, op: yank("lone@1.0.0", o), is: ErrWrongKey, want: "cannot be checked"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := fx.clone(t)
			if tc.setup != nil {
				if err := tc.setup(dir); err != nil {
					t.Fatalf("setup: %v", err)
				}
			}
			before := snapshot(t, dir)
			err := tc.op(dir)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q is not %q", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			if !sameSnapshot(before, snapshot(t, dir)) {
				t.Error("a refused operation changed the registry folder")
			}
		})
	}
}

// editIndex edits index.json in place, as an operator with an editor would.
func editIndex(dir string, edit func(string) string) error {
	p := filepath.Join(dir, IndexFile)
	data, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	return os.WriteFile(p, []byte(edit(string(data))), 0o644)
}

func TestRotateKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newOpsFixture(t)
	dir := fx.clone(t)
	newKey := newTestKey(t, "ops-2027")
	o := opts(newKey)
	o.RotateKey = true
	res, err := Yank(ctx, dir, "lone@1.0.0", "rotating", o)
	if err != nil {
		t.Fatal(err)
	}
	if res.KeyID != newKey.ID() || !slices.ContainsFunc(res.Warnings, func(w string) bool { return strings.Contains(w, "key rotated") }) {
		t.Errorf("rotation result: %+v", res)
	}
	if _, _, err := fetch(t, dir, fx.key.Verifier(), t.TempDir()); !errors.Is(err, sign.ErrUntrusted) {
		t.Errorf("clients trusting only the old key must refuse: %v", err)
	}
	if _, _, err := fetch(t, dir, newKey.Verifier(), t.TempDir()); err != nil {
		t.Errorf("clients trusting the new key: %v", err)
	}
	// The old key is now the wrong one.
	if _, err := Unyank(ctx, dir, "lone@1.0.0", "", opts(fx.key)); !errors.Is(err, ErrWrongKey) {
		t.Errorf("old key after rotation: %v", err)
	}
}

func TestBusy(t *testing.T) {
	fx := newOpsFixture(t)
	dir := fx.clone(t)
	unlock, err := lockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Yank(context.Background(), dir, "lone@1.0.0", "", opts(fx.key))
	unlock()
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("second change while the folder is locked: %v", err)
	}
	if _, err := Yank(context.Background(), dir, "lone@1.0.0", "", opts(fx.key)); err != nil {
		t.Fatalf("after unlock: %v", err)
	}
}

func TestSign(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fx := newOpsFixture(t)
	o := opts(fx.key)
	later := now.Add(48 * time.Hour)

	bump := func(s string) string {
		return strings.Replace(s, `"version": 6`, `"version": 7`, 1)
	}
	describe := func(s string) string {
		return strings.Replace(s, "Test skill lone, version 1.0.0.", "A lone skill, described by hand.", 1)
	}
	tests := []struct {
		name    string
		edit    func(dir string) error
		o       Options
		changed bool
		is      error
		want    string
	}{
		{name: "already signed", o: o, changed: false, want: ""},
		{name: "hand edit with a version bump", edit: func(dir string) error {
			return editIndex(dir, func(s string) string { return bump(describe(s)) })
		}, o: o, changed: true},
		{name: "unsigned index", edit: func(dir string) error { return os.Remove(filepath.Join(dir, SigFile)) }, o: o, changed: true},
		{name: "hand edit without a version bump", edit: func(dir string) error {
			return editIndex(dir, describe)
		}, o: o, want: `changed since version 6 was signed, but its "version" is 6: raise it above 6`},
		{name: "invalid JSON", edit: func(dir string) error {
			return editIndex(dir, func(s string) string { return strings.Replace(s, `"schema": 1,`, `"schema": 1`, 1) })
		}, o: o, want: "line "},
		{name: "invalid index", edit: func(dir string) error {
			return editIndex(dir, func(s string) string {
				return bump(strings.Replace(s, `"runtime": "instructions"`, `"runtime": "python"`, 1))
			})
		}, o: o, want: `unknown runtime "python"`},
		{name: "expired", edit: func(dir string) error {
			return editIndex(dir, func(s string) string {
				x, _ := index.Parse([]byte(s))
				x.Version++
				x.Generated = now.Add(-72 * time.Hour)
				x.Expires = now.Add(-time.Hour)
				raw, _ := index.Encode(x)
				return string(raw)
			})
		}, o: o, want: "which is not in the future"},
		{name: "artifact tampered", edit: func(dir string) error {
			p := filepath.Join(dir, filepath.FromSlash(ArtifactPath("lone", "1.0.0", index.AnyPlatform)))
			data, _ := os.ReadFile(p)
			data[len(data)/2] ^= 1
			os.WriteFile(p, data, 0o644)
			return editIndex(dir, bump)
		}, o: o, is: ErrArtifact, want: "lone 1.0.0 any: artifacts/lone/1.0.0/lone-1.0.0.tar.gz: sha256"},
		{name: "artifact missing", edit: func(dir string) error {
			os.Remove(filepath.Join(dir, filepath.FromSlash(ArtifactPath("wordcount", "2.0.0", index.AnyPlatform))))
			return editIndex(dir, bump)
		}, o: o, is: ErrArtifact, want: "wordcount 2.0.0 any"},
		{name: "wrong key", edit: func(dir string) error { return editIndex(dir, func(s string) string { return bump(describe(s)) }) },
			o: opts(newTestKey(t, "intruder")), is: ErrWrongKey},
		{name: "rotate key", edit: func(dir string) error { return nil },
			o: Options{Key: newTestKey(t, "new"), RotateKey: true, Now: clock}, changed: true},
		{name: "no key", o: Options{Now: clock}, is: ErrNoKey},
		{name: "no index", edit: func(dir string) error { return os.Remove(filepath.Join(dir, IndexFile)) }, o: o, is: ErrNoRegistry},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := fx.clone(t)
			state := t.TempDir()
			if _, _, err := fetch(t, dir, fx.key.Verifier(), state); err != nil {
				t.Fatal(err)
			}
			if tc.edit != nil {
				if err := tc.edit(dir); err != nil {
					t.Fatal(err)
				}
			}
			before := snapshot(t, dir)
			tc.o.Now = func() time.Time { return later }
			res, err := Sign(ctx, dir, tc.o)
			if tc.want != "" || tc.is != nil {
				if err == nil {
					t.Fatal("no error")
				}
				if tc.is != nil && !errors.Is(err, tc.is) {
					t.Errorf("error %q is not %q", err, tc.is)
				}
				if !strings.Contains(err.Error(), tc.want) {
					t.Errorf("error %q does not contain %q", err, tc.want)
				}
				if !sameSnapshot(before, snapshot(t, dir)) {
					t.Error("a refused sign changed the registry folder")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Changed != tc.changed {
				t.Errorf("changed = %v, want %v", res.Changed, tc.changed)
			}
			after := snapshot(t, dir)
			if after[IndexFile] != before[IndexFile] {
				t.Error("sign changed index.json; it must sign it as it is")
			}
			vkey := tc.o.Key.Verifier()
			if tc.o.RotateKey {
				state = t.TempDir()
			}
			if _, f, err := fetch(t, dir, vkey, state); err != nil {
				t.Errorf("client refuses the signed index: %v", err)
			} else if f.Signed.Key() != tc.o.Key.ID() {
				t.Errorf("signed by %s", f.Signed.Key())
			}
		})
	}
}

func TestParseSpecAndSunset(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Spec
		ok   bool
	}{
		{"wordcount", Spec{Name: "wordcount"}, true},
		{"wordcount@^1.2", Spec{Name: "wordcount", Range: "^1.2"}, true},
		{"word-count@>=1.0.0, <2.0.0", Spec{Name: "word-count", Range: ">=1.0.0, <2.0.0"}, true},
		{"wordcount@1.0.0", Spec{Name: "wordcount", Range: "1.0.0"}, true},
		{"WordCount", Spec{}, false},
		{"@1.0.0", Spec{}, false},
		{"wordcount@", Spec{}, false},
		{"wordcount@x.y", Spec{}, false},
	} {
		got, err := ParseSpec(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseSpec(%q) = %+v, %v", tc.in, got, err)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"2027-01-31", "2027-01-31"},
		{"2027-01-31T12:00:00Z", "2027-01-31"},
		{"2027-01-31T23:00:00-05:00", "2027-02-01"},
		{"2027-01-31T01:00:00+02:00", "2027-01-30"},
		{"2027-1-31", ""},
		{"tomorrow", ""},
		{"", ""},
	} {
		got, err := ParseSunset(tc.in)
		if got != tc.want || (err == nil) != (tc.want != "") {
			t.Errorf("ParseSunset(%q) = %q, %v", tc.in, got, err)
		}
	}
}

func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{"wordcount", "wordcount@^1.2", "a@>=1, <2 || 3.x", "x@", "@", "a@1.0.0-rc.1+b", "a@@1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sp, err := ParseSpec(s)
		if err != nil {
			return
		}
		if !index.ValidName(sp.Name) {
			t.Fatalf("accepted an invalid name: %q", sp.Name)
		}
		again, err := ParseSpec(sp.String())
		if err != nil || again != sp {
			t.Fatalf("round trip of %q: %+v, %v", s, again, err)
		}
	})
}

func FuzzParseSunset(f *testing.F) {
	for _, s := range []string{"2027-01-31", "2027-01-31T00:00:00Z", "2027-01-31T23:00:00-05:00", "9999-12-31", "0000-01-01", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseSunset(s)
		if err != nil {
			return
		}
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			t.Fatalf("ParseSunset(%q) = %q, not a date the index accepts", s, d)
		}
	})
}
