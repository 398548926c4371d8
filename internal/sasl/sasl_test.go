package sasl

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/xdg-go/scram"
)

// saltedPassword is what a client sends in AlterUserScramCredentials.
func credential(t testing.TB, mechanism, password string, salt []byte, iters int) Credential {
	t.Helper()
	h := scram.SHA256
	if mechanism == ScramSHA512 {
		h = scram.SHA512
	}
	c, err := h.NewClient("ignored", password, "")
	if err != nil {
		t.Fatal(err)
	}
	kf := scram.KeyFactors{Salt: string(salt), Iters: iters}
	stored := c.GetStoredCredentials(kf)
	// The client library derives the keys from the password; check that
	// ScramKeys derives the same from the salted password a client sends.
	salted := SaltedPassword(t, mechanism, password, salt, iters)
	sk, vk, ok := ScramKeys(mechanism, salted)
	if !ok || string(sk) != string(stored.StoredKey) || string(vk) != string(stored.ServerKey) {
		t.Fatalf("ScramKeys differ from the library's derivation")
	}
	return Credential{Salt: salt, Iterations: iters, StoredKey: sk, ServerKey: vk}
}

// SaltedPassword is Hi(password, salt, iterations) of RFC 5802, what a
// client sends in AlterUserScramCredentials.
func SaltedPassword(t testing.TB, mechanism, password string, salt []byte, iters int) []byte {
	h, size := sha256.New, sha256.Size
	if mechanism == ScramSHA512 {
		h, size = sha512.New, sha512.Size
	}
	k, err := pbkdf2.Key(h, password, salt, iters, size)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newAuth(t testing.TB) *Authenticator {
	creds := map[string]Credential{
		"alice/" + ScramSHA256: credential(t, ScramSHA256, "wonderland", []byte("salt-256"), 4096),
		"alice/" + ScramSHA512: credential(t, ScramSHA512, "wonderland", []byte("salt-512"), 8192),
	}
	return New(Config{
		PlainUsers: map[string]string{"bob": "builder"},
		Scram: func(user, mech string) (Credential, bool) {
			c, ok := creds[user+"/"+mech]
			return c, ok
		},
	})
}

func TestPlain(t *testing.T) {
	a := newAuth(t)
	for _, c := range []struct {
		msg  string
		user string // "": refused
	}{
		{"\x00bob\x00builder", "bob"},
		{"bob\x00bob\x00builder", "bob"},
		{"eve\x00bob\x00builder", ""}, // acting as someone else
		{"\x00bob\x00builde", ""},
		{"\x00bob\x00builderr", ""},
		{"\x00nobody\x00builder", ""},
		{"\x00\x00", ""},
		{"\x00bob", ""},
		{"\x00bob\x00builder\x00", ""},
	} {
		e, _ := a.Start(Plain)
		out, done, err := e.Step([]byte(c.msg))
		if c.user == "" {
			if !errors.Is(err, ErrFailed) || done || out != nil {
				t.Errorf("%q: done %v, err %v; want ErrFailed", c.msg, done, err)
			}
			continue
		}
		if err != nil || !done || e.User() != c.user {
			t.Errorf("%q: done %v, err %v, user %q", c.msg, done, err, e.User())
		}
	}
}

// runScram plays the client side of one exchange; it returns the step at
// which the server refused (0: it authenticated).
func runScram(t *testing.T, a *Authenticator, mech, user, password string) (int, Exchange) {
	t.Helper()
	h := scram.SHA256
	if mech == ScramSHA512 {
		h = scram.SHA512
	}
	cl, err := h.NewClient(user, password, "")
	if err != nil {
		t.Fatal(err)
	}
	conv := cl.NewConversation()
	srv, ok := a.Start(mech)
	if !ok {
		t.Fatal("mechanism not started")
	}
	msg, err := conv.Step("")
	if err != nil {
		t.Fatal(err)
	}
	for step := 1; ; step++ {
		out, done, err := srv.Step([]byte(msg))
		if err != nil {
			if !errors.Is(err, ErrFailed) {
				t.Fatalf("step %d: %v", step, err)
			}
			return step, srv
		}
		if msg, err = conv.Step(string(out)); err != nil {
			t.Fatalf("client refused the server at step %d: %v", step, err)
		}
		if done {
			if !conv.Valid() {
				t.Fatal("client did not verify the server")
			}
			return 0, srv
		}
	}
}

func TestScram(t *testing.T) {
	a := newAuth(t)
	for _, mech := range []string{ScramSHA256, ScramSHA512} {
		if step, e := runScram(t, a, mech, "alice", "wonderland"); step != 0 || e.User() != "alice" {
			t.Errorf("%s: good password refused at step %d", mech, step)
		}
		// A wrong password and an unknown user fail alike: at the proof,
		// the second step, never at the first.
		if step, _ := runScram(t, a, mech, "alice", "looking-glass"); step != 2 {
			t.Errorf("%s: wrong password refused at step %d, want 2", mech, step)
		}
		if step, _ := runScram(t, a, mech, "mallory", "wonderland"); step != 2 {
			t.Errorf("%s: unknown user refused at step %d, want 2", mech, step)
		}
	}
}

// An unknown user is challenged with the same salt each time, as a known
// one is, so that two attempts do not tell them apart.
func TestScramUnknownUserSaltIsStable(t *testing.T) {
	a := newAuth(t)
	salt := func() string {
		e, _ := a.Start(ScramSHA256)
		out, _, err := e.Step([]byte("n,,n=mallory,r=abcdefgh"))
		if err != nil {
			t.Fatal(err)
		}
		// r=<nonce>,s=<salt>,i=<iterations>
		var s string
		for _, f := range splitComma(string(out)) {
			if len(f) > 2 && f[:2] == "s=" {
				s = f
			}
		}
		return s
	}
	if s1, s2 := salt(), salt(); s1 == "" || s1 != s2 {
		t.Fatalf("salts %q, %q", s1, s2)
	}
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == ',' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// FuzzExchange feeds arbitrary tokens to every mechanism, as the first
// and as the second message of SCRAM: no panic, and nothing authenticates
// without the password.
func FuzzExchange(f *testing.F) {
	f.Add([]byte("\x00bob\x00builder"), []byte("c=biws,r=x,p=AAAA"))
	f.Add([]byte("n,,n=alice,r=abc"), []byte("c=biws,r=abc,p="+string(make([]byte, 200))))
	f.Add([]byte("n,a=alice,n=alice,r=abc,e=1"), []byte("c=,r=,p=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))
	a := newAuth(f)
	f.Fuzz(func(t *testing.T, first, second []byte) {
		for _, mech := range Known {
			e, _ := a.Start(mech)
			out, done, err := e.Step(first)
			if err != nil {
				continue
			}
			if done {
				if mech != Plain || string(first) != "\x00bob\x00builder" && string(first) != "bob\x00bob\x00builder" {
					t.Fatalf("%s authenticated %q with %q", mech, e.User(), first)
				}
				continue
			}
			_ = out
			if _, done, err := e.Step(second); err == nil && done {
				t.Fatalf("%s authenticated %q without a proof", mech, e.User())
			}
		}
	})
}

// A proof longer than the hash, in an otherwise well-formed final message,
// is refused, not handed to the library (which would index past its
// signature).
func TestScramLongProof(t *testing.T) {
	a := newAuth(t)
	e, _ := a.Start(ScramSHA256)
	out, _, err := e.Step([]byte("n,,n=alice,r=abc"))
	if err != nil {
		t.Fatal(err)
	}
	nonce := splitComma(string(out))[0]
	final := "c=biws," + nonce + ",p=" + base64.StdEncoding.EncodeToString(make([]byte, 100))
	if _, done, err := e.Step([]byte(final)); !errors.Is(err, ErrFailed) || done {
		t.Fatalf("done %v, err %v", done, err)
	}
}
