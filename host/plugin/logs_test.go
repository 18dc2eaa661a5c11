package plugin

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzLineWriter feeds a plugin's stderr (untrusted bytes, in arbitrary
// chunks) to the line splitter: every byte must come out in some line, in
// order, with no line longer than maxLine, and a panic line must be found.
func FuzzLineWriter(f *testing.F) {
	f.Add([]byte("panic: boom\ngoroutine 1 [running]:\n"), uint8(3))
	f.Add([]byte("no newline at all"), uint8(1))
	f.Add([]byte("\r\n\n\npanic: x\r\n"), uint8(0))
	f.Add(bytes.Repeat([]byte("y"), 3*maxLine+5), uint8(200))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		var lines []string
		w := &lineWriter{emit: func(l string) { lines = append(lines, l) }}
		fl := newFatalLine()
		size := int(chunk) + 1
		for rest := data; len(rest) > 0; {
			n := min(size, len(rest))
			if k, err := w.Write(rest[:n]); k != n || err != nil {
				t.Fatalf("Write = %d, %v; want %d, nil", k, err, n)
			}
			fl.Write(rest[:n])
			rest = rest[n:]
		}
		for _, l := range lines {
			if len(l) > maxLine+size {
				t.Fatalf("line of %d bytes, cap %d", len(l), maxLine)
			}
		}
		// Every emitted line is a piece of the input, in order.
		joined := strings.Join(lines, "")
		stripped := strings.NewReplacer("\r\n", "", "\n", "").Replace(string(data))
		if !strings.HasPrefix(strings.ReplaceAll(stripped, "\r", ""), strings.ReplaceAll(joined, "\r", "")) {
			t.Fatalf("lines %q are not the input %q in order", lines, data)
		}
		if want := bytes.HasPrefix(data, []byte("panic: ")) && bytes.IndexByte(data, '\n') > 0 && bytes.IndexByte(data, '\n') < maxLine; want && fl.get() == "" {
			t.Fatalf("panic line not found in %q", data)
		}
	})
}
