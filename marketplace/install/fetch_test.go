package install

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/skillsdev/skills/marketplace/index"
	"github.com/skillsdev/skills/marketplace/markettest"
	"github.com/skillsdev/skills/marketplace/registry"
)

// pipelineEnv publishes "top", which requires n skills of varied sizes (so
// that reused download buffers are sometimes too small), and returns the
// env and those skills.
func pipelineEnv(t *testing.T, n int) (*env, []markettest.Skill) {
	t.Helper()
	e := newEnv(t)
	var skills []markettest.Skill
	var reqs []index.Requirement
	sizes := []int{1 << 10, 300 << 10, 20 << 10, 120 << 10}
	for i := range n {
		s := markettest.Skill{Name: fmt.Sprintf("p%02d", i), Version: "1.0.0", ArtifactSize: sizes[i%len(sizes)]}
		e.reg.Add(t, s)
		skills = append(skills, s)
		reqs = append(reqs, req(s.Name, "^1.0"))
	}
	e.reg.Add(t, markettest.Skill{Name: "top", Version: "1.0.0", Requires: reqs})
	e.reg.Publish(t)
	return e, skills
}

func (e *env) managerJobs(jobs int) (*Manager, *[]Event) {
	e.t.Helper()
	var mu sync.Mutex
	var events []Event
	m, err := New(Options{Home: e.home, Registries: []*registry.Registry{e.registry()}, Now: clock, Jobs: jobs,
		Events: func(ev Event) {
			mu.Lock()
			events = append(events, ev)
			mu.Unlock()
		}})
	if err != nil {
		e.t.Fatal(err)
	}
	return m, &events
}

// TestPipeline installs many packages with one and four downloads and
// unpacks at a time and checks every entry and lock record.
func TestPipeline(t *testing.T) {
	for _, jobs := range []int{1, 4} {
		t.Run(fmt.Sprint("jobs=", jobs), func(t *testing.T) {
			e, skills := pipelineEnv(t, 12)
			m, events := e.managerJobs(jobs)
			if _, err := m.Install(context.Background(), wants(t, "top"), Flags{}); err != nil {
				t.Fatal(err)
			}
			unpacked := 0
			for _, ev := range *events {
				if ev.Kind == EventUnpacked {
					unpacked++
				}
			}
			if unpacked != len(skills)+1 {
				t.Errorf("%d unpacked events, want %d", unpacked, len(skills)+1)
			}
			l := e.lock()
			for _, s := range skills {
				le := l.Skills[s.Name]
				if le == nil || le.Artifact == nil || le.Artifact.SHA256 != markettest.SHA256(markettest.Artifact(s)) ||
					le.Files[s.Name+".wasm"] != le.Artifact.SHA256 || len(le.Files) != 2 {
					t.Fatalf("%s: lock entry %+v", s.Name, le)
				}
			}
			if probs, n, err := Verify(e.home); err != nil || len(probs) != 0 || n != len(skills)+1 {
				t.Fatalf("verify: %v %d %v", probs, n, err)
			}
			if got := e.storeNames(); len(got) != len(skills)+1 {
				t.Fatalf("store holds %v", got)
			}
		})
	}
}

// TestPipelineFailure makes one package of many fail, in the download
// stage or in the unpack stage, and checks that the home is unchanged.
func TestPipelineFailure(t *testing.T) {
	tests := []struct {
		name  string
		spoil func(t *testing.T, e *env, s markettest.Skill)
		want  string
	}{
		{name: "download", spoil: func(t *testing.T, e *env, s markettest.Skill) {
			p := filepath.Join(e.reg.Dir, "artifacts", s.Name+"-1.0.0.tar.gz")
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			data[len(data)/2] ^= 1
			os.WriteFile(p, data, 0o644)
		}, want: "artifact sha256 mismatch"},
		{name: "unpack", spoil: func(t *testing.T, e *env, s markettest.Skill) {
			s.SkillMD = markettest.SkillMD(markettest.Skill{Name: s.Name, Version: "9.9.9"})
			e.reg.Add(t, s)
			e.reg.Publish(t)
		}, want: "version is 9.9.9 in SKILL.md, 1.0.0 in the index"},
	}
	for _, tc := range tests {
		for _, jobs := range []int{1, 4} {
			t.Run(fmt.Sprintf("%s/jobs=%d", tc.name, jobs), func(t *testing.T) {
				e, skills := pipelineEnv(t, 12)
				e.mustInstall("notes")
				tc.spoil(t, e, skills[7])
				before := e.snapshot()
				m, _ := e.managerJobs(jobs)
				_, err := m.Install(context.Background(), wants(t, "top"), Flags{})
				mustContain(t, err, "p07", tc.want)
				e.unchanged(before)
				for _, n := range e.storeNames() {
					if strings.HasPrefix(n, ".") {
						t.Errorf("leftover %s in the store", n)
					}
				}
				if probs, _, err := Verify(e.home); err != nil || len(probs) != 0 {
					t.Fatalf("verify: %v %v", probs, err)
				}
			})
		}
	}
}
