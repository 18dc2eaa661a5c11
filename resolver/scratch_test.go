package resolver

import (
	"context"
	"testing"
	"time"
)

func TestScratch(t *testing.T) {
	for _, bc := range benchCases {
		src, root := bc.gen()
		s, _ := newSolver(context.Background(), src, Options{})
		start := time.Now()
		c0 := cpuTime()
		err := s.solve(root)
		t.Logf("%s: %v cpu=%v err=%v stats=%+v incs=%d srcCalls=%d", bc.name, time.Since(start), cpuTime()-c0, err != nil, s.stats, len(s.incs), src.calls)
	}
}
