package wasm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skillsdev/skills/host/engine"
	w "github.com/skillsdev/skills/host/wasm/internal/wasmtest"
	"github.com/skillsdev/skills/sdk/wire"
)

// newEngine makes an engine on the run's shared compilation cache and
// closes it when the test ends.
func newEngine(t testing.TB, o Options) *Engine {
	t.Helper()
	if o.CacheDir == "" {
		o.CacheDir = cacheDir
	}
	e, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(context.Background()); err != nil {
			t.Errorf("engine close: %v", err)
		}
	})
	return e
}

// load loads a test guest by name, or a module at a path.
func load(t testing.TB, e *Engine, guest string, host engine.Callbacks) engine.Skill {
	t.Helper()
	path := guests[guest]
	if path == "" {
		path = guest
	}
	s, err := e.Load(context.Background(), engine.Spec{Name: strings.TrimSuffix(filepath.Base(path), ".wasm"), Artifact: path, Callbacks: host})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// call calls s and returns its output, or its error as a *wire.Error (the
// test fails if the error is of any other type).
func call(t testing.TB, ctx context.Context, s engine.Skill, input string) (string, *wire.Error) {
	t.Helper()
	out, err := s.Call(ctx, []byte(input))
	if err == nil {
		return string(out), nil
	}
	var we *wire.Error
	if !errors.As(err, &we) {
		t.Fatalf("Call error %v is a %T, not a *wire.Error", err, err)
	}
	return "", we
}

func mustCall(t testing.TB, s engine.Skill, input, want string) {
	t.Helper()
	got, werr := call(t, context.Background(), s, input)
	if werr != nil {
		t.Fatalf("Call(%s): %v", input, werr)
	}
	if got != want {
		t.Fatalf("Call(%s) = %s, want %s", input, got, want)
	}
}

// chainKey marks a test's context, so a callback can prove it got the
// context of the call it serves.
type chainKey struct{}

// testHost is a small real Callbacks: a few tools with typed failures, and
// skills that are other loaded wasm skills.
type testHost struct {
	mu     sync.Mutex
	skills map[string]engine.Skill
	logs   []string
}

func (h *testHost) CallTool(ctx context.Context, name string, input []byte) ([]byte, error) {
	switch name {
	case "upper":
		var s string
		if err := json.Unmarshal(input, &s); err != nil {
			return nil, &wire.Error{Code: wire.CodeInvalidInput, Skill: name, Message: err.Error()}
		}
		return json.Marshal(strings.ToUpper(s))
	case "denied":
		return nil, &wire.Error{Code: wire.CodeToolDenied, Skill: name, Message: "not in allowed-tools", Chain: []string{"callback"}}
	case "broken":
		return nil, errors.New("disk unplugged")
	case "chain":
		return json.Marshal(ctx.Value(chainKey{}))
	case "deadline":
		d, ok := ctx.Deadline()
		if !ok {
			return []byte("0"), nil
		}
		return json.Marshal(d.UnixNano())
	}
	return nil, &wire.Error{Code: wire.CodeNotFound, Skill: name, Message: "no such tool"}
}

func (h *testHost) CallSkill(ctx context.Context, name string, input []byte) ([]byte, error) {
	if name == "self" {
		return nil, &wire.Error{Code: wire.CodeCycle, Skill: "callback", Message: "already on the chain", Chain: []string{"callback", "callback"}}
	}
	h.mu.Lock()
	s := h.skills[name]
	h.mu.Unlock()
	if s == nil {
		return nil, &wire.Error{Code: wire.CodeNotFound, Skill: name, Message: "no such skill"}
	}
	return s.Call(ctx, input)
}

func (h *testHost) Log(ctx context.Context, level slog.Level, msg string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.logs = append(h.logs, fmt.Sprintf("%s %s %v", level, msg, ctx.Value(chainKey{})))
}

func TestEcho(t *testing.T) {
	e := newEngine(t, Options{})
	s := load(t, e, "echo", nil)
	big := `"` + strings.Repeat("x", 1<<20) + `"`
	tests := []struct {
		name, input string
	}{
		{"object", `{"a":1,"b":[true,null]}`},
		{"string", `"héllo"`},
		{"empty", ``},
		{"1 MiB", big},
		{"after big", `1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { mustCall(t, s, tt.input, tt.input) })
	}
}

func TestCallbacks(t *testing.T) {
	e := newEngine(t, Options{})
	host := &testHost{skills: map[string]engine.Skill{}}
	s := load(t, e, "callback", host)
	host.skills["echo"] = load(t, e, "echo", nil)

	deadline := time.Now().Add(time.Hour).Round(0)
	tests := []struct {
		name     string
		input    string
		want     string
		wantCode wire.Code
		check    func(t *testing.T, e *wire.Error)
	}{
		{name: "tool", input: `{"op":"tool","name":"upper","input":"abc"}`, want: `{"got":["ABC"]}`},
		{name: "tool many times", input: `{"op":"tool","name":"upper","input":"a","times":3}`, want: `{"got":["A","A","A"]}`},
		{name: "skill", input: `{"op":"skill","name":"echo","input":{"deep":[1,2]}}`, want: `{"got":[{"deep":[1,2]}]}`},
		{name: "context travels", input: `{"op":"tool","name":"chain"}`, want: `{"got":["outer/callback"]}`},
		{name: "deadline travels", input: `{"op":"tool","name":"deadline"}`, want: fmt.Sprintf(`{"got":[%d]}`, deadline.UnixNano())},
		{name: "log", input: `{"op":"log","name":"hello from the guest"}`, want: `{"got":["logged"]}`},
		{name: "typed tool error", input: `{"op":"tool","name":"denied"}`, wantCode: wire.CodeToolDenied, check: func(t *testing.T, e *wire.Error) {
			if e.Skill != "denied" || e.Message != "not in allowed-tools" || len(e.Chain) != 1 {
				t.Errorf("error lost its fields: %+v", e)
			}
		}},
		{name: "plain tool error", input: `{"op":"tool","name":"broken"}`, wantCode: wire.CodeInternal, check: func(t *testing.T, e *wire.Error) {
			if e.Message != "disk unplugged" {
				t.Errorf("message = %q", e.Message)
			}
		}},
		{name: "unknown tool", input: `{"op":"tool","name":"nope"}`, wantCode: wire.CodeNotFound},
		{name: "unknown skill", input: `{"op":"skill","name":"nope"}`, wantCode: wire.CodeNotFound},
		{name: "cycle", input: `{"op":"skill","name":"self"}`, wantCode: wire.CodeCycle, check: func(t *testing.T, e *wire.Error) {
			if strings.Join(e.Chain, ",") != "callback,callback" {
				t.Errorf("chain = %v", e.Chain)
			}
		}},
		{name: "bad input", input: `[`, wantCode: wire.CodeInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithDeadline(context.WithValue(context.Background(), chainKey{}, "outer/callback"), deadline)
			defer cancel()
			got, werr := call(t, ctx, s, tt.input)
			if tt.wantCode == "" {
				if werr != nil || got != tt.want {
					t.Fatalf("got %s, %v; want %s", got, werr, tt.want)
				}
				return
			}
			if werr == nil {
				t.Fatalf("got %s, want a %s error", got, tt.wantCode)
			}
			if !errors.Is(werr, &wire.Error{Code: tt.wantCode}) {
				t.Fatalf("error %v, want code %s", werr, tt.wantCode)
			}
			if tt.check != nil {
				tt.check(t, werr)
			}
		})
	}
	host.mu.Lock()
	defer host.mu.Unlock()
	if len(host.logs) != 1 || host.logs[0] != "WARN hello from the guest outer/callback" {
		t.Errorf("logs = %q", host.logs)
	}
}

func TestHandlerErrors(t *testing.T) {
	e := newEngine(t, Options{})
	s := load(t, e, "errcode", nil)
	tests := []struct {
		input string
		want  wire.Error
	}{
		{`"custom"`, wire.Error{Code: "quota_exceeded", Skill: "errcode", Message: "used 11 of 10"}},
		{`"plain"`, wire.Error{Code: wire.CodeHandler, Skill: "errcode", Message: "disk on fire"}},
	}
	for _, tt := range tests {
		t.Run(tt.input, func(t *testing.T) {
			_, werr := call(t, context.Background(), s, tt.input)
			if werr == nil || werr.Code != tt.want.Code || werr.Message != tt.want.Message || werr.Skill != tt.want.Skill {
				t.Fatalf("error = %+v, want %+v", werr, tt.want)
			}
		})
	}
	mustCall(t, s, `"ok"`, `"fine"`)
}

func TestTraps(t *testing.T) {
	e := newEngine(t, Options{})
	s := load(t, e, "trap", nil)
	tests := []struct {
		input, want string
	}{
		{`"nil"`, "nil pointer dereference"},
		{`"panic"`, "panic: boom"},
		{`"unreachable"`, "unreachable"},
	}
	for _, tt := range tests {
		t.Run(tt.input, func(t *testing.T) {
			_, werr := call(t, context.Background(), s, tt.input)
			if werr == nil || werr.Code != wire.CodeTrap || !strings.Contains(werr.Message, tt.want) {
				t.Fatalf("error = %v, want a trap mentioning %q", werr, tt.want)
			}
			mustCall(t, s, `"ok"`, `"fine"`)
		})
	}
}

// TestRunaway checks that a guest that never returns is stopped at its
// call's deadline, with both ways of stopping it, and that the skill keeps
// working.
func TestRunaway(t *testing.T) {
	for _, mode := range []string{"meter", "wazero"} {
		t.Run(mode, func(t *testing.T) {
			e := newEngine(t, Options{WazeroChecks: mode == "wazero"})
			s := load(t, e, "loop", nil)
			if got := s.(*skill).metered; got != (mode == "meter") {
				t.Fatalf("metered = %v", got)
			}
			tests := []struct {
				input  string
				cancel bool
				want   wire.Code
			}{
				{`"spin"`, false, wire.CodeTimeout},
				{`"sleep"`, false, wire.CodeTimeout},
				{`"spin"`, true, wire.CodeCanceled},
			}
			for _, tt := range tests {
				t.Run(fmt.Sprintf("%s cancel=%v", tt.input, tt.cancel), func(t *testing.T) {
					var ctx context.Context
					var cancel context.CancelFunc
					if tt.cancel {
						ctx, cancel = context.WithCancel(context.Background())
						time.AfterFunc(100*time.Millisecond, cancel)
					} else {
						ctx, cancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
					}
					defer cancel()
					_, werr := call(t, ctx, s, tt.input)
					if werr == nil || werr.Code != tt.want {
						t.Fatalf("error = %v, want %s", werr, tt.want)
					}
					mustCall(t, s, `"ok"`, `"fine"`)
				})
			}
		})
	}
}

func TestMemoryLimit(t *testing.T) {
	tests := []struct {
		name          string
		engine, skill uint64
		want          string
	}{
		{"engine default", 48 << 20, 0, "memory cap 48 MiB reached"},
		{"skill's own", 0, 40 << 20, "memory cap 40 MiB reached"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEngine(t, Options{MemoryLimit: tt.engine})
			s, err := e.Load(context.Background(), engine.Spec{Name: "membomb", Artifact: guests["membomb"], MemoryLimit: tt.skill})
			if err != nil {
				t.Fatal(err)
			}
			_, werr := call(t, context.Background(), s, `"bomb"`)
			if werr == nil || werr.Code != wire.CodeMemoryLimit || werr.Message != tt.want {
				t.Fatalf("error = %v, want %s: %s", werr, wire.CodeMemoryLimit, tt.want)
			}
			mustCall(t, s, `"ok"`, `0`)
		})
	}
}

// abiModule writes a module that implements the ABI by hand, each part
// replaceable, for the failures no Go guest would produce.
type abiModule struct {
	version  int32
	skip     string   // an export to leave out
	callType []byte   // skill_call's results, when not i64
	init     []byte   // skill_init's code
	call     []byte   // skill_call's code; by default it returns the result at 2048
	data     string   // the bytes at 2048: a status byte and JSON
	imports  []string // "module/name", all of type (i32 x5) -> i32
	memPages uint32
}

func (a abiModule) bytes() []byte {
	if a.version == 0 {
		a.version = wire.ABIVersion
	}
	if a.memPages == 0 {
		a.memPages = 1
	}
	if a.data == "" {
		a.data = "\x00\"hi\""
	}
	if a.call == nil {
		a.call = w.I64Const(2048<<32 | int64(len(a.data)))
	}
	callResults := []byte{w.I64}
	if a.callType != nil {
		callResults = a.callType
	}
	n := uint32(len(a.imports))
	var imports [][]byte
	for _, imp := range a.imports {
		mod, name, _ := strings.Cut(imp, "/")
		imports = append(imports, w.ImportFunc(mod, name, 5))
	}
	var exports [][]byte
	for i, name := range []string{wire.ExportABIVersion, wire.ExportInit, wire.ExportAlloc, wire.ExportFree, wire.ExportCall} {
		if name != a.skip {
			exports = append(exports, w.Export(name, w.KindFunc, n+uint32(i)))
		}
	}
	exports = append(exports, w.Export("memory", w.KindMemory, 0))
	secs := [][]byte{
		w.Section(w.SecType,
			w.FuncType(nil, []byte{w.I32}),                                       // 0 version
			w.FuncType(nil, nil),                                                 // 1 init
			w.FuncType([]byte{w.I32}, []byte{w.I32}),                             // 2 alloc
			w.FuncType([]byte{w.I32}, nil),                                       // 3 free
			w.FuncType([]byte{w.I32, w.I32}, callResults),                        // 4 call
			w.FuncType([]byte{w.I32, w.I32, w.I32, w.I32, w.I32}, []byte{w.I32}), // 5 skills.call
		),
	}
	if len(imports) > 0 {
		secs = append(secs, w.Section(w.SecImport, imports...))
	}
	secs = append(secs,
		w.Section(w.SecFunction, w.U32(0), w.U32(1), w.U32(2), w.U32(3), w.U32(4)),
		w.Section(w.SecMemory, w.Memory(a.memPages)),
		w.Section(w.SecExport, exports...),
		w.Section(w.SecCode,
			w.Body(nil, w.I32Const(a.version)),
			w.Body(nil, a.init),
			w.Body(nil, w.I32Const(1024)),
			w.Body(nil),
			w.Body(nil, a.call),
		),
		w.Section(w.SecData, w.Cat(w.U32(0), w.I32Const(2048), w.End, w.Name(a.data))),
	)
	return w.Module(secs...)
}

func writeModule(t testing.TB, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name+".wasm")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadErrors(t *testing.T) {
	e := newEngine(t, Options{MemoryLimit: 16 << 20})
	garbage := []byte("this is not a wasm module, just text")
	sum := sha256.Sum256(garbage)
	echo, err := os.ReadFile(guests["echo"])
	if err != nil {
		t.Fatal(err)
	}
	echoSum := sha256.Sum256(echo)
	tests := []struct {
		name    string
		module  []byte
		path    string // instead of module
		code    []byte // engine.Spec.Code
		sha256  string
		want    string // "" for success
		wantErr error
	}{
		{name: "good hash", path: guests["echo"], sha256: hex.EncodeToString(echoSum[:])},
		{name: "good hash upper case", path: guests["echo"], sha256: strings.ToUpper(hex.EncodeToString(echoSum[:]))},
		// A garbage module with a wrong hash fails on the hash, not on
		// compilation: nothing is compiled before the hash matches.
		{name: "bad hash", module: garbage, sha256: strings.Repeat("0", 64), want: "sha256 is " + hex.EncodeToString(sum[:]), wantErr: ErrDigestMismatch},
		{name: "bad hash of a good module", path: guests["echo"], sha256: hex.EncodeToString(sum[:]), wantErr: ErrDigestMismatch},
		// The caller's bytes and digest are used as they are: the file
		// is not read again (here it does not even exist).
		{name: "code with its digest", path: filepath.Join(t.TempDir(), "gone.wasm"), code: echo, sha256: hex.EncodeToString(echoSum[:])},
		{name: "code without a digest", path: filepath.Join(t.TempDir(), "gone.wasm"), code: echo, want: "read artifact"},
		{name: "garbage", module: garbage, want: "compile"},
		{name: "missing file", path: filepath.Join(t.TempDir(), "nope.wasm"), want: "read artifact"},
		{name: "hand-made ok", module: abiModule{}.bytes()},
		{name: "missing export", module: abiModule{skip: wire.ExportInit}.bytes(), want: `lacks export "skill_init"`},
		{name: "missing call export", module: abiModule{skip: wire.ExportCall}.bytes(), want: `lacks export "skill_call"`},
		{name: "wrong export type", module: abiModule{callType: []byte{w.I32}, call: w.I32Const(0)}.bytes(), want: `export "skill_call" has type (i32, i32) -> (i32), want (i32, i32) -> (i64)`},
		{name: "unknown import", module: abiModule{imports: []string{"env/abort"}}.bytes(), want: "imports env.abort, which the host does not provide"},
		{name: "unknown host function", module: abiModule{imports: []string{"skills/exec"}}.bytes(), want: "imports skills.exec"},
		{name: "reserved import", module: abiModule{imports: []string{"skills.internal/tick"}}.bytes(), want: "imports skills.internal.tick: that module is reserved for the host"},
		{name: "other ABI version", module: abiModule{version: 2}.bytes(), want: "skill ABI version 2"},
		{name: "memory above cap", module: abiModule{memPages: 512}.bytes(), want: "needs 32 MiB of memory at start, above its cap of 16 MiB"},
		{name: "init traps", module: abiModule{init: w.Unreachable}.bytes(), want: "skill_init: wasm error: unreachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path
			if path == "" {
				path = writeModule(t, "m", tt.module)
			}
			s, err := e.Load(context.Background(), engine.Spec{Name: "m", Artifact: path, SHA256: tt.sha256, Code: tt.code})
			if tt.want == "" && tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if err := s.Close(context.Background()); err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("Load succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "load m: ") {
				t.Errorf("error %q, want it to start with \"load m: \" and mention %q", err, tt.want)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v does not wrap %v", err, tt.wantErr)
			}
		})
	}
}

// TestABIViolations loads hand-made modules that break the ABI at call time:
// the host reports CodeInternal, throws the instance away, and survives.
func TestABIViolations(t *testing.T) {
	e := newEngine(t, Options{})
	// skill_call that calls skills.call (function 0) with a name pointer
	// past the end of memory.
	badHostPtr := w.Cat(w.I32Const(0), w.I32Const(-256), w.I32Const(100), w.I32Const(0), w.I32Const(0), w.Call(0), w.Drop,
		w.I64Const(2048<<32|5))
	tests := []struct {
		name string
		mod  abiModule
		want string
	}{
		{"result outside memory", abiModule{call: w.I64Const(-1)}, "outside guest memory"},
		{"empty result", abiModule{call: w.I64Const(2048 << 32)}, "outside guest memory or empty"},
		{"unknown status", abiModule{data: "\x07{}"}, "unknown status 7"},
		{"malformed error", abiModule{data: "\x01nope"}, "malformed error"},
		{"error without code", abiModule{data: "\x01{\"message\":\"m\"}"}, "malformed error"},
		{"bad pointer to host", abiModule{imports: []string{"skills/call"}, call: badHostPtr}, "call: name or input lies outside guest memory"},
		{"trap in call", abiModule{call: w.Cat(w.Unreachable)}, "wasm error: unreachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := load(t, e, writeModule(t, "m", tt.mod.bytes()), &testHost{})
			defer s.Close(context.Background())
			for i := 0; i < 2; i++ { // the second call runs on a fresh instance
				_, werr := call(t, context.Background(), s, `{}`)
				if werr == nil || !strings.Contains(werr.Message, tt.want) {
					t.Fatalf("call %d: error %v, want one mentioning %q", i, werr, tt.want)
				}
			}
		})
	}
	s := load(t, e, writeModule(t, "ok", abiModule{}.bytes()), nil)
	mustCall(t, s, `{}`, `"hi"`)
}

// TestConcurrentCalls runs many callers on few instances, mixing calls that
// trap (and so replace their instance) with calls that succeed.
func TestConcurrentCalls(t *testing.T) {
	e := newEngine(t, Options{MaxInstances: 3})
	echo := load(t, e, "echo", nil)
	trap := load(t, e, "trap", nil)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				in := fmt.Sprintf(`{"g":%d,"i":%d}`, g, i)
				out, err := echo.Call(context.Background(), []byte(in))
				if err != nil || string(out) != in {
					errs <- fmt.Errorf("echo %s = %s, %v", in, out, err)
					return
				}
				mode, want := `"ok"`, wire.Code("")
				if i%10 == 0 {
					mode, want = `"panic"`, wire.CodeTrap
				}
				_, err = trap.Call(context.Background(), []byte(mode))
				if got := wire.AsError(err); (got == nil) != (want == "") || (got != nil && got.Code != want) {
					errs <- fmt.Errorf("trap %s: %v", mode, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := echo.(*skill).idleCount(); n > 3 {
		t.Errorf("%d idle instances, more than MaxInstances", n)
	}
}

func TestWarm(t *testing.T) {
	e := newEngine(t, Options{MaxInstances: 2})
	s := load(t, e, "echo", nil).(*skill)
	for i := 0; i < 3; i++ {
		if err := s.Warm(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.idleCount(); n != 2 {
		t.Errorf("%d idle instances after Warm, want 2 (MaxInstances)", n)
	}
	mustCall(t, s, `1`, `1`)
}

// TestClose checks that Close stops a running call once its context is
// done, releases every instance, and that closed skills and engines refuse
// work.
func TestClose(t *testing.T) {
	e, err := New(context.Background(), Options{CacheDir: cacheDir})
	if err != nil {
		t.Fatal(err)
	}
	loop := load(t, e, "loop", nil).(*skill)
	echo := load(t, e, "echo", nil).(*skill)

	done := make(chan *wire.Error)
	go func() {
		_, err := loop.Call(context.Background(), []byte(`"spin"`)) // no deadline
		done <- wire.AsError(err)
	}()
	for len(loop.sem) == 0 { // wait until the call holds its instance
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := loop.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if werr := <-done; werr == nil || werr.Code != wire.CodeCanceled {
		t.Fatalf("running call ended with %v, want %s", werr, wire.CodeCanceled)
	}
	if _, werr := call(t, context.Background(), loop, `"ok"`); werr == nil || werr.Code != wire.CodeNotFound {
		t.Fatalf("call after Close: %v, want %s", werr, wire.CodeNotFound)
	}

	if err := e.Close(context.Background()); err != nil {
		t.Fatalf("engine Close: %v", err)
	}
	for _, s := range []*skill{loop, echo} {
		n := 0
		s.instances.Range(func(any, any) bool { n++; return true })
		if n != 0 || s.idleCount() != 0 {
			t.Errorf("%s: %d instances, %d idle after Close", s.name, n, s.idleCount())
		}
	}
	if _, werr := call(t, context.Background(), echo, `1`); werr == nil || werr.Code != wire.CodeNotFound {
		t.Fatalf("call after engine Close: %v", werr)
	}
	if _, err := e.Load(context.Background(), engine.Spec{Name: "echo", Artifact: guests["echo"]}); err == nil || !strings.Contains(err.Error(), "engine closed") {
		t.Fatalf("Load after Close: %v", err)
	}
	if err := e.Close(context.Background()); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestDoneContext checks that a call whose context is already done is
// refused with the matching code, without running the guest.
func TestDoneContext(t *testing.T) {
	e := newEngine(t, Options{})
	s := load(t, e, "echo", nil)
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	tests := []struct {
		name string
		ctx  context.Context
		want wire.Code
	}{
		{"canceled", canceled, wire.CodeCanceled},
		{"expired", expired, wire.CodeTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, werr := call(t, tt.ctx, s, `1`); werr == nil || werr.Code != tt.want {
				t.Fatalf("error = %v, want %s", werr, tt.want)
			}
		})
	}
	mustCall(t, s, `1`, `1`)
}

// TestGivenDigestNotTrustedForCache loads a module with a digest that is not
// its own (engine.Spec.Code with a wrong SHA256): the bytes given run, but
// the instrumented module is not filed under that digest, where a later
// load of the module that does have it would find the wrong code.
func TestGivenDigestNotTrustedForCache(t *testing.T) {
	e := newEngine(t, Options{})
	echo, err := os.ReadFile(guests["echo"])
	if err != nil {
		t.Fatal(err)
	}
	fake := strings.Repeat("ab", 32)
	s, err := e.Load(context.Background(), engine.Spec{Name: "m", Artifact: filepath.Join(t.TempDir(), "gone.wasm"), Code: echo, SHA256: fake})
	if err != nil {
		t.Fatal(err)
	}
	mustCall(t, s, `"x"`, `"x"`)
	if m, _ := filepath.Glob(filepath.Join(cacheDir, "metered", fake+"-*")); len(m) > 0 {
		t.Fatalf("instrumented module filed under a digest that is not its own: %v", m)
	}
}
