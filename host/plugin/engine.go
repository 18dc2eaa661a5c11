// Package plugin runs plugin skills: native executables built with the skills
// SDK, run as hashicorp/go-plugin child processes and called over gRPC (the
// protocol is sdk/wire/pluginpb).
//
// Load copies the artifact into a private content-addressed store while
// hashing it, refuses it if the digest differs from the one the manifest or
// the marketplace pinned, and only ever executes that private copy.
// go-plugin's SecureConfig instead hashes the file and then executes it by
// path, so whoever can write the file can swap it between the check and the
// exec; a copy in a directory only this user can write closes that gap.
//
// A process starts on the first call, serves concurrent calls, and is killed
// with its whole process group on Close. A plugin that crashes fails the call
// it was running with CodeCrashed and is restarted by the next call; one that
// runs past a call's deadline is killed and replaced. On Linux a plugin also
// dies with the host (parent-death signal), so a crashed host leaves no
// orphans.
package plugin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/skillsdev/skills/host/engine"
)

// Options configures an Engine.
type Options struct {
	// StoreDir holds the private, content-addressed copies of plugin
	// binaries (for example $SKILLS_HOME/cache/plugins). It is created with
	// mode 0700 if missing and tightened to 0700 if not.
	StoreDir string
	// Logger receives plugin logs and go-plugin warnings; nil means
	// slog.Default().
	Logger *slog.Logger
}

// Engine loads plugin skills. It implements engine.Engine.
type Engine struct {
	store  string
	logger *slog.Logger

	mu     sync.Mutex
	skills map[*Skill]struct{}
	closed bool
}

var _ engine.Engine = (*Engine)(nil)

// New prepares the store directory.
func New(ctx context.Context, o Options) (*Engine, error) {
	if o.StoreDir == "" {
		return nil, errors.New("plugin engine: Options.StoreDir is empty")
	}
	store, err := filepath.Abs(o.StoreDir)
	if err != nil {
		return nil, fmt.Errorf("plugin engine: store %s: %w", o.StoreDir, err)
	}
	if err := os.MkdirAll(store, 0o700); err != nil {
		return nil, fmt.Errorf("plugin engine: store: %w", err)
	}
	// MkdirAll leaves an existing directory as it was; others must not be
	// able to replace a binary between its copy and its execution.
	if err := os.Chmod(store, 0o700); err != nil {
		return nil, fmt.Errorf("plugin engine: store: %w", err)
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.Default()
	}
	return &Engine{store: store, logger: logger, skills: map[*Skill]struct{}{}}, nil
}

// Load installs the artifact in the store (verifying spec.SHA256 when set)
// and returns the skill. The plugin does not start until its first call or
// Warm.
func (e *Engine) Load(ctx context.Context, spec engine.Spec) (engine.Skill, error) {
	name := spec.Name
	if name == "" {
		name = filepath.Base(spec.Artifact)
	}
	path, err := e.install(ctx, spec.Artifact, spec.SHA256, spec.Code)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", name, err)
	}
	logger := spec.Logger
	if logger == nil {
		logger = e.logger.With("skill", name)
	}
	s := &Skill{
		eng:   e,
		name:  name,
		cfg:   procConfig{name: name, artifact: spec.Artifact, path: path, callbacks: spec.Callbacks, logger: logger},
		procs: map[*process]struct{}{},
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, fmt.Errorf("load %s: the plugin engine is closed", name)
	}
	e.skills[s] = struct{}{}
	return s, nil
}

// Close closes every skill still loaded, killing their processes.
func (e *Engine) Close(ctx context.Context) error {
	e.mu.Lock()
	e.closed = true
	skills := make([]*Skill, 0, len(e.skills))
	for s := range e.skills {
		skills = append(skills, s)
	}
	e.mu.Unlock()
	var errs []error
	for _, s := range skills {
		errs = append(errs, s.Close(ctx))
	}
	return errors.Join(errs...)
}

// forget drops a closed skill.
func (e *Engine) forget(s *Skill) {
	e.mu.Lock()
	delete(e.skills, s)
	e.mu.Unlock()
}

// install returns the store path of the artifact's private copy, copying it
// there first if needed. With a pinned digest already in the store, the
// artifact is not read at all. The copy is written to a temporary file,
// hashed on the way, fsynced, made read-only and renamed into place, so the
// store never holds a partial or unverified binary.
//
// code, when not nil, is the artifact's content as the caller read it
// (engine.Spec.Code), copied instead of reading the file. It is hashed on
// the way all the same: a copy is made once per binary, and the store must
// never hold bytes under a name that is not their digest.
func (e *Engine) install(ctx context.Context, artifact, want string, code []byte) (string, error) {
	if want != "" && !isSHA256Hex(want) {
		return "", fmt.Errorf("expected sha256 %q is not 64 lowercase hex digits", want)
	}
	if want != "" {
		dst := filepath.Join(e.store, want)
		if fi, err := os.Lstat(dst); err == nil && fi.Mode().IsRegular() {
			return dst, nil
		}
	}
	var src io.Reader = bytes.NewReader(code)
	if code == nil {
		if artifact == "" {
			return "", errors.New("no artifact path")
		}
		f, err := os.Open(artifact)
		if err != nil {
			return "", fmt.Errorf("artifact: %w", err)
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return "", fmt.Errorf("artifact: %w", err)
		}
		if !fi.Mode().IsRegular() {
			return "", fmt.Errorf("artifact %s is not a regular file (%s)", artifact, fi.Mode().Type())
		}
		src = f
	}
	tmp, err := os.CreateTemp(e.store, ".tmp-*")
	if err != nil {
		return "", fmt.Errorf("store: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	defer tmp.Close()
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tmp, h), src); err != nil {
		return "", fmt.Errorf("copy %s into the store: %w", artifact, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if want != "" && sum != want {
		return "", fmt.Errorf("artifact %s has sha256 %s, but %s was expected: refusing to run it", artifact, sum, want)
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if err := tmp.Chmod(0o555); err != nil {
		return "", fmt.Errorf("store: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return "", fmt.Errorf("store: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("store: %w", err)
	}
	dst := filepath.Join(e.store, sum)
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", fmt.Errorf("store: %w", err)
	}
	// The rename is durable only once the directory is synced.
	if d, err := os.Open(e.store); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return dst, nil
}

func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
