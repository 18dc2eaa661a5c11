//go:build unix

package plugin

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/skillsdev/skills/host/engine"
	"github.com/skillsdev/skills/sdk/wire/pluginpb"
)

// payload is 1 KiB of JSON: a string of 1022 letters in quotes.
var payload = []byte(`"` + strings.Repeat("a", 1022) + `"`)

// BenchmarkBareUnary is the floor: a unary gRPC call with a 1 KiB payload
// over a go-plugin connection to a plugin that serves the Skill service with
// no SDK (testdata/bare), through the generated client, with no engine.
func BenchmarkBareUnary(b *testing.B) {
	ctx := context.Background()
	p, err := startProcess(ctx, procConfig{name: "bare", path: guests["bare"], logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	defer p.stop()
	req := &pluginpb.CallRequest{CallId: 1, Input: payload}
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		resp, err := p.skill.Call(ctx, req)
		if err != nil || len(resp.GetOutput()) != len(payload) {
			b.Fatal(resp, err)
		}
	}
}

// BenchmarkSkillCall is an engine call to the echo skill (SDK guest), 1 KiB
// in and out. Target: <= 1.2x BenchmarkBareUnary.
func BenchmarkSkillCall(b *testing.B) {
	e := newEngine(b)
	s := load(b, e, "echo", nil)
	ctx := context.Background()
	if err := s.Warm(ctx); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		out, err := s.Call(ctx, payload)
		if err != nil || len(out) != len(payload) {
			b.Fatal(string(out), err)
		}
	}
}

// BenchmarkCallback is an engine call whose handler makes one tool callback
// with the 1 KiB payload. The cost of the callback is this minus
// BenchmarkSkillCall; target: <= 2x BenchmarkBareUnary.
func BenchmarkCallback(b *testing.B) {
	e := newEngine(b)
	s := load(b, e, "callback", &testCallbacks{})
	ctx := context.Background()
	if err := s.Warm(ctx); err != nil {
		b.Fatal(err)
	}
	in := []byte(`{"kind":"tool","name":"echo","input":` + string(payload) + `}`)
	b.ReportAllocs()
	for b.Loop() {
		out, err := s.Call(ctx, in)
		if err != nil || len(out) < len(payload) {
			b.Fatal(string(out), err)
		}
	}
}

// BenchmarkFirstCall is Load (of a binary already in the store, pinned by
// digest), spawn, handshake, Setup and the first call. Close is not
// counted. Target: <= 30 ms.
func BenchmarkFirstCall(b *testing.B) {
	e := newEngine(b)
	spec := engine.Spec{Name: "echo", Artifact: guests["echo"], SHA256: sha256File(b, guests["echo"])}
	ctx := context.Background()
	if _, err := e.install(ctx, spec.Artifact, spec.SHA256, nil); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		s, err := e.Load(ctx, spec)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Call(ctx, payload); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := s.Close(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// BenchmarkPaired runs a bare unary call, an engine call and an engine call
// with one callback back to back in every iteration, and reports the median
// of each and their ratios. On a shared, loaded machine the separate
// benchmarks above drift by 2x between runs; pairing the three in one loop
// exposes them to the same load, so the ratios hold where the absolute
// numbers do not.
//
//	skill/bare     engine call / bare unary            (target <= 1.2)
//	callback/bare  (callback call - engine call) / bare (target <= 2)
func BenchmarkPaired(b *testing.B) {
	ctx := context.Background()
	bare, err := startProcess(ctx, procConfig{name: "bare", path: guests["bare"], logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	defer bare.stop()
	e := newEngine(b)
	echo := load(b, e, "echo", nil)
	cb := load(b, e, "callback", &testCallbacks{})
	for _, s := range []*Skill{echo, cb} {
		if err := s.Warm(ctx); err != nil {
			b.Fatal(err)
		}
	}
	req := &pluginpb.CallRequest{CallId: 1, Input: payload}
	cbIn := []byte(`{"kind":"tool","name":"echo","input":` + string(payload) + `}`)
	var tBare, tSkill, tCB []time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := bare.skill.Call(ctx, req); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := echo.Call(ctx, payload); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		if _, err := cb.Call(ctx, cbIn); err != nil {
			b.Fatal(err)
		}
		t3 := time.Now()
		tBare, tSkill, tCB = append(tBare, t1.Sub(t0)), append(tSkill, t2.Sub(t1)), append(tCB, t3.Sub(t2))
	}
	mb, ms, mc := median(tBare), median(tSkill), median(tCB)
	b.ReportMetric(float64(mb.Nanoseconds()), "bare-ns")
	b.ReportMetric(float64(ms.Nanoseconds()), "skill-ns")
	b.ReportMetric(float64(mc.Nanoseconds()), "callback-ns")
	b.ReportMetric(float64(ms)/float64(mb), "skill/bare")
	b.ReportMetric(float64(mc-ms)/float64(mb), "callback/bare")
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	d = slices.Clone(d)
	slices.Sort(d)
	return d[len(d)/2]
}
