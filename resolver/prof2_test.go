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

func BenchmarkProfChain(b *testing.B) {
	src, root := chainMissing()
	for b.Loop() {
		Resolve(context.Background(), src, root, Options{})
	}
}

func TestCallgrindDisjoint(t *testing.T) {
	src, root := disjointVersionsN(100, 100)
	src2, root2 := disjointVersionsN(100, 100)
	_, _ = src2, root2
	if _, err := Resolve(context.Background(), src, root, Options{}); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkProfRandom(b *testing.B) {
	src, root := randomRegistry(2000, 20, 40, 42)
	for b.Loop() {
		Resolve(context.Background(), src, root, Options{})
	}
}

func BenchmarkProfSingletons(b *testing.B) {
	src, root := backtrackingSingletons()
	for b.Loop() {
		Resolve(context.Background(), src, root, Options{})
	}
}
