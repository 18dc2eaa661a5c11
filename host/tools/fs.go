package tools

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/skillsdev/skills/sdk/wire"
)

// workspace serves read_file and write_file. Every access goes through an
// os.Root opened on dir for that one call, so "..", absolute paths and
// symlinks that lead outside dir are refused by the kernel-backed resolution
// of os.Root rather than by string checks; the checks in cleanPath only give
// the common mistakes a clearer message. Symlinks that stay inside the
// workspace are followed. A root per call (one openat) keeps the tools free
// of handles to close and follows the directory if it is replaced.
type workspace struct {
	dir     string // absolute; empty when no workspace is configured
	maxRead int64
}

func (w workspace) readFileTool() Tool {
	const name = "read_file"
	return Tool{
		Name: name,
		Description: "Reads a file in the workspace. path is relative to the workspace. " +
			"Returns its content as text, or as base64 with encoding \"base64\" when the file is not UTF-8; " +
			"size is the file's full size and truncated is true when only the first max_bytes were returned.",
		InputSchema: json.RawMessage(`{"type":"object","properties":{` +
			`"path":{"type":"string","description":"file path relative to the workspace"},` +
			`"max_bytes":{"type":"integer","minimum":1,"description":"return at most this many bytes (capped by the host)"}},` +
			`"required":["path"],"additionalProperties":false}`),
		Run: func(ctx context.Context, input json.RawMessage) (json.RawMessage, error) {
			var in struct {
				Path     string `json:"path"`
				MaxBytes *int64 `json:"max_bytes"`
			}
			if err := decodeInput(name, input, &in); err != nil {
				return nil, err
			}
			limit, werr := maxBytes(name, in.MaxBytes, w.maxRead)
			if werr != nil {
				return nil, werr
			}
			return w.readFile(ctx, name, in.Path, limit)
		},
	}
}

// readOutput is read_file's answer.
type readOutput struct {
	Path      string `json:"path"`
	Content   string `json:"content"`
	Encoding  string `json:"encoding,omitempty"` // "base64" when the bytes are not UTF-8
	Size      int64  `json:"size"`               // size of the file, not of content
	Truncated bool   `json:"truncated,omitempty"`
}

func (w workspace) readFile(ctx context.Context, tool, path string, limit int64) (json.RawMessage, error) {
	clean, werr := w.cleanPath(tool, path)
	if werr != nil {
		return nil, werr
	}
	if err := ctx.Err(); err != nil {
		return nil, contextError(tool, err)
	}
	root, err := os.OpenRoot(w.dir)
	if err != nil {
		return nil, failed(tool, fmt.Sprintf("open workspace: %v", err))
	}
	defer root.Close()

	// Stat before Open: opening a FIFO for reading would block until a
	// writer appears, so only regular files are opened at all.
	fi, err := root.Stat(clean)
	if err != nil {
		return nil, fsError(tool, "read", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, failed(tool, fmt.Sprintf("read %q: not a regular file (%s)", path, describeMode(fi.Mode())))
	}
	f, err := root.Open(clean)
	if err != nil {
		return nil, fsError(tool, "read", path, err)
	}
	defer f.Close()
	// Stat the open file too: the size is reported from what was read.
	if fi, err = f.Stat(); err != nil {
		return nil, fsError(tool, "read", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, failed(tool, fmt.Sprintf("read %q: not a regular file (%s)", path, describeMode(fi.Mode())))
	}
	// One byte past the limit tells truncation apart from an exact fit even
	// if the file grows between Stat and read.
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fsError(tool, "read", path, err)
	}
	truncated := int64(len(data)) > limit
	if truncated {
		data = trimPartialRune(data[:limit])
	}
	content, enc := encodeText(data)
	return marshal(tool, readOutput{
		Path:      filepath.ToSlash(clean),
		Content:   content,
		Encoding:  enc,
		Size:      max(fi.Size(), int64(len(data))),
		Truncated: truncated,
	})
}

func (w workspace) writeFileTool() Tool {
	const name = "write_file"
	return Tool{
		Name: name,
		Description: "Writes text to a file in the workspace, creating parent directories. path is relative to the workspace. " +
			"The file is replaced atomically (other readers see the old or the new content, never a mix) unless append is true. " +
			"Returns the file's size afterwards.",
		InputSchema: json.RawMessage(`{"type":"object","properties":{` +
			`"path":{"type":"string","description":"file path relative to the workspace"},` +
			`"content":{"type":"string","description":"text to write"},` +
			`"append":{"type":"boolean","description":"append to the file instead of replacing it"}},` +
			`"required":["path","content"],"additionalProperties":false}`),
		Run: func(ctx context.Context, input json.RawMessage) (json.RawMessage, error) {
			var in struct {
				Path    string  `json:"path"`
				Content *string `json:"content"`
				Append  bool    `json:"append"`
			}
			if err := decodeInput(name, input, &in); err != nil {
				return nil, err
			}
			if in.Content == nil {
				return nil, invalid(name, "content: required (use \"\" for an empty file)")
			}
			return w.writeFile(ctx, name, in.Path, *in.Content, in.Append)
		},
	}
}

func (w workspace) writeFile(ctx context.Context, tool, path, content string, appendTo bool) (json.RawMessage, error) {
	clean, werr := w.cleanPath(tool, path)
	if werr != nil {
		return nil, werr
	}
	if err := ctx.Err(); err != nil {
		return nil, contextError(tool, err)
	}
	root, err := os.OpenRoot(w.dir)
	if err != nil {
		return nil, failed(tool, fmt.Sprintf("open workspace: %v", err))
	}
	defer root.Close()

	if dir := filepath.Dir(clean); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return nil, fsError(tool, "create directories for", path, err)
		}
	}
	var size int64
	if appendTo {
		size, err = appendFile(root, clean, content)
	} else {
		size, err = replaceFile(root, clean, content)
	}
	if err != nil {
		return nil, fsError(tool, "write", path, err)
	}
	return marshal(tool, struct {
		Path string `json:"path"`
		Size int64  `json:"size"`
	}{filepath.ToSlash(clean), size})
}

func appendFile(root *os.Root, name, content string) (int64, error) {
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return 0, err
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return 0, err
	}
	fi, err := f.Stat()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// replaceFile writes content to a temporary file beside name and renames it
// over name, so the file is never seen half written. The rename replaces a
// symlink at name with the new file rather than writing through it. An
// existing file's permission bits are kept.
func replaceFile(root *os.Root, name, content string) (int64, error) {
	perm, keepPerm := fs.FileMode(0o644), false
	if fi, err := root.Lstat(name); err == nil {
		if fi.IsDir() {
			return 0, errors.New("is a directory")
		}
		if fi.Mode().IsRegular() {
			perm, keepPerm = fi.Mode().Perm(), true
		}
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:]) // crypto/rand.Read never fails (Go 1.24+)
	tmp := filepath.Join(filepath.Dir(name), ".write_file-"+hex.EncodeToString(rnd[:])+".tmp")
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return 0, err
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			root.Remove(tmp)
		}
	}()
	if _, err := f.WriteString(content); err != nil {
		return 0, err
	}
	// The umask narrowed perm at creation; restore the bits the file had.
	// A new file keeps the umask's say.
	if keepPerm {
		if err := f.Chmod(perm); err != nil {
			return 0, err
		}
	}
	// Sync before rename: otherwise a crash can leave the new name pointing
	// at an empty file on some file systems.
	if err := f.Sync(); err != nil {
		return 0, err
	}
	if err := f.Close(); err != nil {
		return 0, err
	}
	if err := root.Rename(tmp, name); err != nil {
		root.Remove(tmp)
		ok = true // closed and removed already
		return 0, err
	}
	ok = true
	return int64(len(content)), nil
}

// cleanPath checks a path argument and returns it cleaned. os.Root is what
// actually confines the access; these checks only name the problem early.
func (w workspace) cleanPath(tool, path string) (string, *wire.Error) {
	if w.dir == "" {
		return "", denied(tool, "no workspace configured: the host gives file tools a workspace directory (Options.Workspace)")
	}
	switch {
	case path == "":
		return "", invalid(tool, "path: required")
	case strings.ContainsRune(path, 0):
		return "", invalid(tool, "path: contains a NUL byte")
	case filepath.IsAbs(path) || strings.HasPrefix(path, "/") || strings.HasPrefix(path, `\`):
		return "", denied(tool, fmt.Sprintf("path %q is absolute; give a path relative to the workspace", path))
	case !filepath.IsLocal(path):
		return "", denied(tool, fmt.Sprintf("path %q escapes the workspace", path))
	}
	return filepath.Clean(path), nil
}

// fsError classifies an error from os.Root. os.Root reports an escape (a
// symlink out of the workspace, "..") with an unexported error whose text is
// "path escapes from parent"; matching that text is the only way to tell it
// apart. Were the text ever to change, the access is still refused, only
// with CodeToolFailed instead of CodeToolDenied.
func fsError(tool, op, path string, err error) *wire.Error {
	switch {
	case strings.Contains(err.Error(), "path escapes from parent"):
		return denied(tool, fmt.Sprintf("path %q escapes the workspace (through a symlink or \"..\")", path))
	case errors.Is(err, fs.ErrNotExist):
		return failed(tool, fmt.Sprintf("%s %q: no such file or directory", op, path))
	case errors.Is(err, fs.ErrPermission):
		return failed(tool, fmt.Sprintf("%s %q: permission denied", op, path))
	}
	// A *PathError's text starts with the host-side op and path; the
	// underlying error is what the skill can use, under its own path.
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return failed(tool, fmt.Sprintf("%s %q: %v", op, path, err))
}

func describeMode(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return m.Type().String()
}
