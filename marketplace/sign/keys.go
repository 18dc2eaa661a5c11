package sign

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// File names of a key pair written by WriteKeyFile.
const (
	SignerKeySuffix   = ".key" // the secret signer key, mode 0600
	VerifierKeySuffix = ".pub" // the verifier key to hand out and to put in trust stores
)

// maxKeyFile caps key and trust files: a key is under 150 bytes.
const maxKeyFile = 64 << 10

// fileName restricts key names that become file names; note itself allows
// any name without spaces or '+', including '/'.
var fileName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// GenerateKey returns a new Ed25519 signer key (secret) and its verifier key
// for key name, e.g. the registry's host name.
func GenerateKey(name string) (skey, vkey string, err error) {
	if name == "" || strings.ContainsAny(name, "+") || strings.IndexFunc(name, func(r rune) bool { return r <= ' ' }) >= 0 {
		return "", "", fmt.Errorf("generate key: invalid key name %q (no spaces or '+')", name)
	}
	skey, vkey, err = note.GenerateKey(rand.Reader, name)
	if err != nil {
		return "", "", fmt.Errorf("generate key %s: %w", name, err)
	}
	return skey, vkey, nil
}

// WriteKeyFile generates a key pair named name and writes dir/NAME.key (the
// signer key, mode 0600) and dir/NAME.pub (the verifier key, 0644), each one
// line. It refuses to overwrite an existing key: losing a signing key means
// every client must be re-keyed. It returns the verifier key.
func WriteKeyFile(dir, name string) (vkey string, err error) {
	if !fileName.MatchString(name) {
		return "", fmt.Errorf("write key: key name %q must be letters, digits, '.', '_' or '-' to be a file name", name)
	}
	skey, vkey, err := GenerateKey(name)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("write key: %w", err)
	}
	keyPath := filepath.Join(dir, name+SignerKeySuffix)
	pubPath := filepath.Join(dir, name+VerifierKeySuffix)
	if err := writeNew(keyPath, skey+"\n", 0o600); err != nil {
		return "", fmt.Errorf("write key: %w", err)
	}
	if err := writeNew(pubPath, vkey+"\n", 0o644); err != nil {
		os.Remove(keyPath)
		return "", fmt.Errorf("write key: %w", err)
	}
	return vkey, nil
}

func writeNew(path, data string, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}

// ReadKeyFile reads a signer key written by WriteKeyFile. Like ssh, it
// refuses a key file that others can read.
func ReadKeyFile(path string) (skey string, err error) {
	data, fi, err := readCapped(path)
	if err != nil {
		return "", fmt.Errorf("read key %s: %w", path, err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("read key %s: readable by others (mode %04o); run chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	skey = strings.TrimSpace(string(data))
	if _, err := note.NewSigner(skey); err != nil {
		return "", fmt.Errorf("read key %s: not a signer key (want one line PRIVATE+KEY+name+hash+data)", path)
	}
	return skey, nil
}

func readCapped(path string) ([]byte, os.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("not a regular file")
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, nil, err
	}
	if len(data) > maxKeyFile {
		return nil, nil, fmt.Errorf("larger than %d bytes", maxKeyFile)
	}
	return data, fi, nil
}

// Trust is a set of verifier keys; it implements note.Verifiers. Verify
// names the trusted keys in its error when given a *Trust.
type Trust struct {
	byKey map[trustKey]note.Verifier
	vkeys map[string]bool
}

type trustKey struct {
	name string
	hash uint32
}

// NewTrust returns a Trust holding the given verifier keys. Repeating a key
// is harmless; a malformed key is an error that quotes it (verifier keys are
// public).
func NewTrust(vkeys ...string) (*Trust, error) {
	t := &Trust{byKey: make(map[trustKey]note.Verifier), vkeys: make(map[string]bool)}
	for _, k := range vkeys {
		if err := t.add(k); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (t *Trust) add(vkey string) error {
	if strings.HasPrefix(vkey, "PRIVATE+KEY+") {
		return errors.New("this is a secret signer key; trust verifier keys (the .pub file) only")
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return fmt.Errorf("not a verifier key (want name+hash+data): %q", vkey)
	}
	if t.vkeys[vkey] {
		return nil
	}
	// note.NewVerifier checks the hash against the key data, so two keys
	// with one name+hash would be a SHA-256 prefix collision; refuse it
	// rather than let note report an ambiguity at verification time.
	k := trustKey{v.Name(), v.KeyHash()}
	if _, dup := t.byKey[k]; dup {
		return fmt.Errorf("two different keys share the id %s", keyID(k.name, k.hash))
	}
	t.byKey[k] = v
	t.vkeys[vkey] = true
	return nil
}

// LoadTrust reads every *.pub file in dir (normally $SKILLS_HOME/trust/).
// Each holds verifier keys, one per line; blank lines and lines starting with
// '#' are ignored. A missing dir is an empty Trust: nothing is trusted, so
// every verification fails closed.
func LoadTrust(dir string) (*Trust, error) {
	t, _ := NewTrust()
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return t, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load trust: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), VerifierKeySuffix) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		data, _, err := readCapped(path)
		if err != nil {
			return nil, fmt.Errorf("load trust %s: %w", path, err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for line := 1; sc.Scan(); line++ {
			s := strings.TrimSpace(sc.Text())
			if s == "" || strings.HasPrefix(s, "#") {
				continue
			}
			if err := t.add(s); err != nil {
				return nil, fmt.Errorf("load trust %s:%d: %w", path, line, err)
			}
		}
	}
	return t, nil
}

// Verifier implements note.Verifiers.
func (t *Trust) Verifier(name string, hash uint32) (note.Verifier, error) {
	if t == nil {
		return nil, &note.UnknownVerifierError{Name: name, KeyHash: hash}
	}
	if v, ok := t.byKey[trustKey{name, hash}]; ok {
		return v, nil
	}
	return nil, &note.UnknownVerifierError{Name: name, KeyHash: hash}
}

// IDs returns the trusted keys as "name+hash", sorted.
func (t *Trust) IDs() []string {
	if t == nil {
		return nil
	}
	ids := make([]string, 0, len(t.byKey))
	for k := range t.byKey {
		ids = append(ids, keyID(k.name, k.hash))
	}
	sort.Strings(ids)
	return ids
}

// Keys returns the trusted verifier keys, sorted.
func (t *Trust) Keys() []string {
	if t == nil {
		return nil
	}
	keys := make([]string, 0, len(t.vkeys))
	for k := range t.vkeys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Len returns the number of trusted keys.
func (t *Trust) Len() int {
	if t == nil {
		return 0
	}
	return len(t.byKey)
}
