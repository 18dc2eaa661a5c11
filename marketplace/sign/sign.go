// Package sign signs and verifies marketplace indexes with a detached
// Ed25519 signature in the signed-note format of the Go checksum database
// (golang.org/x/mod/sumdb/note).
//
// # Scheme
//
// The index (index.json) stays plain JSON; its signature lives next to it in
// index.json.sig, which is a signed note whose text is exactly four lines:
//
//	skills-index v1
//	sha256 <64 lowercase hex digits: SHA-256 of the exact index.json bytes>
//	version <the index's "version", decimal>
//	expires <the index's "expires", RFC 3339 in UTC>
//
// followed, as in every note, by a blank line and one signature line per key:
//
//	— <key name> <base64 of 4-byte key hash + 64-byte Ed25519 signature>
//
// The signature covers the text, and the text pins the index bytes by hash,
// so changing one byte of index.json, or of the note text, fails
// verification. Version and expiry are repeated in the signed text so that
// a client can check freshness from the signature alone, and must match the
// index (package registry checks that they do). Keys are note keys: a signer
// key "PRIVATE+KEY+<name>+<hash>+<data>" kept secret, and a verifier key
// "<name>+<hash>+<data>" given to clients. Several keys may sign one note
// (key rotation); Verify needs one trusted, valid signature and refuses a
// note with any invalid signature by a trusted key.
package sign

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// Header is the first line of the signed text; it names the scheme so that a
// note signed for another purpose with the same key is not mistaken for an
// index signature.
const Header = "skills-index v1"

// MaxSigSize caps a signature file. A note with one signature is about 200
// bytes; the cap leaves room for key rotation and refuses endless input.
const MaxSigSize = 16 << 10

// Errors Verify wraps, for errors.Is. Each wrapping error names the key, the
// hashes or the problem in its message.
var (
	ErrUnsigned     = errors.New("index is not signed")
	ErrUntrusted    = errors.New("index is signed by an untrusted key")
	ErrBadSignature = errors.New("bad signature")
	ErrMismatch     = errors.New("index does not match its signature (edited after signing?)")
	ErrMalformed    = errors.New("malformed signature file")
)

// Meta is what the signature repeats from the index.
type Meta struct {
	Version int64     // the index's version, >= 1
	Expires time.Time // the index's expiry
}

// Signed is what a verified signature says.
type Signed struct {
	KeyName string    // name of the trusted key that signed, e.g. "skills.example.com"
	KeyHash uint32    // its key hash
	SHA256  string    // hex SHA-256 of the index bytes
	Version int64     // index version, as signed
	Expires time.Time // index expiry, as signed (UTC)
}

// Key returns the key's identity as note writes it: "name+hash".
func (s *Signed) Key() string { return keyID(s.KeyName, s.KeyHash) }

func keyID(name string, hash uint32) string { return fmt.Sprintf("%s+%08x", name, hash) }

// Sign returns the signature file (a signed note, see the package doc) for
// index, signed with the signer key skey. The caller passes the index's
// version and expiry; they must be the ones inside index.
func Sign(skey string, index []byte, m Meta) ([]byte, error) {
	signer, err := note.NewSigner(skey)
	if err != nil {
		// The key itself is secret: never echo it.
		return nil, fmt.Errorf("sign index: not a valid signer key (want PRIVATE+KEY+name+hash+data): %w", err)
	}
	if m.Version < 1 {
		return nil, fmt.Errorf("sign index: version must be at least 1, got %d", m.Version)
	}
	if m.Expires.IsZero() {
		return nil, fmt.Errorf("sign index: no expiry")
	}
	sum := sha256.Sum256(index)
	text := fmt.Sprintf("%s\nsha256 %s\nversion %d\nexpires %s\n", Header, hex.EncodeToString(sum[:]), m.Version, m.Expires.UTC().Format(time.RFC3339Nano))
	sig, err := note.Sign(&note.Note{Text: text}, signer)
	if err != nil {
		return nil, fmt.Errorf("sign index: %w", err)
	}
	return sig, nil
}

// Verify checks that sig is a valid signature of exactly index by a key in
// verifiers, and returns what it signed. Errors wrap ErrUnsigned (sig is
// empty), ErrMalformed, ErrUntrusted (naming the signing keys and, when
// verifiers is a *Trust, the trusted ones), ErrBadSignature (a trusted key's
// signature does not verify: the note was altered) or ErrMismatch (the note
// is fine but index is not the file it signed).
func Verify(sig, index []byte, verifiers note.Verifiers) (*Signed, error) {
	if len(sig) == 0 {
		return nil, fmt.Errorf("verify index: %w (empty signature file)", ErrUnsigned)
	}
	if len(sig) > MaxSigSize {
		return nil, fmt.Errorf("verify index: %w: %d bytes, over the %d-byte limit", ErrMalformed, len(sig), MaxSigSize)
	}
	if verifiers == nil {
		verifiers = note.VerifierList()
	}
	n, err := note.Open(sig, verifiers)
	if err != nil {
		var unverified *note.UnverifiedNoteError
		var invalid *note.InvalidSignatureError
		switch {
		case errors.As(err, &unverified):
			var by []string
			for _, s := range unverified.Note.UnverifiedSigs {
				by = append(by, keyID(s.Name, s.Hash))
			}
			trusted := ""
			if t, ok := verifiers.(*Trust); ok {
				if ids := t.IDs(); len(ids) > 0 {
					trusted = "; trusted: " + strings.Join(ids, ", ")
				} else {
					trusted = "; no keys are trusted"
				}
			}
			return nil, fmt.Errorf("verify index: %w: signed by %s%s", ErrUntrusted, strings.Join(by, ", "), trusted)
		case errors.As(err, &invalid):
			return nil, fmt.Errorf("verify index: %w by key %s: the signature file was altered or made with another key of the same name", ErrBadSignature, keyID(invalid.Name, invalid.Hash))
		default:
			return nil, fmt.Errorf("verify index: %w: %v", ErrMalformed, err)
		}
	}
	s, err := parseText(n.Text)
	if err != nil {
		return nil, fmt.Errorf("verify index: %w: %v", ErrMalformed, err)
	}
	sum := sha256.Sum256(index)
	if got := hex.EncodeToString(sum[:]); got != s.SHA256 {
		return nil, fmt.Errorf("verify index: %w: index sha256 is %s, signature is for %s", ErrMismatch, got, s.SHA256)
	}
	s.KeyName, s.KeyHash = n.Sigs[0].Name, n.Sigs[0].Hash
	return s, nil
}

// parseText reads the four lines of the signed text, exactly as Sign writes
// them: no other spacing, order or number formatting is accepted.
func parseText(text string) (*Signed, error) {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if lines[0] != Header {
		if strings.HasPrefix(lines[0], "skills-index ") {
			return nil, fmt.Errorf("unsupported signature format %q (this client reads %q)", lines[0], Header)
		}
		return nil, fmt.Errorf("first line is %q, want %q: not an index signature", lines[0], Header)
	}
	if len(lines) != 4 {
		return nil, fmt.Errorf("signed text has %d lines, want 4", len(lines))
	}
	s := &Signed{}
	sum, ok := strings.CutPrefix(lines[1], "sha256 ")
	if !ok || len(sum) != 64 || strings.Trim(sum, "0123456789abcdef") != "" {
		return nil, fmt.Errorf("line 2 is %q, want sha256 and 64 lowercase hex digits", lines[1])
	}
	s.SHA256 = sum
	v, ok := strings.CutPrefix(lines[2], "version ")
	n, err := strconv.ParseInt(v, 10, 64)
	if !ok || err != nil || n < 1 || strconv.FormatInt(n, 10) != v {
		return nil, fmt.Errorf("line 3 is %q, want version and a positive integer", lines[2])
	}
	s.Version = n
	e, ok := strings.CutPrefix(lines[3], "expires ")
	t, err := time.Parse(time.RFC3339Nano, e)
	if !ok || err != nil {
		return nil, fmt.Errorf("line 4 is %q, want expires and an RFC 3339 time", lines[3])
	}
	s.Expires = t.UTC()
	return s, nil
}
