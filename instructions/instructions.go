// Package instructions renders an instructions skill (a SKILL.md with no
// code, as in the open Agent Skills format) the way a model reads it: the
// markdown body, then where the skill's folder is and which files it holds
// (scripts/, references/, assets/, ...), so that relative paths in the body
// can be followed. The agent loop's load_skill tool and the MCP prompts of
// `skills mcp` both serve this text, so a skill reads the same everywhere.
package instructions

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/skillsdev/skills/sdk/manifest"
)

// MaxFiles bounds the files listed; a folder with more says how many were
// left out.
const MaxFiles = 200

// Render returns the text of an instructions skill for a model. m.Dir, when
// set, is listed; files and folders whose names start with "." are left
// out, as publish leaves them out of packages.
func Render(m *manifest.Manifest) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Skill: %s\n\n", m.Name)
	body := strings.TrimSpace(m.Body)
	if body == "" {
		body = m.Description
	}
	b.WriteString(body)
	b.WriteString("\n")
	if m.Dir == "" {
		return b.String()
	}
	files, more, err := Files(m.Dir)
	fmt.Fprintf(&b, "\n---\nSkill folder: %s\n", m.Dir)
	switch {
	case err != nil:
		fmt.Fprintf(&b, "(its files could not be listed: %v)\n", err)
	case len(files) == 0:
		b.WriteString("The folder holds no files besides SKILL.md.\n")
	default:
		b.WriteString("Relative paths in these instructions are inside that folder. Files:\n")
		for _, f := range files {
			fmt.Fprintf(&b, "- %s\n", f)
		}
		if more > 0 {
			fmt.Fprintf(&b, "- ... and %d more\n", more)
		}
	}
	return b.String()
}

// Files lists the files of a skill folder besides SKILL.md, as sorted
// slash paths, at most MaxFiles of them; more is how many were left out.
func Files(dir string) (files []string, more int, err error) {
	root := os.DirFS(dir)
	err = fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == "." {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || p == manifest.FileName {
			return nil
		}
		files = append(files, p)
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list %s: %w", filepath.Clean(dir), err)
	}
	sort.Strings(files)
	if len(files) > MaxFiles {
		more = len(files) - MaxFiles
		files = files[:MaxFiles]
	}
	return files, more, nil
}
