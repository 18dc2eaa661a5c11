package plugin

import (
	"bytes"
	"context"
	"io"
	"log"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"
)

// hclogger adapts go-plugin's hclog.Logger to log/slog. go-plugin logs every
// spawn, handshake and exit at Debug and Info; the adapter starts at Warn so
// the host's log shows plugin failures and panics, not the routine.
type hclogger struct {
	l     *slog.Logger
	name  string
	args  []any
	level *atomic.Int32 // an hclog.Level, shared by derived loggers like hclog's
	// stopping is set when the host itself stops the plugin: go-plugin then
	// reports the exit it caused ("plugin process exited ... killed") at
	// Error, which would alarm people on every normal shutdown.
	stopping *atomic.Bool
}

var _ hclog.Logger = (*hclogger)(nil)

func newHCLogger(l *slog.Logger, name string) *hclogger {
	level := new(atomic.Int32)
	level.Store(int32(hclog.Warn))
	return &hclogger{l: l, name: name, level: level, stopping: new(atomic.Bool)}
}

func slogLevel(l hclog.Level) slog.Level {
	switch l {
	case hclog.Trace, hclog.Debug:
		return slog.LevelDebug
	case hclog.Info:
		return slog.LevelInfo
	case hclog.Warn:
		return slog.LevelWarn
	default:
		return slog.LevelError
	}
}

// Log implements hclog.Logger.
func (h *hclogger) Log(level hclog.Level, msg string, args ...any) {
	if level == hclog.Off || level < hclog.Level(h.level.Load()) {
		return
	}
	if level > hclog.Debug && h.stopping.Load() && msg == "plugin process exited" {
		level = hclog.Debug
		if level < hclog.Level(h.level.Load()) {
			return
		}
	}
	all := make([]any, 0, 2+len(h.args)+len(args))
	all = append(all, "logger", h.name)
	all = append(all, h.args...)
	all = append(all, args...)
	h.l.Log(context.Background(), slogLevel(level), msg, all...)
}

// Trace implements hclog.Logger.
func (h *hclogger) Trace(msg string, args ...any) { h.Log(hclog.Trace, msg, args...) }

// Debug implements hclog.Logger.
func (h *hclogger) Debug(msg string, args ...any) { h.Log(hclog.Debug, msg, args...) }

// Info implements hclog.Logger.
func (h *hclogger) Info(msg string, args ...any) { h.Log(hclog.Info, msg, args...) }

// Warn implements hclog.Logger.
func (h *hclogger) Warn(msg string, args ...any) { h.Log(hclog.Warn, msg, args...) }

// Error implements hclog.Logger.
func (h *hclogger) Error(msg string, args ...any) { h.Log(hclog.Error, msg, args...) }

func (h *hclogger) enabled(l hclog.Level) bool { return l >= hclog.Level(h.level.Load()) }

// IsTrace implements hclog.Logger.
func (h *hclogger) IsTrace() bool { return h.enabled(hclog.Trace) }

// IsDebug implements hclog.Logger.
func (h *hclogger) IsDebug() bool { return h.enabled(hclog.Debug) }

// IsInfo implements hclog.Logger.
func (h *hclogger) IsInfo() bool { return h.enabled(hclog.Info) }

// IsWarn implements hclog.Logger.
func (h *hclogger) IsWarn() bool { return h.enabled(hclog.Warn) }

// IsError implements hclog.Logger.
func (h *hclogger) IsError() bool { return h.enabled(hclog.Error) }

// ImpliedArgs implements hclog.Logger.
func (h *hclogger) ImpliedArgs() []any { return h.args }

// With implements hclog.Logger.
func (h *hclogger) With(args ...any) hclog.Logger {
	c := *h
	c.args = append(append([]any(nil), h.args...), args...)
	return &c
}

// Name implements hclog.Logger.
func (h *hclogger) Name() string { return h.name }

// Named implements hclog.Logger.
func (h *hclogger) Named(name string) hclog.Logger {
	c := *h
	if h.name != "" {
		name = h.name + "." + name
	}
	c.name = name
	return &c
}

// ResetNamed implements hclog.Logger.
func (h *hclogger) ResetNamed(name string) hclog.Logger {
	c := *h
	c.name = name
	return &c
}

// SetLevel implements hclog.Logger.
func (h *hclogger) SetLevel(level hclog.Level) { h.level.Store(int32(level)) }

// GetLevel implements hclog.Logger.
func (h *hclogger) GetLevel() hclog.Level { return hclog.Level(h.level.Load()) }

// StandardLogger implements hclog.Logger.
func (h *hclogger) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(h.StandardWriter(opts), "", 0)
}

// StandardWriter implements hclog.Logger: each line becomes an Info record.
func (h *hclogger) StandardWriter(*hclog.StandardLoggerOptions) io.Writer {
	return &lineWriter{emit: func(line string) { h.Info(line) }}
}

// lineWriter calls emit once per complete line written to it. A line longer
// than maxLine is emitted in pieces rather than held without bound.
type lineWriter struct {
	mu   sync.Mutex
	buf  []byte
	emit func(line string)
}

const maxLine = 16 << 10

// Write implements io.Writer.
func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.buf = append(w.buf, p...)
			if len(w.buf) >= maxLine {
				w.emit(string(w.buf))
				w.buf = w.buf[:0]
			}
			break
		}
		w.buf = append(w.buf, p[:i]...)
		w.emit(strings.TrimSuffix(string(w.buf), "\r"))
		w.buf = w.buf[:0]
		p = p[i+1:]
	}
	return n, nil
}

// fatalLine remembers the first line of a Go runtime failure ("panic: ...",
// "fatal error: ...") on the plugin's raw stderr, to name the cause when the
// plugin dies during a call. The full trace goes to the log through
// go-plugin, at Error.
type fatalLine struct {
	lineWriter
	firstMu sync.Mutex
	first   string
}

// maxFatal bounds the remembered line: it ends up in an error message.
const maxFatal = 512

func newFatalLine() *fatalLine {
	f := &fatalLine{}
	f.emit = func(line string) {
		if strings.HasPrefix(line, "panic: ") || strings.HasPrefix(line, "fatal error: ") {
			if len(line) > maxFatal {
				line = line[:maxFatal] + "..."
			}
			f.firstMu.Lock()
			if f.first == "" {
				f.first = line
			}
			f.firstMu.Unlock()
		}
	}
	return f
}

func (f *fatalLine) get() string {
	f.firstMu.Lock()
	defer f.firstMu.Unlock()
	return f.first
}

// stdioLogger logs what the plugin writes to os.Stdout or os.Stderr (which
// go-plugin streams to the host over gRPC), one record per line.
func stdioLogger(l *slog.Logger, stream string) io.Writer {
	return &lineWriter{emit: func(line string) {
		l.Info(line, "stream", stream)
	}}
}
