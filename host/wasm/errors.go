package wasm

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tetratelabs/wazero/sys"

	"github.com/skillsdev/skills/sdk/wire"
)

// abiFault is what a host function panics with when the guest breaks the
// ABI (a pointer outside its memory, an unknown kind). wazero turns the
// panic into the guest call's error; the host never crashes on it.
func abiFault(msg string) *wire.Error {
	return &wire.Error{Code: wire.CodeInternal, Message: "ABI violation: " + msg}
}

// ctxError is the error of a call whose context is done.
func ctxError(ctx context.Context, skill string) *wire.Error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &wire.Error{Code: wire.CodeTimeout, Skill: skill, Message: "deadline exceeded"}
	}
	return &wire.Error{Code: wire.CodeCanceled, Skill: skill, Message: "call canceled"}
}

// failure classifies an error from a guest export (or from instantiation)
// and marks the instance broken: after a trap, an exit, a refused grow or an
// interrupted call its state cannot be trusted.
func (inst *instance) failure(ctx context.Context, err error, op string) *wire.Error {
	inst.broken = true
	name := inst.s.name
	inst.s.log.Debug("wasm: guest call failed", "skill", name, "op", op, "err", err)

	var we *wire.Error
	if errors.As(err, &we) { // raised by a host function: an ABI fault or a closed skill
		e := *we
		if e.Skill == "" {
			e.Skill = name
		}
		return &e
	}
	if inst.mem.refused {
		return &wire.Error{Code: wire.CodeMemoryLimit, Skill: name,
			Message: fmt.Sprintf("memory cap %s reached", formatBytes(inst.mem.limit))}
	}
	var exit *sys.ExitError
	isExit := errors.As(err, &exit)
	switch {
	case errors.Is(err, context.DeadlineExceeded),
		isExit && exit.ExitCode() == sys.ExitCodeDeadlineExceeded:
		return &wire.Error{Code: wire.CodeTimeout, Skill: name, Message: "deadline exceeded; the guest was stopped"}
	case errors.Is(err, context.Canceled),
		isExit && exit.ExitCode() == sys.ExitCodeContextCanceled:
		return &wire.Error{Code: wire.CodeCanceled, Skill: name, Message: "call canceled; the guest was stopped"}
	case ctx.Err() != nil && isExit && exit.ExitCode() == 0:
		// The runtime was closed under the call by WithCloseOnContextDone.
		return ctxError(ctx, name)
	}
	// wazero's message is "wasm error: <what>\nwasm stack trace: ...": the
	// first line says what happened, the trace is in the debug log. A Go
	// guest that panics prints why to stderr, then traps or exits: the
	// panic line is what the caller wants to read.
	what, _, _ := strings.Cut(err.Error(), "\n")
	if isExit {
		what = fmt.Sprintf("exit code %d", exit.ExitCode())
	}
	msg := what
	if reason, last := inst.stderr.explain(); reason != "" {
		msg = reason + " (" + what + ")"
	} else if isExit && last != "" {
		msg = what + ": " + last
	}
	return &wire.Error{Code: wire.CodeTrap, Skill: name, Message: op + ": " + msg}
}

func formatBytes(n uint64) string {
	switch {
	case n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
