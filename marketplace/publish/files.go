package publish

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/skillsdev/skills/sdk/manifest"
)

// excludedNames are build inputs and workspace files that never go into a
// package.
var excludedNames = map[string]bool{
	"go.mod": true, "go.sum": true, "go.work": true, "go.work.sum": true,
}

// excludedDirs are folders that hold sources, test inputs or vendored code.
var excludedDirs = map[string]bool{"testdata": true, "vendor": true}

// excludedExts are source and build-output extensions.
var excludedExts = []string{".go", ".wasm", ".test", ".exe", ".o", ".a", ".so", ".dylib", ".dll", ".prof"}

// binaryMagic are the first bytes of compiled programs: ELF, Mach-O (32/64
// bit, both byte orders, universal) and WebAssembly; isBinary also knows PE.
// A file that starts with one is a build output, whatever its name.
var binaryMagic = [][]byte{
	[]byte("\x7fELF"),
	{0xfe, 0xed, 0xfa, 0xce}, {0xfe, 0xed, 0xfa, 0xcf}, {0xce, 0xfa, 0xed, 0xfe}, {0xcf, 0xfa, 0xed, 0xfe}, {0xca, 0xfe, 0xba, 0xbe},
	[]byte("\x00asm"),
}

// Assets lists the files of the skill folder that go into its package
// besides the freshly built entry artifact, as sorted slash paths relative
// to the folder. The rule:
//
//   - SKILL.md is always included.
//   - Every other regular file in the folder and its sub-folders is
//     included as an asset, except:
//   - anything whose name starts with "." (files and folders: .git,
//     .gitignore, .env, editor state);
//   - folders named testdata or vendor, and sub-folders holding their own
//     SKILL.md (another skill);
//   - Go build inputs: *.go (tests included), go.mod, go.sum, go.work,
//     go.work.sum;
//   - build outputs: the entry path itself (the package gets the fresh
//     build instead), files ending in .wasm, .test, .exe, .o, .a, .so,
//     .dylib, .dll or .prof, and any file that starts like a compiled
//     program (ELF, Mach-O, PE or WebAssembly magic bytes).
//
// A symlink or any other non-regular file where an asset could be is an
// error rather than silently left out: the package would lack a file the
// skill expects.
func Assets(m *manifest.Manifest) ([]string, error) {
	dir := m.Dir
	if dir == "" {
		return nil, fmt.Errorf("assets of %s: the manifest was not loaded from a folder", m.Name)
	}
	// For code skills the folder also holds the build's inputs and outputs,
	// which are left out. An instructions skill has no build: its scripts/,
	// references/ and assets/ are the skill itself, Go files and binaries
	// included, so only dot files and nested skills are left out.
	code := m.Runtime != manifest.RuntimeInstructions
	files := []string{manifest.FileName}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		name := d.Name()
		if strings.HasPrefix(name, ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if code && excludedDirs[name] {
				return filepath.SkipDir
			}
			if _, err := os.Lstat(filepath.Join(p, manifest.FileName)); err == nil {
				return filepath.SkipDir
			}
			return nil
		}
		if rel == manifest.FileName || (code && (rel == m.Entry || excludedNames[name] || slices.Contains(excludedExts, path.Ext(name)))) {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: %s is not a regular file (%s); a package holds regular files only: copy the file in, or move it out of the folder", dir, rel, d.Type())
		}
		bin := false
		if code {
			if bin, err = isBinary(p); err != nil {
				return err
			}
		}
		if !bin {
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("assets of %s: %w", m.Name, err)
	}
	slices.Sort(files)
	return files, nil
}

func isBinary(p string) (bool, error) {
	f, err := os.Open(p)
	if err != nil {
		return false, err
	}
	defer f.Close()
	head := make([]byte, 64)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return false, err
	}
	head = head[:n]
	for _, m := range binaryMagic {
		if bytes.HasPrefix(head, m) {
			return true, nil
		}
	}
	// PE: "MZ", and at the offset stored at 0x3c, "PE\0\0". Two letters
	// alone are too weak a sign to drop a text file.
	if n == 64 && bytes.HasPrefix(head, []byte("MZ")) {
		off := int64(binary.LittleEndian.Uint32(head[0x3c:]))
		sig := make([]byte, 4)
		if _, err := f.ReadAt(sig, off); err == nil && string(sig) == "PE\x00\x00" {
			return true, nil
		}
	}
	return false, nil
}
