package manifest

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"unicode/utf8"

	"github.com/skillsdev/skills/sdk/manifest/internal/validate"
)

// MaxSize is the largest SKILL.md accepted, in bytes. A manifest is read on
// every install and reload, often from untrusted packages: a cap keeps a
// hostile file from costing the host memory and time.
const MaxSize = 256 << 10

// FileName is the name of the manifest file inside a skill folder.
const FileName = "SKILL.md"

// Load reads dir/SKILL.md and parses it. The skill's name must equal the base
// name of dir (resolved to an absolute path, so Load(".") works). Dir and
// File are set on the result. Every error is an *Error; read failures keep
// their cause, so errors.Is(err, fs.ErrNotExist) works.
func Load(dir string) (*Manifest, error) {
	file := filepath.Join(dir, FileName)
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, &Error{File: file, Msg: fmt.Sprintf("resolve folder: %v", err), Err: err}
	}
	data, err := readCapped(file)
	if err != nil {
		return nil, err
	}
	return parse(file, filepath.Clean(dir), filepath.Base(abs), data)
}

// readCapped reads at most MaxSize+1 bytes, so a huge file is refused
// without being read whole.
func readCapped(file string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, &Error{File: file, Msg: fmt.Sprintf("read: %v", err), Err: err}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, &Error{File: file, Msg: fmt.Sprintf("read: %v", err), Err: err}
	}
	if len(data) > MaxSize {
		size := int64(len(data))
		if st, err := f.Stat(); err == nil && st.Size() > size {
			size = st.Size()
		}
		return nil, tooBig(file, size)
	}
	return data, nil
}

func tooBig(file string, size int64) *Error {
	return &Error{File: file, Msg: fmt.Sprintf("file is %d bytes, over the %d-byte (256 KiB) limit for SKILL.md", size, MaxSize)}
}

// Parse parses and validates the SKILL.md held in data. file names it in
// errors and locates it:
//
//   - When file has a directory part ("skills/wordcount/SKILL.md"), Dir is
//     set to that directory and the skill's name must equal its base name
//     ("wordcount"), as the Agent Skills spec requires.
//   - When file has no directory part ("SKILL.md", or "" for bytes from
//     nowhere), Dir is "" and the folder check is skipped: there is no
//     folder to compare with. Use Load to check a folder given as ".".
//
// Every error is an *Error carrying the file and the line of the offending
// key, value, bullet or block. Parse stops at the first problem: file-level
// limits, then the frontmatter, the folder check, the metadata platform
// keys, and the body sections in file order.
func Parse(file string, data []byte) (*Manifest, error) {
	dir := filepath.Dir(file)
	if file == "" || dir == "." {
		return parse(file, "", "", data)
	}
	return parse(file, dir, filepath.Base(dir), data)
}

// parser holds the state of one Parse call.
type parser struct {
	file       string
	data       []byte
	lineStarts []int // byte offset at which each line starts; lineStarts[0] == 0
	m          *Manifest

	yamlBase  int            // file line of the line before the YAML (YAML line n is file line n+yamlBase)
	keyLines  map[string]int // top-level key -> file line
	metaLines map[string]int // metadata key -> file line of its value
}

// errf builds the *Error every failure is reported as.
func (p *parser) errf(line int, format string, args ...any) *Error {
	return &Error{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// lineAt returns the 1-based line holding byte offset off of the whole file.
func (p *parser) lineAt(off int) int {
	if p.lineStarts == nil {
		p.lineStarts = append(p.lineStarts, 0)
		for i, b := range p.data {
			if b == '\n' {
				p.lineStarts = append(p.lineStarts, i+1)
			}
		}
	}
	return sort.Search(len(p.lineStarts), func(i int) bool { return p.lineStarts[i] > off })
}

func parse(file, dir, folder string, data []byte) (*Manifest, error) {
	name := file
	if name == "" {
		name = FileName
	}
	p := &parser{file: name, data: data, m: &Manifest{File: file, Dir: dir}}
	if err := p.run(folder); err != nil {
		return nil, err
	}
	return p.m, nil
}

func (p *parser) run(folder string) error {
	if len(p.data) > MaxSize {
		return tooBig(p.file, int64(len(p.data)))
	}
	if i := bytes.IndexByte(p.data, 0); i >= 0 {
		return p.errf(p.lineAt(i), "NUL byte at offset %d: SKILL.md must be UTF-8 text", i)
	}
	if !utf8.Valid(p.data) {
		i := firstInvalidUTF8(p.data)
		return p.errf(p.lineAt(i), "invalid UTF-8 byte 0x%02x at offset %d: SKILL.md must be UTF-8 text", p.data[i], i)
	}
	yamlStart, yamlEnd, bodyStart, err := p.split()
	if err != nil {
		return err
	}
	if err := p.frontmatter(yamlStart, yamlEnd); err != nil {
		return err
	}
	if folder != "" && p.m.Name != folder {
		return p.errf(p.keyLine("name"), "name %q does not match its folder %q: the Agent Skills spec requires them to be equal (rename one)", p.m.Name, folder)
	}
	if err := p.platform(); err != nil {
		return err
	}
	p.m.Body = string(p.data[bodyStart:])
	if err := p.body(bodyStart); err != nil {
		return err
	}
	if rs := p.m.inputResolved; rs != nil {
		// A schema outside the subset leaves inputFast nil: every call
		// then takes the jsonschema-go path.
		if v, ok := validate.Compile(rs.Schema()); ok {
			p.m.inputFast = v
		}
	}
	return p.crossCheck()
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return 0
}

// split finds the frontmatter: a "---" line at the very start (after an
// optional UTF-8 byte order mark) and the next "---" line. It returns the
// byte range of the YAML between them and where the body starts.
func (p *parser) split() (yamlStart, yamlEnd, bodyStart int, err error) {
	off := 0
	if bytes.HasPrefix(p.data, []byte("\uFEFF")) {
		off = 3
	}
	line, next := p.lineFrom(off)
	if !isDelimiter(line) {
		return 0, 0, 0, p.errf(1, "SKILL.md must start with a line holding only --- that opens the YAML frontmatter")
	}
	yamlStart = next
	for pos := next; pos < len(p.data); {
		line, next := p.lineFrom(pos)
		if isDelimiter(line) {
			return yamlStart, pos, next, nil
		}
		pos = next
	}
	return 0, 0, 0, p.errf(1, "frontmatter opened at line 1 is never closed: add a line holding only --- after the YAML")
}

// lineFrom returns the line starting at off (without its newline) and the
// offset of the next line.
func (p *parser) lineFrom(off int) (line []byte, next int) {
	i := bytes.IndexByte(p.data[off:], '\n')
	if i < 0 {
		return p.data[off:], len(p.data)
	}
	return p.data[off : off+i], off + i + 1
}

func isDelimiter(line []byte) bool {
	return string(bytes.TrimRight(line, " \t\r")) == "---"
}
