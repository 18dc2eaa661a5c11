package archive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// entry is one tar entry to craft; data is written unless skipData.
type entry struct {
	hdr      tar.Header
	data     string
	skipData bool // write the header only, as a lying or truncated archive would
}

func reg(name, data string) entry {
	return entry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(data)), Mode: 0o644}, data: data}
}

// rawTar builds an uncompressed tar with archive/tar, bypassing nothing but
// the data of skipData entries.
func rawTar(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := e.hdr
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatalf("header %q: %v", h.Name, err)
		}
		if e.skipData {
			// End the archive right after the lying header.
			buf.Write(make([]byte, 1024))
			return buf.Bytes()
		}
		if _, err := tw.Write([]byte(e.data)); err != nil {
			t.Fatalf("data %q: %v", h.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gz(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(data)
	zw.Close()
	return buf.Bytes()
}

// sandbox returns a destination folder inside a parent that holds one
// sentinel file, so a test can prove nothing was written next to dst.
func sandbox(t testing.TB) (parent, dst string) {
	t.Helper()
	parent = t.TempDir()
	dst = filepath.Join(parent, "dst")
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(parent, "sentinel"), []byte("untouched"), 0o644); err != nil {
		t.Fatal(err)
	}
	return parent, dst
}

// checkContained fails unless parent holds exactly dst and the sentinel,
// unchanged, and dst holds only regular files and folders.
func checkContained(t testing.TB, parent string) {
	t.Helper()
	ents, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 2 || ents[0].Name() != "dst" || ents[1].Name() != "sentinel" {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Fatalf("written outside dst: parent holds %v", names)
	}
	if b, _ := os.ReadFile(filepath.Join(parent, "sentinel")); string(b) != "untouched" {
		t.Fatal("sentinel changed")
	}
	filepath.WalkDir(filepath.Join(parent, "dst"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if !d.Type().IsRegular() && !d.IsDir() {
			t.Fatalf("%s: extracted a %s", p, d.Type())
		}
		return nil
	})
}

func TestExtractRefuses(t *testing.T) {
	tests := []struct {
		name    string
		entries []entry
		lim     Limits
		is      error
		entry   string // the entry the error must name
	}{
		{"dot dot", []entry{reg("ok.txt", "x"), reg("../x", "evil")}, Limits{}, ErrUnsafePath, "../x"},
		{"inner dot dot", []entry{reg("a/../../x", "evil")}, Limits{}, ErrUnsafePath, "a/../../x"},
		{"dot dot that stays inside", []entry{reg("a/../b", "x")}, Limits{}, ErrUnsafePath, "a/../b"},
		{"absolute", []entry{reg("/etc/x", "evil")}, Limits{}, ErrUnsafePath, "/etc/x"},
		{"backslash", []entry{reg(`..\x`, "evil")}, Limits{}, ErrUnsafePath, `..\x`},
		{"drive letter", []entry{reg("C:/x", "evil")}, Limits{}, ErrUnsafePath, "C:/x"},
		{"double slash", []entry{reg("a//b", "x")}, Limits{}, ErrUnsafePath, "a//b"},
		{"symlink", []entry{{hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: "link", Linkname: "/etc/passwd"}}}, Limits{}, ErrType, "link"},
		{"symlink then write through it", []entry{{hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: "d", Linkname: ".."}}, reg("d/x", "evil")}, Limits{}, ErrType, "d"},
		{"hard link", []entry{reg("a", "x"), {hdr: tar.Header{Typeflag: tar.TypeLink, Name: "b", Linkname: "/etc/shadow"}}}, Limits{}, ErrType, "b"},
		{"char device", []entry{{hdr: tar.Header{Typeflag: tar.TypeChar, Name: "null", Devmajor: 1, Devminor: 3}}}, Limits{}, ErrType, "null"},
		{"block device", []entry{{hdr: tar.Header{Typeflag: tar.TypeBlock, Name: "sda", Devmajor: 8}}}, Limits{}, ErrType, "sda"},
		{"fifo", []entry{{hdr: tar.Header{Typeflag: tar.TypeFifo, Name: "pipe"}}}, Limits{}, ErrType, "pipe"},
		{"duplicate file", []entry{reg("a.txt", "1"), reg("a.txt", "2")}, Limits{}, ErrDuplicate, "a.txt"},
		{"duplicate after ./", []entry{reg("a.txt", "1"), reg("./a.txt", "2")}, Limits{}, ErrDuplicate, "./a.txt"},
		{"duplicate folder", []entry{{hdr: tar.Header{Typeflag: tar.TypeDir, Name: "d/", Mode: 0o755}}, {hdr: tar.Header{Typeflag: tar.TypeDir, Name: "d", Mode: 0o755}}}, Limits{}, ErrDuplicate, "d"},
		{"file over folder", []entry{reg("d/x", "1"), reg("d", "2")}, Limits{}, nil, "d"},
		{"huge claimed size", []entry{{hdr: tar.Header{Typeflag: tar.TypeReg, Name: "big", Size: 1 << 40, Mode: 0o644}, skipData: true}}, Limits{}, ErrLimit, "big"},
		{"file over limit", []entry{reg("a", "12345")}, Limits{MaxFileSize: 4}, ErrLimit, "a"},
		{"total over limit", []entry{reg("a", "123"), reg("b", "456")}, Limits{MaxTotalSize: 5}, ErrLimit, "b"},
		{"too many entries", []entry{reg("a", ""), reg("b", ""), reg("c", "")}, Limits{MaxEntries: 2}, ErrLimit, "c"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			parent, dst := sandbox(t)
			err := Extract(context.Background(), bytes.NewReader(gz(t, rawTar(t, tc.entries...))), dst, tc.lim)
			if err == nil {
				t.Fatal("extracted")
			}
			var ee *EntryError
			if !errors.As(err, &ee) || ee.Name != tc.entry {
				t.Fatalf("error %v does not name entry %q", err, tc.entry)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("error %v, want %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), strconv.Quote(tc.entry)) {
				t.Fatalf("message %q does not name the entry", err)
			}
			checkContained(t, parent)
		})
	}
}

func TestExtractPlantedSymlink(t *testing.T) {
	// A symlink already in dst (say, from an earlier attacker) must not
	// carry a write outside: os.Root refuses to follow it out.
	parent, dst := sandbox(t)
	if err := os.Symlink("..", filepath.Join(dst, "up")); err != nil {
		t.Fatal(err)
	}
	err := Extract(context.Background(), bytes.NewReader(gz(t, rawTar(t, reg("up/sentinel", "overwritten")))), dst, Limits{})
	if err == nil {
		t.Fatal("wrote through a planted symlink")
	}
	if b, _ := os.ReadFile(filepath.Join(parent, "sentinel")); string(b) != "untouched" {
		t.Fatal("sentinel overwritten")
	}
}

func TestExtractAccepts(t *testing.T) {
	_, dst := sandbox(t)
	data := rawTar(t,
		entry{hdr: tar.Header{Typeflag: tar.TypeDir, Name: "./", Mode: 0o755}},
		entry{hdr: tar.Header{Typeflag: tar.TypeDir, Name: "./assets/", Mode: 0o700}},
		reg("./SKILL.md", "---\nname: x\n---\n"),
		entry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: "bin/skill", Size: 2, Mode: 0o4777}, data: "#!"},
		reg("assets/deep/"+strings.Repeat("n", 120)+".txt", "long name via PAX"),
		reg("empty", ""),
	)
	if err := Extract(context.Background(), bytes.NewReader(gz(t, data)), dst, Limits{}); err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		data string
		mode os.FileMode
	}{
		"SKILL.md":  {"---\nname: x\n---\n", 0o644},
		"bin/skill": {"#!", 0o755}, // setuid and world-write dropped
		"assets/deep/" + strings.Repeat("n", 120) + ".txt": {"long name via PAX", 0o644},
		"empty": {"", 0o644},
	}
	for name, w := range want {
		p := filepath.Join(dst, filepath.FromSlash(name))
		b, err := os.ReadFile(p)
		if err != nil || string(b) != w.data {
			t.Errorf("%s: %q, %v", name, b, err)
			continue
		}
		fi, _ := os.Stat(p)
		if fi.Mode().Perm() != w.mode&^umask() {
			t.Errorf("%s: mode %04o, want %04o", name, fi.Mode().Perm(), w.mode)
		}
	}
}

func umask() os.FileMode {
	dir, _ := os.MkdirTemp("", "umask")
	defer os.RemoveAll(dir)
	p := filepath.Join(dir, "f")
	os.WriteFile(p, nil, 0o777)
	fi, _ := os.Stat(p)
	return 0o777 &^ fi.Mode().Perm()
}

func TestExtractBadStreams(t *testing.T) {
	_, dst := sandbox(t)
	if err := Extract(context.Background(), strings.NewReader("plain text"), dst, Limits{}); !errors.Is(err, ErrNotGzip) {
		t.Fatalf("not gzip: %v", err)
	}
	good := gz(t, rawTar(t, reg("a", strings.Repeat("x", 10000))))
	if err := Extract(context.Background(), bytes.NewReader(good[:len(good)/2]), dst, Limits{}); err == nil {
		t.Fatal("truncated gzip accepted")
	}
	cut := rawTar(t, reg("cut", strings.Repeat("x", 100)))[:512+50]
	_, dst3 := sandbox(t)
	var ee *EntryError
	if err := Extract(context.Background(), bytes.NewReader(gz(t, cut)), dst3, Limits{}); !errors.As(err, &ee) || ee.Name != "cut" {
		t.Fatalf("truncated entry: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, dst2 := sandbox(t)
	if err := Extract(ctx, bytes.NewReader(good), dst2, Limits{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	if err := Extract(context.Background(), bytes.NewReader(good), filepath.Join(dst, "missing"), Limits{}); err == nil {
		t.Fatal("missing destination accepted")
	}
}

// writeTree creates files under dir with the given contents and modes.
func writeTree(t testing.TB, dir string, files map[string]string, exec ...string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range exec {
		if err := os.Chmod(filepath.Join(dir, filepath.FromSlash(name)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPackRoundTrip(t *testing.T) {
	src := t.TempDir()
	files := map[string]string{
		"SKILL.md":           "---\nname: hello\n---\nSays hello.\n",
		"skill.wasm":         strings.Repeat("\x00asm", 5000),
		"assets/prompt.txt":  "be brief",
		"assets/a/b/c/d.txt": "deep",
		"not-packed.txt":     "left out",
	}
	writeTree(t, src, files, "skill.wasm")
	list := []string{"skill.wasm", "SKILL.md", "assets/prompt.txt", "assets/a/b/c/d.txt"}

	var one, two bytes.Buffer
	if err := Pack(&one, src, list); err != nil {
		t.Fatal(err)
	}
	// Same bytes again, after the files' times and the list order change.
	later := time.Now().Add(time.Hour)
	for name := range files {
		os.Chtimes(filepath.Join(src, filepath.FromSlash(name)), later, later)
	}
	if err := Pack(&two, src, []string{"assets/a/b/c/d.txt", "SKILL.md", "assets/prompt.txt", "skill.wasm"}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(one.Bytes(), two.Bytes()) {
		t.Fatal("Pack is not deterministic")
	}

	// Entries are sorted, owner-less and timeless.
	zr, _ := gzip.NewReader(bytes.NewReader(one.Bytes()))
	if zr.Name != "" || !zr.ModTime.IsZero() {
		t.Errorf("gzip header carries name %q / time %v", zr.Name, zr.ModTime)
	}
	tr := tar.NewReader(zr)
	var names []string
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		names = append(names, h.Name)
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" || h.ModTime.Unix() != 0 {
			t.Errorf("%s: owner or time leaked: %+v", h.Name, h)
		}
	}
	if strings.Join(names, ",") != "SKILL.md,assets/a/b/c/d.txt,assets/prompt.txt,skill.wasm" {
		t.Errorf("entries = %v", names)
	}

	parent, dst := sandbox(t)
	if err := Extract(context.Background(), bytes.NewReader(one.Bytes()), dst, Limits{}); err != nil {
		t.Fatal(err)
	}
	checkContained(t, parent)
	for _, name := range list {
		b, err := os.ReadFile(filepath.Join(dst, filepath.FromSlash(name)))
		if err != nil || string(b) != files[name] {
			t.Errorf("%s: round trip lost content: %v", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dst, "not-packed.txt")); err == nil {
		t.Error("unlisted file packed")
	}
	if fi, _ := os.Stat(filepath.Join(dst, "skill.wasm")); fi.Mode().Perm()&0o100 == 0 {
		t.Error("executable bit lost")
	}
}

func TestPackRefuses(t *testing.T) {
	src := t.TempDir()
	writeTree(t, src, map[string]string{"SKILL.md": "x", "sub/a": "y"})
	outside := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(outside, []byte("secret"), 0o644)
	os.Symlink(outside, filepath.Join(src, "link"))
	os.Symlink("..", filepath.Join(src, "up"))
	tests := []struct {
		name  string
		files []string
		want  string
	}{
		{"none", nil, "no files"},
		{"dot dot", []string{"../x"}, "not a clean relative slash path"},
		{"absolute", []string{"/etc/passwd"}, "not a clean relative slash path"},
		{"unclean", []string{"sub/../SKILL.md"}, "not a clean relative slash path"},
		{"dot slash", []string{"./SKILL.md"}, "not a clean relative slash path"},
		{"twice", []string{"SKILL.md", "SKILL.md"}, "listed twice"},
		{"missing", []string{"nope"}, "nope"},
		{"folder", []string{"sub"}, "regular files only"},
		{"symlink", []string{"link"}, "regular files only"},
		{"through symlink", []string{"up/secret"}, "up/secret"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Pack(&buf, src, tc.files)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// writable gives write permission back to every folder under dir, so that
// the test's cleanup can remove what ReadOnly sealed.
func writable(t testing.TB, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o755)
		}
		return nil
	})
}

func TestExtractWith(t *testing.T) {
	files := map[string]string{
		"SKILL.md":        "---\nname: x\n---\n",
		"bin/skill":       "#!/bin/sh\n",
		"assets/deep/a":   strings.Repeat("abc", 50000), // spans many copy buffers
		"assets/empty":    "",
		"other/dir/x.txt": "x",
	}
	data := rawTar(t,
		entry{hdr: tar.Header{Typeflag: tar.TypeDir, Name: "assets/", Mode: 0o755}},
		entry{hdr: tar.Header{Typeflag: tar.TypeDir, Name: "empty-dir/", Mode: 0o755}},
		reg("SKILL.md", files["SKILL.md"]),
		entry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: "bin/skill", Size: int64(len(files["bin/skill"])), Mode: 0o755}, data: files["bin/skill"]},
		reg("assets/deep/a", files["assets/deep/a"]),
		reg("assets/empty", ""),
		reg("other/dir/x.txt", "x"),
	)
	parent, dst := sandbox(t)
	t.Cleanup(func() { writable(t, dst) })
	teed := map[string]*bytes.Buffer{}
	sizes := map[string]int64{}
	tee := func(name string, size int64) (io.Writer, error) {
		teed[name] = &bytes.Buffer{}
		sizes[name] = size
		return teed[name], nil
	}
	if err := ExtractWith(context.Background(), bytes.NewReader(gz(t, data)), dst, Options{Tee: tee, ReadOnly: true}); err != nil {
		t.Fatal(err)
	}
	checkContained(t, parent)
	if len(teed) != len(files) {
		t.Fatalf("tee saw %d files, want %d", len(teed), len(files))
	}
	for name, want := range files {
		if got := teed[name]; got == nil || got.String() != want || sizes[name] != int64(len(want)) {
			t.Errorf("%s: tee got %d bytes (size %d), want %d", name, got.Len(), sizes[name], len(want))
		}
		p := filepath.Join(dst, filepath.FromSlash(name))
		b, err := os.ReadFile(p)
		if err != nil || string(b) != want {
			t.Errorf("%s: on disk %d bytes, %v", name, len(b), err)
		}
		fi, _ := os.Stat(p)
		wantMode := os.FileMode(0o444)
		if name == "bin/skill" {
			wantMode = 0o555
		}
		if fi.Mode().Perm() != wantMode {
			t.Errorf("%s: mode %04o, want %04o", name, fi.Mode().Perm(), wantMode)
		}
	}
	// Every folder below dst is sealed, implied ones included; dst is not.
	for _, d := range []string{"bin", "assets", "assets/deep", "other", "other/dir", "empty-dir"} {
		if fi, err := os.Stat(filepath.Join(dst, d)); err != nil || fi.Mode().Perm() != 0o555 {
			t.Errorf("%s: %v %v, want a folder with mode 0555", d, fi.Mode(), err)
		}
	}
	if fi, _ := os.Stat(dst); fi.Mode().Perm()&0o200 == 0 {
		t.Errorf("dst sealed: %v", fi.Mode())
	}
}

func TestExtractWithTeeRefuses(t *testing.T) {
	errBig := errors.New("too big for the caller")
	tee := func(name string, size int64) (io.Writer, error) {
		if name == "b" {
			return nil, errBig
		}
		return nil, nil // no tee for this file
	}
	_, dst := sandbox(t)
	data := gz(t, rawTar(t, reg("a", "aaa"), reg("b", "bbb")))
	err := ExtractWith(context.Background(), bytes.NewReader(data), dst, Options{Tee: tee})
	var ee *EntryError
	if !errors.As(err, &ee) || ee.Name != "b" || !errors.Is(err, errBig) {
		t.Fatalf("error %v, want an EntryError for b wrapping the tee's", err)
	}
	if b, err := os.ReadFile(filepath.Join(dst, "a")); err != nil || string(b) != "aaa" {
		t.Fatalf("a: %q %v", b, err)
	}
	if _, err := os.Lstat(filepath.Join(dst, "b")); !os.IsNotExist(err) {
		t.Fatalf("b was created: %v", err)
	}
}
