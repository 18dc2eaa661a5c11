package main

import (
	"encoding/json"
	"errors"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/skillsdev/skills/sdk"
)

// Fixtures as a Linux 6.x kernel writes them.
const (
	loadavgFixture = "0.52 0.58 0.59 1/467 12345\n"
	uptimeFixture  = "350735.47 234388.90\n"
	meminfoFixture = `MemTotal:       16314884 kB
MemFree:         1202340 kB
MemAvailable:    9876544 kB
Buffers:          345678 kB
Cached:          7654321 kB
SwapCached:            0 kB
SwapTotal:       2097148 kB
SwapFree:        2097148 kB
HugePages_Total:       0
HugePages_Free:        0
Hugepagesize:       2048 kB
`
)

func TestParseLoadavg(t *testing.T) {
	tests := []struct {
		in      string
		want    load
		wantErr string
	}{
		{loadavgFixture, load{0.52, 0.58, 0.59}, ""},
		{"1.00 2.50 10.25", load{1, 2.5, 10.25}, ""},
		{"0.1 0.2", load{}, "want 3 load averages"},
		{"", load{}, "want 3 load averages"},
		{"0.1 x 0.3 1/2 3", load{}, `field 2: "x"`},
		{"-1 0 0", load{}, `field 1: "-1"`},
		{"NaN 0 0", load{}, `field 1: "NaN"`},
	}
	for _, tt := range tests {
		got, err := parseLoadavg(tt.in)
		if !matchErr(err, tt.wantErr) || got != tt.want {
			t.Errorf("parseLoadavg(%q) = %+v, %v; want %+v, error %q", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseMeminfo(t *testing.T) {
	const k = 1024
	tests := []struct {
		name    string
		in      string
		want    memory
		wantErr string
	}{
		{"linux 6", meminfoFixture, memory{
			TotalBytes: 16314884 * k, AvailableBytes: 9876544 * k, UsedBytes: (16314884 - 9876544) * k,
			FreeBytes: 1202340 * k, SwapTotalBytes: 2097148 * k, SwapFreeBytes: 2097148 * k,
		}, ""},
		{"old kernel without MemAvailable", "MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 250 kB\n",
			memory{TotalBytes: 1000 * k, AvailableBytes: 400 * k, UsedBytes: 600 * k, FreeBytes: 100 * k}, ""},
		{"available capped at total", "MemTotal: 10 kB\nMemFree: 5 kB\nMemAvailable: 20 kB\n",
			memory{TotalBytes: 10 * k, AvailableBytes: 10 * k, FreeBytes: 5 * k}, ""},
		{"no MemTotal", "MemFree: 5 kB\n", memory{}, "no MemTotal line"},
		{"empty", "", memory{}, "no MemTotal line"},
		{"no colon", "MemTotal 5 kB\n", memory{}, "line 1: no colon"},
		{"bad number", "MemTotal: 5 kB\nMemFree: lots kB\n", memory{}, `line 2: MemFree: "lots" is not a number`},
		{"bad unit", "MemTotal: 5 MB\n", memory{}, "line 1: want"},
		{"overflow", "MemTotal: 18446744073709551615 kB\nMemFree: 1 kB\n", memory{}, "overflows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseMeminfo(tt.in)
			if !matchErr(err, tt.wantErr) || got != tt.want {
				t.Errorf("parseMeminfo = %+v, %v; want %+v, error %q", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseUptime(t *testing.T) {
	tests := []struct {
		in      string
		want    uptime
		wantErr string
	}{
		{uptimeFixture, uptime{350735.47, "4d 1h 25m"}, ""},
		{"59.9 1.0", uptime{59.9, "59s"}, ""},
		{"3600 0", uptime{3600, "1h 0m"}, ""},
		{"125", uptime{125, "2m"}, ""},
		{"", uptime{}, "empty"},
		{"soon 1", uptime{}, `"soon" is not`},
		{"-5 1", uptime{}, `"-5" is not`},
		{"1e300 1", uptime{}, `"1e300" is not`},
	}
	for _, tt := range tests {
		got, err := parseUptime(tt.in)
		if !matchErr(err, tt.wantErr) || got != tt.want {
			t.Errorf("parseUptime(%q) = %+v, %v; want %+v, error %q", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestCollect(t *testing.T) {
	linux := machine{
		goos: "linux", goarch: "amd64", goVersion: "go1.26.0", numCPU: 4,
		hostname: func() (string, error) { return "box", nil },
		proc: fstest.MapFS{
			"loadavg": {Data: []byte(loadavgFixture)},
			"meminfo": {Data: []byte(meminfoFixture)},
			"uptime":  {Data: []byte(uptimeFixture)},
		},
	}
	darwin := linux
	darwin.goos, darwin.goarch, darwin.proc = "darwin", "arm64", nil
	darwin.hostname = func() (string, error) { return "", errors.New("no hostname") }
	broken := linux
	broken.proc = fstest.MapFS{"loadavg": {Data: []byte("garbage")}}

	tests := []struct {
		name   string
		m      machine
		fields []string
		want   string
	}{
		{"linux, all fields", linux, nil, `{"os":"linux","arch":"amd64","cpus":4,"go_version":"go1.26.0","hostname":"box",` +
			`"load":{"1m":0.52,"5m":0.58,"15m":0.59},` +
			`"memory":{"total_bytes":16706441216,"available_bytes":10113581056,"used_bytes":6592860160,"free_bytes":1231196160,"swap_total_bytes":2147479552,"swap_free_bytes":2147479552},` +
			`"uptime":{"seconds":350735.47,"human":"4d 1h 25m"}}`},
		{"selected fields only", linux, []string{"cpus", "uptime", "cpus"}, `{"cpus":4,"uptime":{"seconds":350735.47,"human":"4d 1h 25m"}}`},
		{"darwin reports what it can", darwin, nil, `{"os":"darwin","arch":"arm64","cpus":4,"go_version":"go1.26.0",` +
			`"unavailable":[{"field":"hostname","reason":"no hostname"},` +
			`{"field":"load","reason":"needs /proc, which darwin does not have"},` +
			`{"field":"memory","reason":"needs /proc, which darwin does not have"},` +
			`{"field":"uptime","reason":"needs /proc, which darwin does not have"}]}`},
		{"broken /proc", broken, []string{"load", "memory"}, `{"unavailable":[` +
			`{"field":"load","reason":"loadavg: want 3 load averages, got \"garbage\""},` +
			`{"field":"memory","reason":"read /proc/meminfo: open meminfo: file does not exist"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sel, err := selectFields(tt.fields)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal(tt.m.collect(sel))
			if string(got) != tt.want {
				t.Errorf("collect =\n %s\nwant\n %s", got, tt.want)
			}
		})
	}
}

func TestSelectFields(t *testing.T) {
	tests := []struct {
		fields  []string
		want    int
		wantErr string
	}{
		{nil, len(allFields), ""},
		{[]string{"os"}, 1, ""},
		{[]string{}, 0, "fields is empty"},
		{[]string{"os", "disk"}, 0, `unknown field "disk": want one of os, arch`},
	}
	for _, tt := range tests {
		got, err := selectFields(tt.fields)
		if tt.wantErr != "" {
			if !errors.Is(err, sdk.ErrInvalidInput) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("selectFields(%q) error = %v, want invalid_input containing %q", tt.fields, err, tt.wantErr)
			}
			continue
		}
		if err != nil || len(got) != tt.want {
			t.Errorf("selectFields(%q) = %v, %v; want %d fields", tt.fields, got, err, tt.want)
		}
	}
}

// TestHandleThisMachine runs the skill on the machine under test.
func TestHandleThisMachine(t *testing.T) {
	out, err := handle(nil, json.RawMessage(`{"fields":["os","arch","cpus","go_version","uptime"]}`))
	if err != nil {
		t.Fatal(err)
	}
	got := out.(info)
	if *got.OS != runtime.GOOS || *got.Arch != runtime.GOARCH || *got.CPUs < 1 || *got.GoVersion != runtime.Version() {
		t.Errorf("handle = %+v", got)
	}
	if runtime.GOOS == "linux" && (got.Uptime == nil || got.Uptime.Seconds <= 0) {
		t.Errorf("no uptime on Linux: %+v", got)
	}
	if _, err := handle(nil, json.RawMessage(`{"fields":"os"}`)); !errors.Is(err, sdk.ErrInvalidInput) {
		t.Errorf("fields as a string: error = %v, want invalid_input", err)
	}
}

// FuzzParsers checks that no /proc content makes a parser panic, and that
// what they accept is sane.
func FuzzParsers(f *testing.F) {
	for _, s := range []string{loadavgFixture, uptimeFixture, meminfoFixture, "", "a:b", "MemTotal: 1 kB\nMemFree: 2 kB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if m, err := parseMeminfo(s); err == nil && m.UsedBytes+m.AvailableBytes != m.TotalBytes {
			t.Fatalf("memory does not add up: %+v", m)
		}
		if u, err := parseUptime(s); err == nil && (u.Seconds < 0 || u.Human == "") {
			t.Fatalf("bad uptime %+v", u)
		}
		if l, err := parseLoadavg(s); err == nil && (l.One < 0 || l.Five < 0 || l.Fifteen < 0) {
			t.Fatalf("bad load %+v", l)
		}
	})
}

func matchErr(err error, want string) bool {
	if want == "" {
		return err == nil
	}
	return err != nil && strings.Contains(err.Error(), want)
}
