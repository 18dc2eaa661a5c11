// Command compute is a CPU-heavy test skill: it counts the words of, and
// hashes (FNV-1a), a generated text of the requested size, so benchmarks can
// measure what the runaway-guest protection costs compiled code.
package main

import (
	"encoding/json"

	"github.com/skillsdev/skills/sdk"
)

func main() { sdk.Serve(compute) }

type params struct {
	Size   int `json:"size"`   // bytes of text; 1 MiB when 0
	Rounds int `json:"rounds"` // passes over the text; 1 when 0
}

type result struct {
	Words uint64 `json:"words"`
	Hash  uint64 `json:"hash"`
}

// text is generated once per instance and reused, so a call measures the
// counting, not the generation.
var text []byte

func compute(_ sdk.Context, input json.RawMessage) (any, error) {
	var p params
	if err := json.Unmarshal(input, &p); err != nil {
		return nil, sdk.Errorf(sdk.ErrInvalidInput.Code, "decode input: %v", err)
	}
	if p.Size <= 0 {
		p.Size = 1 << 20
	}
	if p.Rounds <= 0 {
		p.Rounds = 1
	}
	if len(text) != p.Size {
		text = generate(p.Size)
	}
	var r result
	for i := 0; i < p.Rounds; i++ {
		r = count(text)
	}
	return r, nil
}

// generate makes deterministic text: words of 1-8 letters separated by spaces.
func generate(n int) []byte {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := 0; i < n; {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		w := int(x%8) + 1
		for j := 0; j < w && i < n; j++ {
			b[i] = 'a' + byte((x>>(j*3))%26)
			i++
		}
		if i < n {
			b[i] = ' '
			i++
		}
	}
	return b
}

func count(b []byte) result {
	h := uint64(14695981039346656037)
	var words uint64
	in := false
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
		space := c == ' ' || c == '\n' || c == '\t'
		if !space && !in {
			words++
		}
		in = !space
	}
	return result{Words: words, Hash: h}
}
