// Package sasl is the server side of the SASL mechanisms Sluice accepts:
// PLAIN against configured users, and SCRAM-SHA-256 and SCRAM-SHA-512
// against the credentials in the catalog. It knows nothing of the Kafka
// protocol: the handler carries its tokens in SaslAuthenticate (KIP-152).
//
// A failed exchange says only ErrFailed, whatever went wrong, so that
// nothing a client is told reveals whether a user exists. SCRAM goes
// further: an unknown user is given a made-up salt and the exchange fails
// at the proof, as a wrong password does, not at the first message.
package sasl

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"os"
	"slices"
	"strings"

	"github.com/xdg-go/scram"
)

// Mechanism names, as SaslHandshake carries them.
const (
	Plain       = "PLAIN"
	ScramSHA256 = "SCRAM-SHA-256"
	ScramSHA512 = "SCRAM-SHA-512"
)

// Known lists every mechanism this package implements.
var Known = []string{Plain, ScramSHA256, ScramSHA512}

// ErrFailed is every failed authentication: bad credentials, an unknown
// user, a malformed message. An error may wrap it with the cause, for the
// broker's log only: clients are told one message whatever the cause.
var ErrFailed = errors.New("authentication failed")

// Credential is a user's SCRAM credential for one mechanism.
type Credential struct {
	Salt       []byte
	Iterations int
	StoredKey  []byte
	ServerKey  []byte
}

// Config says what an Authenticator accepts.
type Config struct {
	// PlainUsers are the PLAIN users and their passwords.
	PlainUsers map[string]string
	// Scram looks up a user's credential for a SCRAM mechanism.
	Scram func(user, mechanism string) (Credential, bool)
}

// Authenticator starts exchanges. It is safe for concurrent use.
type Authenticator struct {
	cfg Config
	// secret makes the credentials of unknown users: stable for a user
	// while the broker runs, unguessable from outside.
	secret []byte
	// nonce makes the server's part of SCRAM nonces; nil is the
	// library's random one. Tests fix it to reach prefixedFinal.
	nonce scram.NonceGeneratorFcn
}

// New returns an authenticator over cfg.
func New(cfg Config) *Authenticator {
	secret := make([]byte, 32)
	_, _ = rand.Read(secret) // never fails (crypto/rand)
	return &Authenticator{cfg: cfg, secret: secret}
}

// Exchange is one authentication in progress.
type Exchange interface {
	// Step takes the client's next token and returns the server's answer.
	// done says the exchange ended and authenticated User; an error is
	// always ErrFailed (errors.Is) and ends the exchange.
	Step(in []byte) (out []byte, done bool, err error)
	// User is the authenticated user once Step said done.
	User() string
}

// Start begins an exchange of the mechanism, which must be one of Known.
func (a *Authenticator) Start(mechanism string) (Exchange, bool) {
	switch mechanism {
	case Plain:
		return &plainExchange{a: a}, true
	case ScramSHA256:
		return a.scram(mechanism, scram.SHA256), true
	case ScramSHA512:
		return a.scram(mechanism, scram.SHA512), true
	}
	return nil, false
}

// plainExchange checks one PLAIN message (RFC 4616): authorization id,
// user and password, separated by NUL bytes.
type plainExchange struct {
	a    *Authenticator
	user string
}

// unknownPassword is compared with when the user is unknown, so that an
// unknown user costs the same comparison as a known one.
const unknownPassword = "\x00unknown user\x00"

func (e *plainExchange) Step(in []byte) ([]byte, bool, error) {
	parts := strings.Split(string(in), "\x00")
	if len(parts) != 3 || parts[1] == "" || (parts[0] != "" && parts[0] != parts[1]) {
		return nil, false, ErrFailed
	}
	want, ok := e.a.cfg.PlainUsers[parts[1]]
	if !ok {
		want = unknownPassword
	}
	// Compare digests: ConstantTimeCompare returns early on a length
	// difference, which would tell the password's length.
	got, exp := sha256.Sum256([]byte(parts[2])), sha256.Sum256([]byte(want))
	if subtle.ConstantTimeCompare(got[:], exp[:]) != 1 || !ok {
		return nil, false, ErrFailed
	}
	e.user = parts[1]
	return nil, true, nil
}

func (e *plainExchange) User() string { return e.user }

// scramExchange runs the server side of RFC 5802 with the scram library,
// and checks librdkafka's final message itself (prefixedFinal), the one
// form the library refuses that Kafka accepts.
type scramExchange struct {
	conv  *scram.ServerConversation
	hash  scram.HashGeneratorFcn
	steps int
	user  string

	// What prefixedFinal needs of the first step, which the library keeps
	// to itself: the client-first message as sent, the server-first
	// message answered, and the credential the lookup gave (a made-up one
	// for an unknown user).
	first, serverFirst string
	cred               Credential
}

func (a *Authenticator) scram(mechanism string, h scram.HashGeneratorFcn) Exchange {
	e := &scramExchange{hash: h}
	srv, err := h.NewServer(func(user string) (scram.StoredCredentials, error) {
		c, ok := Credential{}, false
		if a.cfg.Scram != nil {
			c, ok = a.cfg.Scram(user, mechanism)
		}
		if !ok {
			c = a.unknownUser(mechanism, user)
		}
		e.cred = c
		return scram.StoredCredentials{
			KeyFactors: scram.KeyFactors{Salt: string(c.Salt), Iters: c.Iterations},
			StoredKey:  c.StoredKey, ServerKey: c.ServerKey,
		}, nil
	})
	if err != nil { // only for a nil lookup
		panic(err)
	}
	if a.nonce != nil {
		srv = srv.WithNonceGenerator(a.nonce)
	}
	e.conv = srv.NewConversation()
	return e
}

// unknownUser is the credential an unknown user is challenged with: a
// salt that stays the same for the user across attempts, as a real one
// would, and keys nobody has a password for.
func (a *Authenticator) unknownUser(mechanism, user string) Credential {
	derive := func(label string) []byte {
		m := hmac.New(sha256.New, a.secret)
		m.Write([]byte(label + "\x00" + mechanism + "\x00" + user))
		return m.Sum(nil)
	}
	return Credential{Salt: derive("salt")[:16], Iterations: MinIterations, StoredKey: derive("stored"), ServerKey: derive("server")}
}

func (e *scramExchange) Step(in []byte) (out []byte, done bool, err error) {
	// Whatever in the client's bytes the library or prefixedFinal does
	// not expect must fail the authentication, not the broker.
	defer func() {
		if v := recover(); v != nil {
			out, done, err = nil, false, fmt.Errorf("%w: a panic on the client's SCRAM message: %v", ErrFailed, v)
		}
	}()
	e.steps++
	// The library XORs the client's proof with a signature of the hash's
	// size, indexing the signature by the proof's length: a longer proof
	// must not reach it. Nor may a client-first message whose GS2 flag
	// is empty, which it indexes unchecked. prefixedFinal leaves the
	// library's conversation where it was, so a third token must be
	// refused here rather than taken for a final message.
	if e.steps == 2 && !proofFits(in, e.hash().Size()) || e.steps == 1 && len(in) > 0 && in[0] == ',' || e.steps > 2 {
		return nil, false, ErrFailed
	}
	var reply string
	if e.steps == 2 && e.nonceIsPrefixed(string(in)) {
		reply, err = e.prefixedFinal(string(in))
	} else {
		reply, err = e.conv.Step(string(in))
		if err == nil && e.conv.Done() && !e.conv.Valid() {
			err = errors.New("the library did not validate the exchange")
		}
	}
	if err != nil {
		return nil, false, fmt.Errorf("%w: %v", ErrFailed, err)
	}
	if e.steps == 1 {
		e.first, e.serverFirst = string(in), reply
		return []byte(reply), false, nil
	}
	// An authorization id other than the user would be acting for someone
	// else, which nothing here permits.
	if a := e.conv.AuthzID(); a != "" && a != e.conv.Username() {
		return nil, false, ErrFailed
	}
	e.user = e.conv.Username()
	return []byte(reply), true, nil
}

func (e *scramExchange) User() string { return e.user }

// librdkafka's client-final message is "c=biws,r=<client nonce><server
// nonce>,p=<proof>", where <server nonce> is the server-first message's
// whole r value, which itself starts with the client nonce: the client
// nonce comes twice, and the proof is computed over an AuthMessage holding
// exactly those bytes. RFC 5802 wants the r value equal to the server's,
// and the library refuses anything else; Kafka's broker only checks that
// it ends with the server's (ScramSaslServer.evaluateResponse) and so
// accepts librdkafka, whose users expect Sluice to do the same.
//
// Tolerating it costs nothing: what makes the exchange fresh is the server
// nonce, which must still be there, whole, at the end, and which the
// proof covers anyway through the server-first message in the
// AuthMessage, so a proof from another exchange is worth nothing here; the
// proof is checked over the AuthMessage built from the bytes the client
// sent, so nothing in them, the prefix included, can be changed without
// the password; and the ServerSignature is computed over the same
// AuthMessage, as the client computes it. Only this one form is checked
// here; every other message, the standard one first, goes to the library.

// nonceIsPrefixed reports whether the client-final message's r attribute,
// its second as the library reads it, is longer than the server's nonce
// and ends with it: the form only prefixedFinal accepts.
func (e *scramExchange) nonceIsPrefixed(final string) bool {
	fields := strings.Split(final, ",")
	if len(fields) < 2 {
		return false
	}
	nonce, ok := strings.CutPrefix(fields[1], "r=")
	server := e.serverNonce()
	return ok && len(nonce) > len(server) && strings.HasSuffix(nonce, server)
}

// serverNonce is the r value of the server-first message the library
// made: "r=<nonce>,s=<salt>,i=<iterations>".
func (e *scramExchange) serverNonce() string {
	r, _, _ := strings.Cut(e.serverFirst, ",")
	return strings.TrimPrefix(r, "r=")
}

// prefixedFinal checks a client-final message whose nonce ends with the
// server's, as RFC 5802 checks the proof otherwise (section 3), and
// returns the server-final message "v=<ServerSignature>". It accepts
// librdkafka's form only: no GS2 authorization id or channel binding (the
// client-first message began "n,,", so c is "biws"), no extensions.
func (e *scramExchange) prefixedFinal(final string) (string, error) {
	firstBare, ok := strings.CutPrefix(e.first, "n,,")
	fields := strings.Split(final, ",")
	if !ok || len(fields) != 3 || fields[0] != "c=biws" {
		return "", errors.New("a final message with a prefixed nonce must have no authorization id, channel binding or extension")
	}
	nonce, ok := strings.CutPrefix(fields[1], "r=")
	if !ok || !strings.HasSuffix(nonce, e.serverNonce()) {
		return "", errors.New("the final message's nonce does not end with the server's")
	}
	p, ok := strings.CutPrefix(fields[2], "p=")
	proof, err := base64.StdEncoding.DecodeString(p)
	if !ok || err != nil || len(proof) != e.hash().Size() {
		return "", errors.New("the final message's proof is malformed")
	}
	withoutProof := final[:strings.LastIndexByte(final, ',')]
	authMessage := []byte(firstBare + "," + e.serverFirst + "," + withoutProof)
	mac := func(key []byte) []byte {
		m := hmac.New(e.hash, key)
		m.Write(authMessage)
		return m.Sum(nil)
	}
	// ClientKey = ClientProof XOR ClientSignature; the client knew the
	// password if H(ClientKey) is the StoredKey.
	clientSignature := mac(e.cred.StoredKey)
	clientKey := make([]byte, len(proof))
	for i := range proof {
		clientKey[i] = proof[i] ^ clientSignature[i]
	}
	h := e.hash()
	h.Write(clientKey)
	if !hmac.Equal(h.Sum(nil), e.cred.StoredKey) {
		return "", errors.New("the final message's proof is invalid")
	}
	return "v=" + base64.StdEncoding.EncodeToString(mac(e.cred.ServerKey)), nil
}

// proofFits reports whether the client-final message's proof, its last
// attribute, decodes to size bytes.
func proofFits(msg []byte, size int) bool {
	i := bytes.LastIndexByte(msg, ',')
	p, ok := bytes.CutPrefix(msg[i+1:], []byte("p="))
	if !ok {
		return false
	}
	proof, err := base64.StdEncoding.DecodeString(string(p))
	return err == nil && len(proof) == size
}

// The iteration counts a SCRAM credential may have (Kafka's bounds).
const (
	MinIterations = 4096
	MaxIterations = 16384
)

// ScramKeys derives a credential's stored and server keys from its salted
// password (RFC 5802: StoredKey = H(HMAC(SaltedPassword, "Client Key")),
// ServerKey = HMAC(SaltedPassword, "Server Key")). AlterUserScramCredentials
// carries the salted password; only these keys are kept.
func ScramKeys(mechanism string, saltedPassword []byte) (storedKey, serverKey []byte, ok bool) {
	var h func() hash.Hash
	switch mechanism {
	case ScramSHA256:
		h = sha256.New
	case ScramSHA512:
		h = sha512.New
	default:
		return nil, nil, false
	}
	mac := func(key []byte, msg string) []byte {
		m := hmac.New(h, key)
		m.Write([]byte(msg))
		return m.Sum(nil)
	}
	d := h()
	d.Write(mac(saltedPassword, "Client Key"))
	return d.Sum(nil), mac(saltedPassword, "Server Key"), true
}

// IsScram reports whether mechanism is one of the SCRAM mechanisms.
func IsScram(mechanism string) bool {
	return slices.Contains([]string{ScramSHA256, ScramSHA512}, mechanism)
}

// ReadPlainUsers reads PLAIN's users from a file of lines "name=password":
// the first '=' ends the name, spaces around name and password are
// dropped, and blank lines and lines starting with '#' are skipped.
func ReadPlainUsers(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	users := map[string]string{}
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, pass, ok := strings.Cut(line, "=")
		name, pass = strings.TrimSpace(name), strings.TrimSpace(pass)
		switch {
		case !ok || name == "":
			return nil, fmt.Errorf("%s line %d: not name=password", path, i+1)
		case pass == "":
			return nil, fmt.Errorf("%s line %d: user %q has an empty password", path, i+1, name)
		}
		if _, dup := users[name]; dup {
			return nil, fmt.Errorf("%s line %d: user %q is listed twice", path, i+1, name)
		}
		users[name] = pass
	}
	return users, nil
}
