package main

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// loadStats summarizes the 1-minute load average sampled during a run.
// Samples is 0 where /proc/loadavg does not exist.
type loadStats struct {
	Start, End, Min, Median, Max float64
	Samples                      int
}

// loadAvg1 is the 1-minute load average.
func loadAvg1() (float64, bool) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, false
	}
	v, err := strconv.ParseFloat(f[0], 64)
	return v, err == nil
}

// startLoadSampler samples the load average every interval until the
// returned function is called, which stops it and summarizes.
func startLoadSampler(interval time.Duration) func() loadStats {
	stop := make(chan struct{})
	done := make(chan []float64)
	go func() {
		var s []float64
		sample := func() {
			if v, ok := loadAvg1(); ok {
				s = append(s, v)
			}
		}
		sample()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				sample()
			case <-stop:
				sample()
				done <- s
				return
			}
		}
	}()
	return func() loadStats {
		close(stop)
		return summarizeLoad(<-done)
	}
}

func summarizeLoad(s []float64) loadStats {
	if len(s) == 0 {
		return loadStats{}
	}
	st := loadStats{Start: s[0], End: s[len(s)-1], Samples: len(s)}
	st.Median, _ = median(s)
	st.Min, st.Max = slices.Min(s), slices.Max(s)
	return st
}
