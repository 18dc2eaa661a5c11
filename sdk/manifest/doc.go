// Package manifest parses and validates SKILL.md: YAML frontmatter that stays
// valid under the open Agent Skills spec, platform fields under metadata, and
// the structured sections of the markdown body (## Requires, ## Input,
// ## Output). Authors, the host, the marketplace and reload all use it, so a
// skill means the same thing everywhere.
//
// # Reference
//
// A skill is a folder holding SKILL.md. The file starts with YAML frontmatter
// between two lines holding only "---", followed by a markdown body:
//
//	---
//	name: wordcount
//	description: Counts words, lines and characters in a text and lists the most frequent words.
//	license: Apache-2.0
//	allowed-tools: now
//	metadata:
//	  version: 1.2.0
//	  runtime: wasm
//	  entry: wordcount.wasm
//	  timeout: 5s
//	  memory: 64MiB
//	---
//	# wordcount
//	Free text for people and models.
//	## Requires
//	- summarize ^1.0
//	## Input
//	```json
//	{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]}
//	```
//
// Top-level keys (exactly those of the Agent Skills spec; any other key is an
// error, and version, runtime, entry, timeout, memory and reentrant written at
// the top level are pointed to metadata):
//
//	name           required. 1-64 characters, ^[a-z0-9]+(-[a-z0-9]+)*$ (lowercase
//	               letters, digits, single inner hyphens). Must equal the folder name.
//	description    required. 1-1024 characters, not blank: what the skill does and
//	               when to use it.
//	license        optional. A license name (Apache-2.0) or a bundled file.
//	compatibility  optional. At most 500 characters: environment requirements.
//	allowed-tools  optional. The host tools the skill may call; every other tool is
//	               denied. A space-separated string ("now http_get") or a YAML list
//	               of names without spaces. Repeats are dropped.
//	metadata       optional. A mapping of string keys to string values. Any YAML
//	               scalar is taken as the text it was written as (reentrant: true is
//	               "true", version: 1.0 is "1.0"); lists, mappings and null values
//	               are errors. Quote values to stay valid for stricter tools.
//	               Unknown keys are kept in Manifest.Metadata.
//
// Platform keys under metadata:
//
//	version    strict semver, MAJOR.MINOR.PATCH[-pre][+build], no leading "v".
//	           Required for wasm and plugin skills; optional for instructions.
//	runtime    wasm | plugin | instructions. Absent means instructions: a plain
//	           Agent Skills SKILL.md (name, description, body) is a valid
//	           instructions skill.
//	entry      required for wasm and plugin, an error for instructions. The
//	           artifact's path inside the skill folder: relative, forward
//	           slashes, clean (no ./, //, trailing /), no "..".
//	timeout    optional. A Go duration (500ms, 5s, 2m), > 0 and <= 10m. Absent
//	           means the host default.
//	memory     optional. Bytes, with an optional unit B, KiB, MiB or GiB (64MiB,
//	           512KiB, 1GiB, 1048576); decimal units (MB) are refused. At least
//	           1MiB; at most 4GiB for wasm. Absent means the host default.
//	reentrant  optional. "true" or "false" (default): true lets the skill appear
//	           more than once on one call chain.
//
// Body sections are level-2 headings ("## Input" or a setext heading), matched
// case-insensitively. Each runs to the next heading of level 1 or 2, so ###
// subheadings stay inside it. Headings inside code blocks, lists or quotes do
// not count. Every other heading and all other text are free documentation.
// Each section may appear once.
//
//	## Requires  optional. A bullet list, one "name constraint" per bullet: the
//	             skills this one may call, and its dependencies. The name is
//	             checked like a skill name; the constraint is a Masterminds semver
//	             constraint (^1.2, ~1.2.3, >=1.0 <2.0, 1.2.x) and defaults to "*".
//	             Backticks are ignored ("- `summarize` `^1.0`"). A name listed
//	             twice, a skill requiring itself, numbered lists and nested
//	             bullets are errors. Paragraphs between bullets are prose.
//	## Input     required for wasm and plugin, optional for instructions. Exactly
//	             one fenced code block tagged json holding a JSON Schema (draft
//	             2020-12 by default, or draft-07 via $schema) whose root has
//	             "type": "object". It must compile with jsonschema-go, with known
//	             type names and defaults that match their schemas. The host
//	             validates every input against it and the model sees it as the
//	             tool's schema.
//	## Output    optional. The same rules, without the object requirement.
//
// Limits: SKILL.md is at most 256 KiB (MaxSize), UTF-8 (an optional byte order
// mark is skipped), with no NUL bytes; CRLF line ends are accepted.
//
// # Errors
//
// Every problem is an *Error naming the file and the line of the offending
// key, value, bullet or JSON (line 0 for the file as a whole, such as its
// size). Parse stops at the first problem. Line numbers count from the top
// of the file, frontmatter included.
//
// # Folder check
//
// Load(dir) checks the name against the base name of dir made absolute, so
// Load(".") works. Parse(file, data) checks it against the base name of
// filepath.Dir(file) when file has a directory part, and skips the check
// when it has none ("SKILL.md", or ""): bytes from nowhere have no folder.
//
// # Concurrency
//
// A Manifest is immutable after Parse: treat every field as read-only. Parse
// compiles the ## Input and ## Output schemas once and caches them, so
// InputResolved, OutputResolved and ValidateInput are safe for concurrent use
// and never compile again.
package manifest
