package sasl

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
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
// without the password. The server nonce is fixed, so that the fuzzer
// reaches librdkafka's form of the final message (prefixedFinal) from the
// good seeds, the only pairs allowed to authenticate.
func FuzzExchange(f *testing.F) {
	f.Add([]byte("\x00bob\x00builder"), []byte("c=biws,r=x,p=AAAA"))
	f.Add([]byte("n,,n=alice,r=abc"), []byte("c=biws,r=abc,p="+string(make([]byte, 200))))
	f.Add([]byte("n,a=alice,n=alice,r=abc,e=1"), []byte("c=,r=,p=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))
	a := fixedNonceAuth(f)
	good := map[string]bool{}
	for _, mech := range []string{ScramSHA256, ScramSHA512} {
		e, _ := a.Start(mech)
		serverFirst, _, err := e.Step([]byte("n,,n=alice,r=CLI"))
		if err != nil {
			f.Fatal(err)
		}
		for _, withoutProof := range []string{"c=biws,r=CLISRV", "c=biws,r=CLICLISRV"} {
			final, _ := finalFor(f, mech, "wonderland", "n=alice,r=CLI", string(serverFirst), withoutProof)
			good[mech+"\x00n,,n=alice,r=CLI\x00"+final] = true
			e, _ := a.Start(mech)
			e.Step([]byte("n,,n=alice,r=CLI"))
			if _, done, err := e.Step([]byte(final)); err != nil || !done {
				f.Fatalf("%s: a good seed is refused: %v", mech, err)
			}
			f.Add([]byte("n,,n=alice,r=CLI"), []byte(final))
		}
	}
	// base64 skips line breaks, so a good proof may be split across lines.
	unbroken := strings.NewReplacer("\r", "", "\n", "")
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
			if _, done, err := e.Step(second); err == nil && done && !good[mech+"\x00"+string(first)+"\x00"+unbroken.Replace(string(second))] {
				t.Fatalf("%s authenticated %q with %q, %q", mech, e.User(), first, second)
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

// fixedNonceAuth is newAuth whose SCRAM server nonces end in "SRV", so
// that a test or the fuzzer can write a final message for it.
func fixedNonceAuth(t testing.TB) *Authenticator {
	a := newAuth(t)
	a.nonce = func() string { return "SRV" }
	return a
}

// finalFor is the client-final message a client knowing password sends:
// withoutProof (whatever nonce, binding and extensions it holds), then
// the proof computed from the password over the AuthMessage of exactly
// those bytes, as RFC 5802 section 3 has it. It also returns the
// server-final message the client expects. It is written from the RFC,
// apart from the library and from sasl.go, and is checked against the
// library's client in TestScramFinalForIsTheLibrarysClient.
func finalFor(t testing.TB, mech, password, firstBare, serverFirst, withoutProof string) (final, serverFinal string) {
	t.Helper()
	h, hf := sha256.New, scram.SHA256
	if mech == ScramSHA512 {
		h, hf = sha512.New, scram.SHA512
	}
	var salt []byte
	var iters int
	for _, f := range splitComma(serverFirst) {
		switch {
		case strings.HasPrefix(f, "s="):
			salt, _ = base64.StdEncoding.DecodeString(f[2:])
		case strings.HasPrefix(f, "i="):
			iters, _ = strconv.Atoi(f[2:])
		}
	}
	mac := func(key []byte, msg string) []byte {
		m := hmac.New(h, key)
		m.Write([]byte(msg))
		return m.Sum(nil)
	}
	salted := SaltedPassword(t, mech, password, salt, iters)
	clientKey := mac(salted, "Client Key")
	d := hf()
	d.Write(clientKey)
	authMessage := firstBare + "," + serverFirst + "," + withoutProof
	sig := mac(d.Sum(nil), authMessage)
	proof := make([]byte, len(sig))
	for i := range sig {
		proof[i] = clientKey[i] ^ sig[i]
	}
	serverSig := mac(mac(salted, "Server Key"), authMessage)
	return withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof), "v=" + base64.StdEncoding.EncodeToString(serverSig)
}

// firstStep starts an exchange with the client-first message first.
func firstStep(t *testing.T, a *Authenticator, mech, first string) (Exchange, string) {
	t.Helper()
	e, _ := a.Start(mech)
	out, done, err := e.Step([]byte(first))
	if err != nil || done {
		t.Fatalf("first step: done %v, err %v", done, err)
	}
	return e, string(out)
}

// finalFor writes what the library's client writes, for the standard
// final message; so it is a faithful client for the other forms too.
func TestScramFinalForIsTheLibrarysClient(t *testing.T) {
	for _, mech := range []string{ScramSHA256, ScramSHA512} {
		h := scram.SHA256
		if mech == ScramSHA512 {
			h = scram.SHA512
		}
		cl, err := h.NewClient("alice", "wonderland", "")
		if err != nil {
			t.Fatal(err)
		}
		conv := cl.WithNonceGenerator(func() string { return "CLI" }).NewConversation()
		first, _ := conv.Step("")
		e, serverFirst := firstStep(t, fixedNonceAuth(t), mech, first)
		final, _ := conv.Step(serverFirst)
		mine, wantServerFinal := finalFor(t, mech, "wonderland", "n=alice,r=CLI", serverFirst, "c=biws,r=CLISRV")
		if first != "n,,n=alice,r=CLI" || final != mine {
			t.Fatalf("%s: the library's client sent %q then %q; finalFor wrote %q", mech, first, final, mine)
		}
		out, done, err := e.Step([]byte(final))
		if err != nil || !done || string(out) != wantServerFinal {
			t.Fatalf("%s: server final %q, done %v, err %v; want %q", mech, out, done, err, wantServerFinal)
		}
		if _, err := conv.Step(string(out)); err != nil || !conv.Valid() {
			t.Fatalf("%s: the library's client refused the server's signature: %v", mech, err)
		}
	}
}

// librdkafka's final message, the client nonce repeated in front of the
// server's, authenticates, and the server signature is the one the client
// computes over the bytes it sent.
func TestScramPrefixedNonce(t *testing.T) {
	for _, mech := range []string{ScramSHA256, ScramSHA512} {
		e, serverFirst := firstStep(t, fixedNonceAuth(t), mech, "n,,n=alice,r=CLI")
		final, wantServerFinal := finalFor(t, mech, "wonderland", "n=alice,r=CLI", serverFirst, "c=biws,r=CLICLISRV")
		out, done, err := e.Step([]byte(final))
		if err != nil || !done || e.User() != "alice" || string(out) != wantServerFinal {
			t.Fatalf("%s: out %q, done %v, err %v, user %q; want %q", mech, out, done, err, e.User(), wantServerFinal)
		}
		// The exchange is over: a further token is refused.
		if _, done, err := e.Step([]byte(final)); !errors.Is(err, ErrFailed) || done {
			t.Fatalf("%s: a third token: done %v, err %v", mech, done, err)
		}
	}
}

// Every final message that is not the standard one or librdkafka's with
// a good proof is refused. Each is sent with the proof a client knowing
// the password computes over its bytes, unless the case says otherwise,
// so that it is the form that is refused.
func TestScramPrefixedNonceRefused(t *testing.T) {
	const bare = "n=alice,r=CLI"
	for _, mech := range []string{ScramSHA256, ScramSHA512} {
		for _, c := range []struct {
			name, first, password, withoutProof string
			tamper                              func(final string) string
		}{
			{name: "wrong password", withoutProof: "c=biws,r=CLICLISRV", password: "looking-glass"},
			{name: "unknown user", first: "n,,n=mallory,r=CLI", withoutProof: "c=biws,r=CLICLISRV"},
			{name: "nonce not ending with the server's", withoutProof: "c=biws,r=CLICLISRX"},
			{name: "server nonce followed by more", withoutProof: "c=biws,r=CLICLISRVX"},
			{name: "nonce ending with part of the server's", withoutProof: "c=biws,r=XXXXXXXRV"},
			{name: "nonce shorter than the server's", withoutProof: "c=biws,r=LISRV"},
			{name: "the client nonce alone", withoutProof: "c=biws,r=CLI"},
			{name: "empty nonce", withoutProof: "c=biws,r="},
			{name: "binding y", first: "y,," + bare, withoutProof: "c=eSws,r=CLICLISRV"},
			{name: "binding of another header", withoutProof: "c=eSws,r=CLICLISRV"},
			{name: "binding empty", withoutProof: "c=,r=CLICLISRV"},
			{name: "authorization id", first: "n,a=alice," + bare, withoutProof: "c=bixhPWFsaWNlLA==,r=CLICLISRV"},
			{name: "extension", withoutProof: "c=biws,r=CLICLISRV,x=1"},
			{name: "tampered nonce prefix", withoutProof: "c=biws,r=CLICLISRV", tamper: func(f string) string { return strings.Replace(f, "r=CLI", "r=CLJ", 1) }},
			{name: "tampered proof", withoutProof: "c=biws,r=CLICLISRV", tamper: func(f string) string {
				rest, p, _ := strings.Cut(f, ",p=")
				proof, _ := base64.StdEncoding.DecodeString(p)
				proof[0] ^= 1
				return rest + ",p=" + base64.StdEncoding.EncodeToString(proof)
			}},
		} {
			first := c.first
			if first == "" {
				first = "n,," + bare
			}
			password := c.password
			if password == "" {
				password = "wonderland"
			}
			e, serverFirst := firstStep(t, fixedNonceAuth(t), mech, first)
			final, _ := finalFor(t, mech, password, strings.SplitN(first, ",", 3)[2], serverFirst, c.withoutProof)
			if c.tamper != nil {
				final = c.tamper(final)
			}
			if out, done, err := e.Step([]byte(final)); !errors.Is(err, ErrFailed) || done || out != nil {
				t.Errorf("%s: %s: %q: out %q, done %v, err %v; want refused", mech, c.name, final, out, done, err)
			}
			// The nonce cases go to the library; prefixedFinal refuses
			// them too.
			e, _ = firstStep(t, fixedNonceAuth(t), mech, first)
			if out, err := e.(*scramExchange).prefixedFinal(final); err == nil || out != "" {
				t.Errorf("%s: %s: %q: prefixedFinal said %q", mech, c.name, final, out)
			}
		}
	}
}

// For the standard final message prefixedFinal agrees with the library:
// the same server signature for a good proof, a refusal for a bad one.
func TestScramPrefixedFinalAgreesWithTheLibrary(t *testing.T) {
	for _, mech := range []string{ScramSHA256, ScramSHA512} {
		for _, password := range []string{"wonderland", "looking-glass"} {
			a := fixedNonceAuth(t)
			lib, serverFirst := firstStep(t, a, mech, "n,,n=alice,r=CLI")
			mine, _ := firstStep(t, a, mech, "n,,n=alice,r=CLI")
			final, _ := finalFor(t, mech, password, "n=alice,r=CLI", serverFirst, "c=biws,r=CLISRV")
			libOut, _, libErr := lib.Step([]byte(final))
			mineOut, mineErr := mine.(*scramExchange).prefixedFinal(final)
			if string(libOut) != mineOut || (libErr == nil) != (mineErr == nil) {
				t.Errorf("%s, %s: the library says %q, %v; prefixedFinal %q, %v", mech, password, libOut, libErr, mineOut, mineErr)
			}
		}
	}
}

// A panic in the final step fails the authentication, not the caller.
func TestScramPanicFails(t *testing.T) {
	e, _ := firstStep(t, fixedNonceAuth(t), ScramSHA256, "n,,n=alice,r=CLI")
	e.(*scramExchange).hash = nil // the final step calls it
	final, _ := finalFor(t, ScramSHA256, "wonderland", "n=alice,r=CLI", "r=CLISRV,s=c2FsdC0yNTY=,i=4096", "c=biws,r=CLICLISRV")
	if _, done, err := e.Step([]byte(final)); !errors.Is(err, ErrFailed) || done {
		t.Fatalf("done %v, err %v", done, err)
	}
}
