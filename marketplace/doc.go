// Package marketplace is the home of the skills marketplace: registries that
// publish skills, and installs that verify every byte before using it. This
// package holds only this overview; the work is done in its subpackages.
//
// # The pieces
//
//   - index: the format of a registry's index.json (every skill, version,
//     requirement, deprecation, yank, and per-platform artifact with its
//     SHA-256 and size), its strict Parse, its canonical Encode, and lookups
//     (Lookup, Latest, ArtifactFor). JSON Schema: registry/index.schema.json.
//   - sign: the detached signature index.json.sig, a golang.org/x/mod/sumdb/note
//     note over "skills-index v1 / sha256 / version / expires"; key
//     generation and key files; Trust, the set of verifier keys.
//   - registry: the client. Fetch reads and verifies a registry's index from a
//     folder, file:// or http(s)://, and enforces freshness (no rollback, no
//     expired index); Open and Download fetch artifacts capped at their
//     declared size and checked against their SHA-256. Also the list of
//     configured registries (registries.json).
//   - archive: the package format, a deterministic tar.gz (Pack), and its
//     safe extraction through os.Root (Extract).
//
// # Installing (fail closed at every step)
//
//	r, _ := registry.New(cfg, registry.Options{StateDir: home + "/registries"})
//	f, _ := r.Fetch(ctx)                         // signed, parsed, fresh; or an error
//	rel, _ := f.Index.Lookup(name, version)      // or let the resolver choose
//	a, _, _ := rel.ArtifactFor(runtime.GOOS, runtime.GOARCH)
//	file, _ := r.Download(ctx, a, storeTmp)      // returns only once size and hash match
//	archive.Extract(ctx, open(file), freshDir, archive.Limits{})
//
// then load freshDir/SKILL.md with sdk/manifest and check that its name,
// version and runtime are the ones the index promised, move the folder into
// the content-addressed store, switch the active version with a rename, and
// write the lock last. Nothing is extracted before Download has verified the
// hash, and nothing runs before the manifest has been checked.
//
// # Publishing
//
//	archive.Pack(w, skillDir, []string{"SKILL.md", entry, ...})   // same files, same bytes
//	// add an index.Release with the archive's URL, SHA-256 and size; never
//	// change a published release (fix forward, deprecate or yank instead)
//	x.Version++; x.Generated = now; x.Expires = now.Add(ttl)
//	raw, _ := index.Encode(x)
//	sig, _ := sign.Sign(skey, raw, sign.Meta{Version: x.Version, Expires: x.Expires})
//	// write index.json, then index.json.sig
//
// Every change, including re-signing only to push the expiry forward, needs
// a new version: clients refuse a known version whose bytes changed. The
// publisher must re-sign before Expires or clients stop trusting the index.
//
// # Keys and local state ($SKILLS_HOME)
//
//	registries.json          configured registries: name, URL, verifier keys, priority
//	registries/<name>.json   freshness record: highest index version seen, its hash
//	trust/*.pub              verifier keys (sign.LoadTrust), e.g. to fill a Config's Keys
//
// sign.WriteKeyFile creates NAME.key (the secret signer key, 0600) and
// NAME.pub (the verifier key to hand to clients). A registry's index is
// trusted only if signed by one of the keys in its own Config.
package marketplace
