package resolver

import (
	"context"
	"testing"
)

func BenchmarkProfDisjoint(b *testing.B) {
	src, root := disjointVersionsN(300, 200)
	for b.Loop() {
		if _, err := Resolve(context.Background(), src, root, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
