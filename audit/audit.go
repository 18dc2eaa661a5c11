// Package audit keeps an append-only, tamper-evident log of agent events as a
// SHA-256 hash chain of JSON lines, verifies such a log, and formats events
// for people.
//
// # Line format and hash
//
// Each event is one line: a JSON object whose members appear in exactly this
// order, with no insignificant whitespace, followed by "\n":
//
//		{"seq":N,"time":T,"run_id":R,"type":Y,"prev_hash":P,"data":D,"hash":H}
//
//	  - seq: decimal, 1 for the first line of a log, +1 per line.
//	  - time: RFC 3339 with nanoseconds (UTC, trailing zeros dropped), as a JSON string.
//	  - run_id, type: JSON strings of printable ASCII without '"' or '\'.
//	  - prev_hash: the hash of the previous line; 64 '0' characters on line 1 (genesis).
//	  - data: a JSON object with insignificant whitespace removed (encoding/json.Compact);
//	    its members keep the order they were written in.
//	  - hash: lowercase hex SHA-256 of the canonical bytes: the line without its
//	    trailing ',"hash":"H"' member and newline, closed with '}'; that is,
//	    {"seq":N,"time":T,"run_id":R,"type":Y,"prev_hash":P,"data":D}.
//
// Because the line must be exactly the canonical form, any edit to any byte
// of an event (even whitespace) is detected, as are reordered, missing and
// truncated lines. Deleting lines from the end of a log cannot be detected
// from the log alone; a run that has a run.start but no run.end shows it.
package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"
)

// GenesisHash is the prev_hash of the first event of a log.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// Event is one entry of the chain.
type Event struct {
	Seq      uint64          `json:"seq"`
	Time     time.Time       `json:"time"`
	RunID    string          `json:"run_id"`
	Type     string          `json:"type"`
	PrevHash string          `json:"prev_hash"`
	Data     json.RawMessage `json:"data"`
	Hash     string          `json:"hash"`
}

// Writer appends events to a log as a hash chain. It is safe for concurrent
// use: each Append assigns the next sequence number and writes its line with
// a single Write call while holding a lock, so lines appear in chain order.
// Only one Writer (one process) may append to a given file at a time.
type Writer struct {
	mu     sync.Mutex
	w      io.Writer // nil: keep the chain in memory only
	closer io.Closer
	seq    uint64
	prev   string // hex of the last hash
	buf    []byte
	err    error // sticky: after a failed write the chain on disk is unknown
}

// NewWriter starts a new chain (genesis) written to w. A nil w keeps the
// chain in memory only: events are still numbered and hashed.
func NewWriter(w io.Writer) *Writer {
	aw := &Writer{w: w}
	aw.prev = GenesisHash
	return aw
}

// OpenFile opens (creating if needed, mode 0600) the log at path for
// appending. An existing log is verified first and the chain continues from
// its last event; a log that fails verification is refused, so that new
// events are never chained onto a tampered history.
func OpenFile(path string) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit: open %s: %w", path, err)
	}
	sum, err := Check(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("audit: open %s: existing log: %w", path, err)
	}
	aw := NewWriter(f)
	aw.closer = f
	if sum.Events > 0 {
		aw.seq = sum.Last.Seq
		aw.prev = sum.Last.Hash
	}
	return aw, nil
}

// Close closes the file opened by OpenFile; for a Writer made by NewWriter it
// does nothing.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closer == nil {
		return nil
	}
	err := w.closer.Close()
	w.closer = nil
	if w.err == nil {
		w.err = errors.New("audit: writer is closed")
	}
	return err
}

// Append adds one event to the chain and writes its line. data must be a JSON
// object or empty (stored as {}). After a write error every later Append
// fails too: the log's tail is unknown, and chaining past it would hide that.
func (w *Writer) Append(t time.Time, runID, typ string, data json.RawMessage) (Event, error) {
	if err := checkField("run_id", runID, false); err != nil {
		return Event{}, err
	}
	if err := checkField("type", typ, true); err != nil {
		return Event{}, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return Event{}, w.err
	}
	t = t.UTC()
	line, dataStart, err := appendCanonical(w.buf[:0], w.seq+1, t, runID, typ, w.prev, data)
	if err != nil {
		return Event{}, fmt.Errorf("audit: append %s: %w", typ, err)
	}
	sum := sha256.Sum256(line)
	var hash [2 * sha256.Size]byte
	hex.Encode(hash[:], sum[:])
	ev := Event{
		Seq:      w.seq + 1,
		Time:     t,
		RunID:    runID,
		Type:     typ,
		PrevHash: w.prev,
		Data:     json.RawMessage(bytes.Clone(line[dataStart : len(line)-1])),
		Hash:     string(hash[:]),
	}
	line = appendHashMember(line, hash[:])
	w.buf = line
	if w.w != nil {
		if _, err := w.w.Write(line); err != nil {
			w.err = fmt.Errorf("audit: write seq %d: %w", ev.Seq, err)
			return Event{}, w.err
		}
	}
	w.seq = ev.Seq
	w.prev = ev.Hash
	return ev, nil
}

// appendCanonical appends the canonical bytes of an event (everything but the
// hash) to dst and reports where data starts in it. data is compacted; it
// must be a JSON object or empty.
func appendCanonical(dst []byte, seq uint64, t time.Time, runID, typ, prev string, data []byte) ([]byte, int, error) {
	dst = append(dst, `{"seq":`...)
	dst = strconv.AppendUint(dst, seq, 10)
	dst = append(dst, `,"time":"`...)
	dst = t.AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, `","run_id":"`...)
	dst = append(dst, runID...)
	dst = append(dst, `","type":"`...)
	dst = append(dst, typ...)
	dst = append(dst, `","prev_hash":"`...)
	dst = append(dst, prev...)
	dst = append(dst, `","data":`...)
	n := len(dst)
	switch {
	case len(bytes.TrimSpace(data)) == 0:
		dst = append(dst, "{}"...)
	case compactObject(data):
		// Most data comes from json.Marshal and is compact already.
		dst = append(dst, data...)
	default:
		buf := bytes.NewBuffer(dst)
		if err := json.Compact(buf, data); err != nil {
			return dst[:n], n, fmt.Errorf("data is not valid JSON: %w", err)
		}
		dst = buf.Bytes()
	}
	if dst[n] != '{' {
		return dst[:n], n, errors.New("data is not a JSON object")
	}
	return append(dst, '}'), n, nil
}

// appendHashMember turns canonical bytes (ending in '}') into a full line.
func appendHashMember(canon []byte, hash []byte) []byte {
	line := canon[:len(canon)-1]
	line = append(line, `,"hash":"`...)
	line = append(line, hash...)
	return append(line, "\"}\n"...)
}

// checkField enforces the character set that lets run_id and type be written
// verbatim between quotes, so the canonical form needs no escaping rules.
func checkField(name, s string, required bool) error {
	if s == "" && required {
		return fmt.Errorf("audit: %s is empty", name)
	}
	if len(s) > 256 {
		return fmt.Errorf("audit: %s is longer than 256 bytes", name)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return fmt.Errorf("audit: %s %q has a character outside printable ASCII (or a quote or backslash)", name, s)
		}
	}
	return nil
}
