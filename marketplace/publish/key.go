package publish

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/skillsdev/skills/marketplace/sign"
)

// Key is a registry's signer key together with the verifier key derived
// from it. The verifier is what lets a command check, before changing
// anything, that the key is the one that signed the registry's current
// index.
type Key struct {
	skey, vkey string
	id         string // "name+hash", safe to print
}

// ReadKey reads a signer key file written by sign.WriteKeyFile (or `skills
// keygen`). Like sign.ReadKeyFile, it refuses a file that others can read.
func ReadKey(path string) (Key, error) {
	skey, err := sign.ReadKeyFile(path)
	if err != nil {
		return Key{}, err
	}
	return NewKey(skey)
}

// NewKey wraps a signer key ("PRIVATE+KEY+name+hash+data"). Errors never
// quote the key: it is secret.
func NewKey(skey string) (Key, error) {
	s, err := note.NewSigner(skey)
	if err != nil {
		if !strings.HasPrefix(skey, "PRIVATE+KEY+") {
			return Key{}, errors.New("not a signer key (want PRIVATE+KEY+name+hash+data; a .pub file holds the verifier key, which cannot sign)")
		}
		return Key{}, fmt.Errorf("not a valid signer key: %w", err)
	}
	// NewSigner has checked the layout and that the hash matches the key,
	// so the fields below are well formed.
	parts := strings.SplitN(strings.TrimPrefix(skey, "PRIVATE+KEY+"), "+", 3)
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) != 1+ed25519.SeedSize {
		return Key{}, errors.New("not an Ed25519 signer key")
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(s.Name(), pub)
	if err != nil {
		return Key{}, fmt.Errorf("derive verifier key: %w", err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil || v.KeyHash() != s.KeyHash() {
		return Key{}, errors.New("derive verifier key: hash mismatch")
	}
	return Key{skey: skey, vkey: vkey, id: fmt.Sprintf("%s+%08x", s.Name(), s.KeyHash())}, nil
}

// Verifier returns the verifier key clients put in their trust store or
// registry configuration.
func (k Key) Verifier() string { return k.vkey }

// ID returns the key's identity as signatures name it: "name+hash".
func (k Key) ID() string { return k.id }

func (k Key) valid() bool { return k.skey != "" }
