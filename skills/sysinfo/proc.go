package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// load is /proc/loadavg: the mean number of runnable (and, on Linux,
// uninterruptible) tasks over 1, 5 and 15 minutes.
type load struct {
	One     float64 `json:"1m"`
	Five    float64 `json:"5m"`
	Fifteen float64 `json:"15m"`
}

// parseLoadavg reads /proc/loadavg, e.g. "0.52 0.58 0.59 1/467 12345".
func parseLoadavg(s string) (load, error) {
	f := strings.Fields(s)
	if len(f) < 3 {
		return load{}, fmt.Errorf("loadavg: want 3 load averages, got %q", strings.TrimSpace(s))
	}
	var v [3]float64
	for i := range v {
		x, err := strconv.ParseFloat(f[i], 64)
		if err != nil || x < 0 || math.IsInf(x, 0) || math.IsNaN(x) {
			return load{}, fmt.Errorf("loadavg: field %d: %q is not a load average", i+1, f[i])
		}
		v[i] = x
	}
	return load{One: v[0], Five: v[1], Fifteen: v[2]}, nil
}

// memory is the part of /proc/meminfo worth reporting, in bytes.
type memory struct {
	TotalBytes     uint64 `json:"total_bytes"`
	AvailableBytes uint64 `json:"available_bytes"` // what can be allocated without swapping
	UsedBytes      uint64 `json:"used_bytes"`      // total - available
	FreeBytes      uint64 `json:"free_bytes"`      // unused, not even as cache
	SwapTotalBytes uint64 `json:"swap_total_bytes"`
	SwapFreeBytes  uint64 `json:"swap_free_bytes"`
}

// parseMeminfo reads /proc/meminfo, lines like "MemTotal:  16314884 kB".
// MemTotal and MemFree are required. Kernels before 3.14 lack MemAvailable;
// then it is estimated as MemFree + Buffers + Cached, as free(1) did.
func parseMeminfo(s string) (memory, error) {
	vals := map[string]uint64{}
	for i, line := range strings.Split(s, "\n") {
		key, rest, ok := strings.Cut(line, ":")
		if !ok {
			if strings.TrimSpace(line) != "" {
				return memory{}, fmt.Errorf("meminfo: line %d: no colon in %q", i+1, line)
			}
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 || len(f) > 2 || (len(f) == 2 && f[1] != "kB") {
			return memory{}, fmt.Errorf("meminfo: line %d: want \"%s: <number> [kB]\", got %q", i+1, key, line)
		}
		n, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return memory{}, fmt.Errorf("meminfo: line %d: %s: %q is not a number", i+1, key, f[0])
		}
		if len(f) == 2 {
			if n > math.MaxUint64/1024 {
				return memory{}, fmt.Errorf("meminfo: line %d: %s: %d kB overflows", i+1, key, n)
			}
			n *= 1024
		}
		vals[key] = n
	}
	for _, k := range []string{"MemTotal", "MemFree"} {
		if _, ok := vals[k]; !ok {
			return memory{}, fmt.Errorf("meminfo: no %s line", k)
		}
	}
	m := memory{
		TotalBytes:     vals["MemTotal"],
		FreeBytes:      vals["MemFree"],
		SwapTotalBytes: vals["SwapTotal"],
		SwapFreeBytes:  vals["SwapFree"],
	}
	if a, ok := vals["MemAvailable"]; ok {
		m.AvailableBytes = a
	} else {
		m.AvailableBytes = vals["MemFree"] + vals["Buffers"] + vals["Cached"]
	}
	m.AvailableBytes = min(m.AvailableBytes, m.TotalBytes)
	m.UsedBytes = m.TotalBytes - m.AvailableBytes
	return m, nil
}

// uptime is the time since boot.
type uptime struct {
	Seconds float64 `json:"seconds"`
	Human   string  `json:"human"` // e.g. "3d 4h 25m"
}

// parseUptime reads /proc/uptime, e.g. "350735.47 234388.90": seconds since
// boot, then idle seconds summed over CPUs.
func parseUptime(s string) (uptime, error) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return uptime{}, fmt.Errorf("uptime: empty")
	}
	x, err := strconv.ParseFloat(f[0], 64)
	if err != nil || x < 0 || x >= math.MaxInt64 || math.IsNaN(x) {
		return uptime{}, fmt.Errorf("uptime: %q is not a number of seconds", f[0])
	}
	return uptime{Seconds: x, Human: humanDuration(x)}, nil
}

// humanDuration formats seconds as days, hours and minutes, leaving out
// leading zero units; under a minute it gives seconds.
func humanDuration(seconds float64) string {
	total := int64(seconds)
	if total < 60 {
		return strconv.FormatInt(total, 10) + "s"
	}
	d, h, m := total/86400, total%86400/3600, total%3600/60
	switch {
	case d > 0:
		return fmt.Sprintf("%dd %dh %dm", d, h, m)
	case h > 0:
		return fmt.Sprintf("%dh %dm", h, m)
	}
	return fmt.Sprintf("%dm", m)
}
