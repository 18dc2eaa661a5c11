package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)

// writeLog builds a log of n events and returns its bytes.
func writeLog(t testing.TB, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for i := 0; i < n; i++ {
		data := fmt.Sprintf(`{"turn": %d, "name": "tool-%d", "nested": {"data": [1, 2]}}`, i, i)
		if _, err := w.Append(t0.Add(time.Duration(i)*time.Millisecond), "run1", "tool.end", json.RawMessage(data)); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func lines(b []byte) []string {
	return strings.SplitAfter(string(b), "\n")[:bytes.Count(b, []byte("\n"))]
}

func TestAppendEventMatchesLine(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	ev, err := w.Append(t0, "r", "run.start", json.RawMessage(`{ "task" : "a b",  "x":[1, 2] }`))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Seq != 1 || ev.PrevHash != GenesisHash || string(ev.Data) != `{"task":"a b","x":[1,2]}` {
		t.Fatalf("event = %+v", ev)
	}
	want := `{"seq":1,"time":"2026-03-01T12:00:00.123456789Z","run_id":"r","type":"run.start","prev_hash":"` +
		GenesisHash + `","data":{"task":"a b","x":[1,2]},"hash":"` + ev.Hash + "\"}\n"
	if buf.String() != want {
		t.Fatalf("line\n got %s\nwant %s", buf.String(), want)
	}
	ev2, err := w.Append(t0, "r", "run.end", nil)
	if err != nil {
		t.Fatal(err)
	}
	if ev2.Seq != 2 || ev2.PrevHash != ev.Hash || string(ev2.Data) != "{}" {
		t.Fatalf("second event = %+v", ev2)
	}
	sum, err := Check(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Events != 2 || sum.Last.Hash != ev2.Hash || string(sum.Last.Data) != "{}" || !sum.Last.Time.Equal(t0) {
		t.Fatalf("summary = %+v", sum)
	}
}

func TestAppendKeepsStringsIntact(t *testing.T) {
	w := NewWriter(nil)
	for in, want := range map[string]string{
		`{"a":"x \" y","b":"\\"}`:          `{"a":"x \" y","b":"\\"}`,
		"{\"a\": \"x \\\" y\",\n \"b\":1}": `{"a":"x \" y","b":1}`,
	} {
		ev, err := w.Append(t0, "r", "t", json.RawMessage(in))
		if err != nil || string(ev.Data) != want {
			t.Fatalf("Append(%s) data = %s, %v; want %s", in, ev.Data, err, want)
		}
	}
}

func TestAppendRejects(t *testing.T) {
	tests := []struct {
		name, run, typ, data, want string
	}{
		{"array data", "r", "x", `[1]`, "not a JSON object"},
		{"bad json", "r", "x", `{"a":`, "not valid JSON"},
		{"empty type", "r", "", `{}`, "type is empty"},
		{"quote in run", `a"b`, "x", `{}`, "printable ASCII"},
		{"newline in type", "r", "a\nb", `{}`, "printable ASCII"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := NewWriter(nil)
			_, err := w.Append(t0, tt.run, tt.typ, json.RawMessage(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			// A refused event does not consume a sequence number.
			ev, err := w.Append(t0, "r", "ok", nil)
			if err != nil || ev.Seq != 1 {
				t.Fatalf("next append = %+v, %v", ev, err)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	good := writeLog(t, 6)
	ls := lines(good)
	join := func(parts ...string) []byte { return []byte(strings.Join(parts, "")) }
	var other bytes.Buffer
	ow := NewWriter(&other)
	ow.Append(t0, "run1", "tool.end", json.RawMessage(`{"x":1}`))
	tests := []struct {
		name     string
		log      []byte
		wantLine int // 0: must pass
		want     string
	}{
		{"intact", good, 0, ""},
		{"empty", nil, 0, ""},
		{"edited data", []byte(strings.Replace(string(good), `"name":"tool-3"`, `"name":"tool-X"`, 1)), 4, "hash mismatch"},
		{"edited type", []byte(strings.Replace(string(good), `"seq":2,"time":"2026-03-01T12:00:00.124456789Z","run_id":"run1","type":"tool.end"`, `"seq":2,"time":"2026-03-01T12:00:00.124456789Z","run_id":"run1","type":"tool.xxx"`, 1)), 2, "hash mismatch"},
		{"edited spacing", []byte(strings.Replace(string(good), `"turn":2,`, `"turn": 2,`, 1)), 3, "canonical form"},
		{"reordered", join(ls[0], ls[1], ls[3], ls[2], ls[4], ls[5]), 3, "found seq 4: lines are missing or out of order"},
		{"deleted middle", join(ls[0], ls[1], ls[3], ls[4], ls[5]), 3, "found seq 4: lines are missing"},
		{"deleted first", join(ls[1], ls[2]), 1, "found seq 2"},
		{"duplicated", join(ls[0], ls[1], ls[1]), 3, "found seq 2: lines are duplicated"},
		{"truncated last line", good[:len(good)-20], 6, "truncated"},
		{"truncated newline only", good[:len(good)-1], 6, "truncated"},
		{"wrong genesis", []byte(strings.Replace(ls[0], GenesisHash, strings.Repeat("1", 64), 1)), 1, "wrong genesis"},
		{"replaced line", join(ls[0], strings.Replace(ls[1], `"tool-1"`, `"tool-9"`, 1)), 2, "hash mismatch"},
		{"spliced from another log", join(other.String(), ls[1]), 2, "prev_hash does not match"},
		{"not json", []byte("hello\n"), 1, "not a valid event"},
		{"blank line", join(ls[0], "\n", ls[1]), 2, "not a valid event"},
		{"unknown member", []byte(strings.Replace(ls[0], `{"seq":1,`, `{"seq":1,"x":1,`, 1)), 1, "unknown field"},
		{"missing member", []byte(`{"seq":1,"time":"2026-03-01T12:00:00Z","run_id":"r","type":"t","prev_hash":"` + GenesisHash + `","data":{}}` + "\n"), 1, `missing "hash"`},
		{"uppercase hash", []byte(strings.Replace(ls[0], `"hash":"`, `"hash":"A`, 1)), 1, "hash is not 64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(bytes.NewReader(tt.log))
			if tt.wantLine == 0 {
				if err != nil {
					t.Fatalf("Verify = %v, want nil", err)
				}
				return
			}
			var ve *VerifyError
			if !errors.As(err, &ve) {
				t.Fatalf("Verify = %v, want *VerifyError", err)
			}
			if ve.Line != tt.wantLine || !strings.Contains(ve.Error(), tt.want) {
				t.Fatalf("Verify = %v, want line %d and %q", err, tt.wantLine, tt.want)
			}
		})
	}
}

func TestVerifyLongLine(t *testing.T) {
	big := bytes.Repeat([]byte("x"), MaxLineBytes+10)
	err := Verify(bytes.NewReader(big))
	if err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Fatalf("Verify = %v", err)
	}
}

func TestOpenFileResumesChain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	for round := 0; round < 3; round++ {
		w, err := OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2; i++ {
			ev, err := w.Append(t0, fmt.Sprint("run", round), "e", nil)
			if err != nil {
				t.Fatal(err)
			}
			if want := uint64(round*2 + i + 1); ev.Seq != want {
				t.Fatalf("seq = %d, want %d", ev.Seq, want)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Append(t0, "r", "e", nil); err == nil {
			t.Fatal("append after close succeeded")
		}
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sum, err := Check(f)
	if err != nil || sum.Events != 6 {
		t.Fatalf("Check = %+v, %v", sum, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %v", fi.Mode())
	}
}

func TestOpenFileRefusesTamperedLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	good := writeLog(t, 3)
	bad := strings.Replace(string(good), "tool-1", "tool-7", 1)
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := OpenFile(path)
	var ve *VerifyError
	if !errors.As(err, &ve) || ve.Line != 2 || !strings.Contains(err.Error(), path) {
		t.Fatalf("OpenFile = %v, want a VerifyError for line 2 naming the file", err)
	}
}

func TestWriterConcurrent(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				if _, err := w.Append(time.Now(), fmt.Sprint("g", g), "e", json.RawMessage(`{"i":1}`)); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	sum, err := Check(&buf)
	if err != nil || sum.Events != 400 {
		t.Fatalf("Check = %d events, %v", sum.Events, err)
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("disk full")
	}
	f.n--
	return len(p), nil
}

func TestWriteErrorIsSticky(t *testing.T) {
	w := NewWriter(&failWriter{n: 1})
	if _, err := w.Append(t0, "r", "a", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Append(t0, "r", "b", nil); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v", err)
	}
	if _, err := w.Append(t0, "r", "c", nil); err == nil || !strings.Contains(err.Error(), "seq 2") {
		t.Fatalf("err after failure = %v", err)
	}
}

func TestFormat(t *testing.T) {
	long := strings.Repeat("y", 200)
	ev := Event{Seq: 7, Time: t0, RunID: "3f2a9c1e77aa", Type: "tool.end",
		Data: json.RawMessage(`{"name":"wordcount","ms":3,"note":"two words","output":{"words":12},"big":"` + long + `"}`)}
	got := Format(ev)
	want := `12:00:00.123 run 3f2a9c1e #7 tool.end name=wordcount ms=3 note="two words" output={"words":12} big=` + strings.Repeat("y", 79) + "…"
	if got != want {
		t.Fatalf("Format\n got %s\nwant %s", got, want)
	}
	var buf bytes.Buffer
	StreamTo(&buf)(Event{Seq: 1, Time: t0, RunID: "r", Type: "run.end", Data: json.RawMessage(`{}`)})
	if buf.String() != "12:00:00.123 run r #1 run.end\n" {
		t.Fatalf("StreamTo wrote %q", buf.String())
	}
}

func FuzzVerify(f *testing.F) {
	good := writeLog(f, 3)
	f.Add(good)
	f.Add(good[:len(good)-5])
	f.Add([]byte(strings.Replace(string(good), "tool-1", "tool-2", 1)))
	f.Add([]byte("{}\n"))
	f.Add([]byte(`{"seq":1,"time":"x","run_id":"","type":"t","prev_hash":"","data":[],"hash":""}` + "\n"))
	f.Add([]byte("\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if Verify(bytes.NewReader(data)) != nil {
			return
		}
		// Whatever verifies must be exactly what a Writer produces for the
		// same events.
		var buf bytes.Buffer
		w := NewWriter(&buf)
		for _, l := range lines(data) {
			ev, err := parseLine([]byte(l[:len(l)-1]))
			if err != nil {
				t.Fatalf("verified line does not parse: %v", err)
			}
			if _, err := w.Append(ev.Time, ev.RunID, ev.Type, ev.Data); err != nil {
				t.Fatalf("verified event does not append: %v", err)
			}
		}
		if !bytes.Equal(buf.Bytes(), data) {
			t.Fatalf("rewritten log differs:\n%s\n%s", buf.Bytes(), data)
		}
	})
}

// BenchmarkAppend measures the hash-chain cost per event: canonical encoding,
// SHA-256, hex, and the write to an in-memory sink.
func BenchmarkAppend(b *testing.B) {
	w := NewWriter(discard{})
	data := json.RawMessage(`{"turn":3,"id":"call_3_0","name":"wordcount","ms":2,"output":{"words":12,"lines":3}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := w.Append(t0, "3f2a9c1e77aa4b01", "tool.end", data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSHA256Line is the floor under BenchmarkAppend: SHA-256 of a
// canonical line of the same size, to read Append's numbers on a noisy machine.
func BenchmarkSHA256Line(b *testing.B) {
	w := NewWriter(nil)
	ev, _ := w.Append(t0, "3f2a9c1e77aa4b01", "tool.end", json.RawMessage(`{"turn":3,"id":"call_3_0","name":"wordcount","ms":2,"output":{"words":12,"lines":3}}`))
	line := []byte(fmt.Sprintf(`{"seq":1,"time":"%s","run_id":"%s","type":"%s","prev_hash":"%s","data":%s}`, ev.Time.Format(time.RFC3339Nano), ev.RunID, ev.Type, ev.PrevHash, ev.Data))
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		sha256.Sum256(line)
	}
}

func BenchmarkVerify(b *testing.B) {
	log := writeLog(b, 1000)
	b.ReportAllocs()
	for b.Loop() {
		if err := Verify(bytes.NewReader(log)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/event")
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// FuzzCompactObject holds the fast path to encoding/json: compactObject
// accepts exactly the objects that are valid and already compact.
func FuzzCompactObject(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"a":1}`, `{"a":[1,2,{"b":null}],"c":"x\"y\\u00e9"}`, `{"a":-0.5e+10}`, `{"a":true,"b":false}`,
		`{ }`, `{"a": 1}`, `[]`, `{"a":01}`, `{"a":1.}`, `{"a":"\x01"}`, `{"a":"\q"}`, `{"a":1,}`, `{"a"}`,
		`{"a":tru}`, `{"a":[}`, `{"a":1}}`, `{"a":"\u12"}`, "{\"a\":\"\xff\"}", `{"a":1e}`, `{"a":-}`, `{"":[[[]]]}`,
		strings.Repeat(`{"a":`, 10001) + "1" + strings.Repeat("}", 10001),
		strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got := compactObject(data)
		var c bytes.Buffer
		want := json.Valid(data) && len(data) > 0 && data[0] == '{' && json.Compact(&c, data) == nil && bytes.Equal(c.Bytes(), data)
		if got != want {
			t.Fatalf("compactObject(%q) = %v, encoding/json says %v", data, got, want)
		}
	})
}
