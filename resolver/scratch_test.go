package resolver

import (
	"context"
	"testing"
)

func TestScratch(t *testing.T) {
	cases := []struct{ reg, root string }{
		{`foo 1.0.0: bar ^1.0.0
bar 1.0.0
bar 2.0.0`, "foo ^1.0.0"},
		{`foo 1.1.0: bar ^2.0.0
foo 1.0.0
bar 1.0.0
bar 1.1.0
bar 2.0.0`, "foo ^1.0.0, bar ^1.0.0"},
		{`foo 2.0.0: bar ^1.0.0
foo 1.0.0
bar 1.0.0: foo ^1.0.0`, "foo >=1.0.0"},
		{`foo 1.1.0: left ^1.0.0, right ^1.0.0
foo 1.0.0
left 1.0.0: shared >=1.0.0
right 1.0.0: shared <2.0.0
shared 2.0.0
shared 1.0.0: target ^1.0.0
target 2.0.0
target 1.0.0`, "foo ^1.0.0, target ^2.0.0"},
		{`foo 1.0.0: bar ^2.0.0
bar 2.0.0: baz ^3.0.0
baz 1.0.0
baz 3.0.0`, "foo ^1.0.0, baz ^1.0.0"},
		{`foo 1.0.0: a ^1.0.0, b ^1.0.0
foo 1.1.0: x ^1.0.0, y ^1.0.0
a 1.0.0: b ^2.0.0
b 1.0.0
b 2.0.0
x 1.0.0: y ^2.0.0
y 1.0.0
y 2.0.0`, "foo ^1.0.0"},
		{``, "nosuch *"},
		{`a 1.0.0: c ^1
b 1.0.0: c ^2
c 1.0.0
c 2.0.0`, "a *, b *"},
	}
	for _, c := range cases {
		src := parseSource(t, c.reg)
		p, err := Resolve(context.Background(), src, mustReqs(t, c.root), Options{})
		if err != nil {
			t.Logf("ERR:\n%v\n", err)
		} else {
			t.Logf("OK: %s", planString(p))
		}
	}
}
