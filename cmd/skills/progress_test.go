package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/skillsdev/skills/marketplace/install"
)

func TestInstallProgress(t *testing.T) {
	events := []install.Event{
		{Kind: install.EventWaiting, PID: 4242},
		{Kind: install.EventResolved, Count: 2, Total: 2 << 20},
		{Kind: install.EventDownload, Name: "a", Version: "1.0.0", Bytes: 1 << 20, Total: 1 << 20},
		{Kind: install.EventUnpacked, Name: "a", Version: "1.0.0"},
		{Kind: install.EventDownload, Name: "b", Version: "2.0.0", Bytes: 1 << 20, Total: 1 << 20},
		{Kind: install.EventUnpacked, Name: "b", Version: "2.0.0"},
		{Kind: install.EventCommit},
	}
	for _, tc := range []struct {
		tty  bool
		want []string
		not  []string
	}{
		{tty: false,
			want: []string{"waiting for another skills process (pid 4242)...\n", "downloading 2 package(s), 2.0 MiB\n", "unpacked a 1.0.0 (1/2)\n", "unpacked b 2.0.0 (2/2)\n", "writing skills.lock\n"},
			not:  []string{"\r"}},
		{tty: true,
			want: []string{"waiting for another skills process (pid 4242)...\n", "\r[===============               ] 1/2 packages  1.0 MiB / 2.0 MiB", "\r[==============================] 2/2 packages  2.0 MiB / 2.0 MiB", "\r\033[K"},
			not:  []string{"unpacked a", "writing skills.lock"}},
	} {
		var buf bytes.Buffer
		p := &installProgress{w: &buf, tty: tc.tty, got: map[string]int64{}}
		for _, e := range events {
			p.event(e)
		}
		p.done()
		out := buf.String()
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("tty=%v: output %q lacks %q", tc.tty, out, w)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(out, w) {
				t.Errorf("tty=%v: output %q has %q", tc.tty, out, w)
			}
		}
	}
}
