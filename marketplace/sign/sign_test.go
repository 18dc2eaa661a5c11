package sign

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

var expires = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

var indexBytes = []byte(`{"schema": 1, "version": 5}` + "\n")

func genKey(t *testing.T, name string) (skey, vkey string) {
	t.Helper()
	skey, vkey, err := GenerateKey(name)
	if err != nil {
		t.Fatal(err)
	}
	return skey, vkey
}

func trust(t *testing.T, vkeys ...string) *Trust {
	t.Helper()
	tr, err := NewTrust(vkeys...)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// signText signs arbitrary note text, to build signature files Sign would
// never write.
func signText(t *testing.T, skey, text string) []byte {
	t.Helper()
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := note.Sign(&note.Note{Text: text}, s)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

func TestSignVerify(t *testing.T) {
	skey, vkey := genKey(t, "registry.example.com")
	sig, err := Sign(skey, indexBytes, Meta{Version: 5, Expires: expires.In(time.FixedZone("x", 3600))})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(sig), Header+"\nsha256 ") || !strings.Contains(string(sig), "\nversion 5\nexpires 2026-10-01T00:00:00Z\n\n— registry.example.com ") {
		t.Fatalf("unexpected signature file:\n%s", sig)
	}
	s, err := Verify(sig, indexBytes, trust(t, vkey))
	if err != nil {
		t.Fatal(err)
	}
	if s.KeyName != "registry.example.com" || s.Version != 5 || !s.Expires.Equal(expires) || len(s.SHA256) != 64 {
		t.Fatalf("Signed = %+v", s)
	}
	if !strings.HasPrefix(vkey, s.Key()+"+") {
		t.Fatalf("Key() = %s, vkey %s", s.Key(), vkey)
	}
	// Plain note.VerifierList works too.
	v, _ := note.NewVerifier(vkey)
	if _, err := Verify(sig, indexBytes, note.VerifierList(v)); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyFailures(t *testing.T) {
	skey, vkey := genKey(t, "reg")
	sameNameSkey, _ := genKey(t, "reg") // another key with the same name
	otherSkey, _ := genKey(t, "mallory")
	good, err := Sign(skey, indexBytes, Meta{Version: 5, Expires: expires})
	if err != nil {
		t.Fatal(err)
	}
	byOther, _ := Sign(otherSkey, indexBytes, Meta{Version: 5, Expires: expires})
	bySameName, _ := Sign(sameNameSkey, indexBytes, Meta{Version: 5, Expires: expires})

	tamperedIndex := bytes.Replace(indexBytes, []byte("5"), []byte("6"), 1)
	tamperedText := bytes.Replace(good, []byte("version 5"), []byte("version 9"), 1)
	flipped := flipSigBit(t, good)
	otherPurpose := signText(t, skey, "hello\n")
	badVersion := signText(t, skey, Header+"\nsha256 "+strings.Repeat("a", 64)+"\nversion 05\nexpires 2026-10-01T00:00:00Z\n")
	badHash := signText(t, skey, Header+"\nsha256 xyz\nversion 5\nexpires 2026-10-01T00:00:00Z\n")
	futureFormat := signText(t, skey, "skills-index v2\nsha256 "+strings.Repeat("a", 64)+"\n")
	extraLine := signText(t, skey, Header+"\nsha256 "+strings.Repeat("a", 64)+"\nversion 5\nexpires 2026-10-01T00:00:00Z\nmirror x\n")

	tests := []struct {
		name    string
		sig     []byte
		index   []byte
		trusted *Trust
		is      error
		want    []string
	}{
		{"unsigned", nil, indexBytes, trust(t, vkey), ErrUnsigned, nil},
		{"index edited after signing", good, tamperedIndex, trust(t, vkey), ErrMismatch, []string{"signature is for"}},
		{"signed text edited", tamperedText, indexBytes, trust(t, vkey), ErrBadSignature, []string{"by key reg+"}},
		{"signature byte flipped", flipped, indexBytes, trust(t, vkey), ErrBadSignature, []string{"reg+"}},
		{"untrusted key", byOther, indexBytes, trust(t, vkey), ErrUntrusted, []string{"signed by mallory+", "trusted: reg+"}},
		{"wrong key with trusted name", bySameName, indexBytes, trust(t, vkey), ErrUntrusted, []string{"signed by reg+"}},
		{"nothing trusted", good, indexBytes, trust(t), ErrUntrusted, []string{"no keys are trusted"}},
		{"nil trust", good, indexBytes, nil, ErrUntrusted, nil},
		{"garbage", []byte("not a note"), indexBytes, trust(t, vkey), ErrMalformed, nil},
		{"binary", []byte{0, 1, 2, '\n', '\n'}, indexBytes, trust(t, vkey), ErrMalformed, nil},
		{"huge", bytes.Repeat([]byte("a"), MaxSigSize+1), indexBytes, trust(t, vkey), ErrMalformed, []string{"limit"}},
		{"note for another purpose", otherPurpose, indexBytes, trust(t, vkey), ErrMalformed, []string{"not an index signature"}},
		{"future format", futureFormat, indexBytes, trust(t, vkey), ErrMalformed, []string{"unsupported signature format"}},
		{"non-canonical version", badVersion, indexBytes, trust(t, vkey), ErrMalformed, []string{"line 3"}},
		{"bad hash line", badHash, indexBytes, trust(t, vkey), ErrMalformed, []string{"line 2"}},
		{"extra line", extraLine, indexBytes, trust(t, vkey), ErrMalformed, []string{"5 lines"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var vs note.Verifiers = tc.trusted
			if tc.trusted == nil {
				vs = (*Trust)(nil)
			}
			s, err := Verify(tc.sig, tc.index, vs)
			if err == nil {
				t.Fatalf("verified: %+v", s)
			}
			if !errors.Is(err, tc.is) {
				t.Fatalf("error %v is not %v", err, tc.is)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// flipSigBit flips one bit of the Ed25519 signature (not the key hash) in
// the note's last signature line, keeping the base64 well-formed.
func flipSigBit(t *testing.T, msg []byte) []byte {
	t.Helper()
	text := strings.TrimSuffix(string(msg), "\n")
	i := strings.LastIndex(text, " ")
	raw, err := base64.StdEncoding.DecodeString(text[i+1:])
	if err != nil {
		t.Fatal(err)
	}
	raw[4+10] ^= 1
	return []byte(text[:i+1] + base64.StdEncoding.EncodeToString(raw) + "\n")
}

func TestCosigned(t *testing.T) {
	oldSkey, oldVkey := genKey(t, "reg-2025")
	newSkey, newVkey := genKey(t, "reg-2026")
	sig, err := Sign(oldSkey, indexBytes, Meta{Version: 1, Expires: expires})
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(sig, trust(t, oldVkey))
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := note.NewSigner(newSkey)
	both, err := note.Sign(n, s2)
	if err != nil {
		t.Fatal(err)
	}
	// A client that trusts only one of the keys accepts the co-signed note.
	for _, vk := range []string{oldVkey, newVkey} {
		s, err := Verify(both, indexBytes, trust(t, vk))
		if err != nil {
			t.Fatalf("trusting %s: %v", vk, err)
		}
		if !strings.HasPrefix(vk, s.KeyName+"+") {
			t.Fatalf("KeyName %s for %s", s.KeyName, vk)
		}
	}
}

func TestSignRefuses(t *testing.T) {
	skey, _ := genKey(t, "reg")
	if _, err := Sign("PRIVATE+KEY+x+secretstuff", indexBytes, Meta{Version: 1, Expires: expires}); err == nil || strings.Contains(err.Error(), "secretstuff") {
		t.Fatalf("bad key: %v", err)
	}
	if _, err := Sign(skey, indexBytes, Meta{Version: 0, Expires: expires}); err == nil {
		t.Fatal("version 0 signed")
	}
	if _, err := Sign(skey, indexBytes, Meta{Version: 1}); err == nil {
		t.Fatal("no expiry signed")
	}
	for _, name := range []string{"", "a b", "a+b"} {
		if _, _, err := GenerateKey(name); err == nil {
			t.Errorf("GenerateKey(%q): no error", name)
		}
	}
}

func TestKeyFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	vkey, err := WriteKeyFile(dir, "bundled")
	if err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(dir, "bundled.key")
	fi, err := os.Stat(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %04o, want 0600", fi.Mode().Perm())
	}
	pub, err := os.ReadFile(filepath.Join(dir, "bundled.pub"))
	if err != nil || string(pub) != vkey+"\n" {
		t.Fatalf("pub file %q, %v", pub, err)
	}
	if _, err := WriteKeyFile(dir, "bundled"); err == nil {
		t.Fatal("overwrote an existing key")
	}
	if _, err := WriteKeyFile(dir, "a/b"); err == nil {
		t.Fatal("key name with a slash accepted as a file name")
	}
	skey, err := ReadKeyFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := Sign(skey, indexBytes, Meta{Version: 2, Expires: expires})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := LoadTrust(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(sig, indexBytes, tr); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(keyPath, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadKeyFile(keyPath); err == nil || !strings.Contains(err.Error(), "readable by others") {
		t.Fatalf("world-readable key: %v", err)
	}
	if _, err := ReadKeyFile(filepath.Join(dir, "bundled.pub")); err == nil {
		t.Fatal("verifier key read as signer key")
	}
}

func TestLoadTrust(t *testing.T) {
	skey1, vkey1 := genKey(t, "one")
	_, vkey2 := genKey(t, "two")
	dir := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("one.pub", vkey1+"\n")
	write("team.pub", "# the team keys\n\n"+vkey2+"\n"+vkey1+"\n")
	write("notes.txt", "ignored: not a .pub file\n")
	tr, err := LoadTrust(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Len() != 2 || len(tr.Keys()) != 2 || !strings.HasPrefix(tr.IDs()[0], "one+") {
		t.Fatalf("trust = %v", tr.IDs())
	}
	sig, _ := Sign(skey1, indexBytes, Meta{Version: 1, Expires: expires})
	if _, err := Verify(sig, indexBytes, tr); err != nil {
		t.Fatal(err)
	}

	empty, err := LoadTrust(filepath.Join(dir, "missing"))
	if err != nil || empty.Len() != 0 {
		t.Fatalf("missing dir: %v, %d keys", err, empty.Len())
	}

	write("bad.pub", vkey2+"\nnot-a-key\n")
	if _, err := LoadTrust(dir); err == nil || !strings.Contains(err.Error(), "bad.pub:2") {
		t.Fatalf("bad line: %v", err)
	}
	os.Remove(filepath.Join(dir, "bad.pub"))
	write("oops.pub", skey1+"\n")
	if _, err := LoadTrust(dir); err == nil || !strings.Contains(err.Error(), "secret signer key") || strings.Contains(err.Error(), skey1) {
		t.Fatalf("secret key in trust: %v", err)
	}
}
