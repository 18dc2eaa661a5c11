package httpapi

import (
	"strings"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"3", 3 * time.Second, true},
		{"0", 0, true},
		{"1.5", 1500 * time.Millisecond, true},
		{"-1", 0, false},
		{"Sun, 01 Mar 2026 12:00:07 GMT", 7 * time.Second, true},
		{"Sun, 01 Mar 2026 11:00:00 GMT", 0, true},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		got, ok := RetryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("RetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestNameMap(t *testing.T) {
	long := strings.Repeat("x", 70)
	m := NewNameMap([]string{"fs.read", "fs_read", "ok-name_1", "", "ünï", long, long + "y", "fs.read"})
	tests := []struct{ name, wire string }{
		{"fs.read", "fs_read"},
		{"fs_read", "fs_read_2"},
		{"ok-name_1", "ok-name_1"},
		{"", "tool"},
		{"ünï", "_n_"},
		{long, strings.Repeat("x", 64)},
		{long + "y", strings.Repeat("x", 62) + "_2"},
		{"not.offered", "not_offered"},
	}
	for _, tt := range tests {
		if got := m.Wire(tt.name); got != tt.wire {
			t.Errorf("Wire(%q) = %q, want %q", tt.name, got, tt.wire)
		}
		if tt.name != "not.offered" {
			if back := m.Original(tt.wire); back != tt.name {
				t.Errorf("Original(%q) = %q, want %q", tt.wire, back, tt.name)
			}
		}
	}
	if got := m.Original("hallucinated"); got != "hallucinated" {
		t.Errorf("Original of an unknown name = %q", got)
	}
}

func TestBackoffBounds(t *testing.T) {
	c := &Client{BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}
	for attempt, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 60: time.Second} {
		for range 20 {
			if d := c.backoff(attempt); d < want/2 || d > want {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", attempt, d, want/2, want)
			}
		}
	}
}

func TestHTTPErrorText(t *testing.T) {
	e := &HTTPError{Provider: "p", Status: 529, Type: "overloaded_error", Message: "Overloaded", Attempts: 3}
	if got := e.Error(); got != "p: HTTP 529: overloaded_error: Overloaded (after 3 attempts)" {
		t.Fatalf("Error() = %q", got)
	}
}
