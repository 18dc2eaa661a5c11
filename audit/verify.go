package audit

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// MaxLineBytes bounds one line of a log, so that Verify of an untrusted file
// cannot be made to buffer it whole.
const MaxLineBytes = 16 << 20

// VerifyError names the first line of a log that breaks the chain.
type VerifyError struct {
	Line   int    // 1-based line number in the file
	Seq    uint64 // the sequence number that line should carry
	Reason string
}

// Error formats the error as "audit: line L (seq S): reason".
func (e *VerifyError) Error() string {
	return fmt.Sprintf("audit: line %d (seq %d): %s", e.Line, e.Seq, e.Reason)
}

// Summary describes a log that verified.
type Summary struct {
	Events int   // number of events (lines)
	Last   Event // the last event; zero when Events is 0
}

// Verify reads a whole log and returns nil if it is an intact chain from
// genesis, or a *VerifyError naming the first bad line: an edited event, a
// reordered or missing line, a line truncated mid-way, a wrong genesis hash.
// An empty log is intact.
func Verify(r io.Reader) error {
	_, err := Check(r)
	return err
}

// Check is Verify that also reports what it read.
func Check(r io.Reader) (Summary, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var sum Summary
	prev := GenesisHash
	var canon []byte
	for line := 1; ; line++ {
		want := uint64(line)
		raw, err := readLine(br)
		if err == io.EOF && len(raw) == 0 {
			return sum, nil
		}
		bad := func(format string, args ...any) (Summary, error) {
			return Summary{}, &VerifyError{Line: line, Seq: want, Reason: fmt.Sprintf(format, args...)}
		}
		switch {
		case errors.Is(err, errLineTooLong):
			return bad("line is longer than %d bytes", MaxLineBytes)
		case err == io.EOF:
			return bad("truncated: the last line has no newline (%d bytes)", len(raw))
		case err != nil:
			return Summary{}, fmt.Errorf("audit: read line %d: %w", line, err)
		}
		ev, err := parseLine(raw)
		if err != nil {
			return bad("not a valid event: %v", err)
		}
		if ev.Seq != want {
			if ev.Seq > want {
				return bad("found seq %d: lines are missing or out of order", ev.Seq)
			}
			return bad("found seq %d: lines are duplicated or out of order", ev.Seq)
		}
		if ev.PrevHash != prev {
			if line == 1 {
				return bad("wrong genesis: prev_hash is %s, want %d zeros", ev.PrevHash, len(GenesisHash))
			}
			return bad("prev_hash does not match the hash of line %d: lines are missing, reordered or replaced", line-1)
		}
		var dataStart int
		canon, dataStart, err = appendCanonical(canon[:0], ev.Seq, ev.Time, ev.RunID, ev.Type, ev.PrevHash, ev.Data)
		if err != nil {
			return bad("%v", err)
		}
		digest := sha256.Sum256(canon)
		if hex.EncodeToString(digest[:]) != ev.Hash {
			return bad("hash mismatch: the event was edited")
		}
		full := appendHashMember(canon, []byte(ev.Hash))
		if !bytes.Equal(full[:len(full)-1], raw) {
			return bad("line is not in canonical form (member order, spacing or escaping was changed)")
		}
		canon = full
		ev.Data = json.RawMessage(bytes.Clone(canon[dataStart : len(canon)-len(`,"hash":"`)-len(ev.Hash)-3]))
		prev = ev.Hash
		sum.Events++
		sum.Last = ev
	}
}

var errLineTooLong = errors.New("line too long")

// readLine returns one line without its newline; at end of input it returns
// what is left and io.EOF.
func readLine(br *bufio.Reader) ([]byte, error) {
	var acc []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(acc)+len(chunk) > MaxLineBytes+1 {
			return nil, errLineTooLong
		}
		switch err {
		case nil:
			if acc == nil {
				return chunk[:len(chunk)-1], nil
			}
			acc = append(acc, chunk...)
			return acc[:len(acc)-1], nil
		case bufio.ErrBufferFull:
			acc = append(acc, chunk...)
		default:
			return append(acc, chunk...), err
		}
	}
}

// wireEvent has pointer fields so that a missing member is told apart from a
// zero one.
type wireEvent struct {
	Seq      *uint64         `json:"seq"`
	Time     *string         `json:"time"`
	RunID    *string         `json:"run_id"`
	Type     *string         `json:"type"`
	PrevHash *string         `json:"prev_hash"`
	Data     json.RawMessage `json:"data"`
	Hash     *string         `json:"hash"`
}

// parseLine decodes one line strictly into an Event (Data as found).
func parseLine(raw []byte) (Event, error) {
	var w wireEvent
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return Event{}, err
	}
	if dec.More() {
		return Event{}, errors.New("extra data after the event object")
	}
	switch {
	case w.Seq == nil:
		return Event{}, errors.New(`missing "seq"`)
	case w.Time == nil:
		return Event{}, errors.New(`missing "time"`)
	case w.RunID == nil:
		return Event{}, errors.New(`missing "run_id"`)
	case w.Type == nil:
		return Event{}, errors.New(`missing "type"`)
	case w.PrevHash == nil:
		return Event{}, errors.New(`missing "prev_hash"`)
	case w.Data == nil:
		return Event{}, errors.New(`missing "data"`)
	case w.Hash == nil:
		return Event{}, errors.New(`missing "hash"`)
	}
	t, err := time.Parse(time.RFC3339Nano, *w.Time)
	if err != nil {
		return Event{}, fmt.Errorf("time: %w", err)
	}
	if err := checkField("run_id", *w.RunID, false); err != nil {
		return Event{}, err
	}
	if err := checkField("type", *w.Type, true); err != nil {
		return Event{}, err
	}
	if !isHex64(*w.PrevHash) {
		return Event{}, errors.New("prev_hash is not 64 lowercase hex digits")
	}
	if !isHex64(*w.Hash) {
		return Event{}, errors.New("hash is not 64 lowercase hex digits")
	}
	return Event{Seq: *w.Seq, Time: t.UTC(), RunID: *w.RunID, Type: *w.Type,
		PrevHash: *w.PrevHash, Data: w.Data, Hash: *w.Hash}, nil
}

func isHex64(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
