// Package engine defines the contract between the host and a runtime that
// executes skills (host/wasm, host/plugin). The host owns policy (the call
// chain, depth, allowed tools, schemas); an engine only runs code and routes
// the skill's callbacks back to the host with the context of the call they
// belong to.
package engine

import (
	"context"
	"log/slog"
)

// Callbacks is how a running skill reaches back into the host. The ctx passed
// in is the context of the skill call being served, so it carries that call's
// chain and deadline; an engine must hand it through unchanged.
type Callbacks interface {
	CallTool(ctx context.Context, name string, input []byte) ([]byte, error)
	CallSkill(ctx context.Context, name string, input []byte) ([]byte, error)
	Log(ctx context.Context, level slog.Level, msg string)
}

// Spec is what an engine needs to load one skill.
type Spec struct {
	Name     string // the skill's name, for errors and logs
	Artifact string // path of the .wasm module or plugin binary
	// SHA256 is the expected lowercase hex digest of the artifact. When set,
	// an artifact with another digest is refused before any of it runs.
	SHA256 string
	// Code, when set, is the artifact's content as the caller read it, and
	// SHA256 is the digest the caller computed from these very bytes: the
	// engine uses them as they are, without reading or hashing the file
	// again (one read and one hash per load, and no gap between the check
	// and the use). Nil means read Artifact.
	Code        []byte
	MemoryLimit uint64 // bytes of guest memory (wasm) ; 0 means the engine default
	Callbacks   Callbacks
	Logger      *slog.Logger
}

// Engine loads skills of one runtime kind.
type Engine interface {
	// Load prepares a skill (compiles, hashes, copies) without necessarily
	// starting it. Errors name the artifact and the reason.
	Load(ctx context.Context, spec Spec) (Skill, error)
	// Close releases what the engine shares between skills (caches, runtimes).
	Close(ctx context.Context) error
}

// Skill is a loaded skill. Call is safe for concurrent use.
type Skill interface {
	// Call runs the skill's handler on input (JSON) and returns its output
	// (JSON). Failures are *wire.Error values: handler errors keep the code
	// the skill gave them; traps, timeouts and crashes get CodeTrap,
	// CodeTimeout, CodeCrashed. The skill stays usable after any failure.
	Call(ctx context.Context, input []byte) ([]byte, error)
	// Warm makes one real instantiation or spawn, so a reload can find a
	// broken artifact before it swaps the skill in.
	Warm(ctx context.Context) error
	// Close stops every instance or process of the skill.
	Close(ctx context.Context) error
}
