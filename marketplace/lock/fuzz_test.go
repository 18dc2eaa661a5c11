package lock

import (
	"bytes"
	"testing"
)

func FuzzParse(f *testing.F) {
	good, _ := Encode(sample())
	f.Add(good)
	f.Add([]byte(`{"schema":1,"skills":{}}`))
	f.Add([]byte(`{"schema":1,"skills":{"a":null}}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := Parse("skills.lock", data)
		if err != nil {
			return
		}
		enc, err := Encode(l)
		if err != nil {
			t.Fatalf("parsed lock does not encode: %v", err)
		}
		l2, err := Parse("skills.lock", enc)
		if err != nil {
			t.Fatalf("encoded lock does not parse: %v", err)
		}
		enc2, _ := Encode(l2)
		if !bytes.Equal(enc, enc2) {
			t.Fatal("encoding not stable")
		}
	})
}
