package resolver

import (
	"testing"

	"github.com/Masterminds/semver/v3"
)

func BenchmarkCalibCompare(b *testing.B) {
	v1, v2 := semver.MustParse("1.2.3"), semver.MustParse("1.2.4")
	c0 := cpuTime()
	n := 0
	for b.Loop() {
		n += v1.Compare(v2)
	}
	b.ReportMetric(float64((cpuTime()-c0).Nanoseconds())/float64(b.N), "cpu-ns/op")
}
