package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/skillsdev/skills/marketplace/install"
)

// installProgress shows install events on stderr: a bar redrawn in place
// when stderr is a terminal, one plain line per package otherwise (logs,
// CI, pipes).
type installProgress struct {
	w   io.Writer
	tty bool

	mu        sync.Mutex
	count     int
	total     int64
	got       map[string]int64 // bytes received per package
	unpacked  int
	lastDraw  time.Time
	barOnLine bool
}

func newInstallProgress(w io.Writer) *installProgress {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return &installProgress{w: w, tty: tty, got: map[string]int64{}}
}

func (p *installProgress) event(e install.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e.Kind {
	case install.EventWaiting:
		p.clear()
		if e.PID > 0 {
			fmt.Fprintf(p.w, "waiting for another skills process (pid %d)...\n", e.PID)
		} else {
			fmt.Fprintln(p.w, "waiting for another skills process...")
		}
	case install.EventResolved:
		p.count, p.total = e.Count, e.Total
		if e.Count > 0 && !p.tty {
			fmt.Fprintf(p.w, "downloading %d package(s), %s\n", e.Count, sizeString(e.Total))
		}
	case install.EventDownload:
		p.got[e.Name+" "+e.Version] = e.Bytes
		if p.tty && time.Since(p.lastDraw) > 80*time.Millisecond {
			p.draw()
		}
	case install.EventUnpacked:
		p.unpacked++
		if p.tty {
			p.draw()
		} else {
			fmt.Fprintf(p.w, "unpacked %s %s (%d/%d)\n", e.Name, e.Version, p.unpacked, p.count)
		}
	case install.EventCommit:
		p.clear()
		if !p.tty {
			fmt.Fprintln(p.w, "writing skills.lock")
		}
	}
}

// draw redraws the bar: packages unpacked, bytes received.
func (p *installProgress) draw() {
	var got int64
	for _, n := range p.got {
		got += n
	}
	const width = 30
	fill := width
	if p.total > 0 {
		fill = int(int64(width) * got / p.total)
	}
	fill = min(max(fill, 0), width)
	bar := strings.Repeat("=", fill) + strings.Repeat(" ", width-fill)
	fmt.Fprintf(p.w, "\r[%s] %d/%d packages  %s / %s ", bar, p.unpacked, p.count, sizeString(got), sizeString(p.total))
	p.lastDraw = time.Now()
	p.barOnLine = true
}

// clear erases the bar so that the next line starts clean.
func (p *installProgress) clear() {
	if p.barOnLine {
		fmt.Fprint(p.w, "\r\033[K")
		p.barOnLine = false
	}
}

// done erases the bar at the end of a command.
func (p *installProgress) done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
}

func sizeString(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
