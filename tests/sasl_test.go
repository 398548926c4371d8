package tests

import (
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"sluice/internal/broker"
	"sluice/internal/brokertest"
)

// The PLAIN user every SASL test's broker has; SCRAM users are created
// through it.
const (
	plainUser = "admin"
	plainPass = "admin-secret"
)

func saslBroker(t *testing.T, opts ...brokertest.Option) *brokertest.Broker {
	t.Helper()
	base := brokertest.WithConfig(func(c *broker.Config) {
		c.SecurityProtocol = "SASL_PLAINTEXT"
		c.SASLMechanisms = []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}
		c.SASLPlainUsers = map[string]string{plainUser: plainPass}
	})
	return brokertest.Start(t, append([]brokertest.Option{base}, opts...)...)
}

func plainAuth(user, pass string) kgo.Opt {
	return kgo.SASL(plain.Auth{User: user, Pass: pass}.AsMechanism())
}

func scramAuth(mech, user, pass string) kgo.Opt {
	a := scram.Auth{User: user, Pass: pass}
	if mech == "SCRAM-SHA-512" {
		return kgo.SASL(a.AsSha512Mechanism())
	}
	return kgo.SASL(a.AsSha256Mechanism())
}

// createScramUser upserts a SCRAM credential through kadm, which salts
// and hashes the password on the client as KIP-554 has it.
func createScramUser(t *testing.T, adm *kadm.Client, mech, user, pass string) {
	t.Helper()
	m := kadm.ScramSha256
	if mech == "SCRAM-SHA-512" {
		m = kadm.ScramSha512
	}
	res, err := adm.AlterUserSCRAMs(testCtx(t, 10*time.Second), nil, []kadm.UpsertSCRAM{{User: user, Mechanism: m, Iterations: 4096, Password: pass}})
	if err != nil {
		t.Fatal(err)
	}
	if r := res[user]; r.Err != nil {
		t.Fatalf("upsert %s for %s: %v", mech, user, r.Err)
	}
}

// produceConsume produces n records with one client and reads them back
// with another, both authenticating with auth.
func produceConsume(t *testing.T, addr string, auth kgo.Opt, n int) {
	t.Helper()
	topic := topicName(t, "sasl")
	createTopic(t, kadm.NewClient(newClient(t, addr, plainAuth(plainUser, plainPass))), topic, 1, nil)
	p := newClient(t, addr, auth, kgo.DefaultProduceTopic(topic))
	for i := 0; i < n; i++ {
		if err := p.ProduceSync(testCtx(t, 20*time.Second), &kgo.Record{Value: val(i)}).FirstErr(); err != nil {
			t.Fatalf("produce %d: %v", i, err)
		}
	}
	for i, r := range consumeN(t, addr, topic, n, auth) {
		if atoi(t, r.Value) != i {
			t.Fatalf("record %d is %s", i, r.Value)
		}
	}
}

func TestSASLPlainProduceConsume(t *testing.T) {
	b := saslBroker(t)
	produceConsume(t, b.Addr(), plainAuth(plainUser, plainPass), 20)
}

func TestSASLScramProduceConsume(t *testing.T) {
	b := saslBroker(t)
	adm := kadm.NewClient(newClient(t, b.Addr(), plainAuth(plainUser, plainPass)))
	for _, mech := range []string{"SCRAM-SHA-256", "SCRAM-SHA-512"} {
		t.Run(mech, func(t *testing.T) {
			user := "u-" + strings.ToLower(mech)
			createScramUser(t, adm, mech, user, "pw-"+mech)
			produceConsume(t, b.Addr(), scramAuth(mech, user, "pw-"+mech), 20)
		})
	}
}

// authError is what a client's first request gets when its
// authentication fails.
func authError(t *testing.T, addr string, auth kgo.Opt) error {
	t.Helper()
	cl := newClient(t, addr, auth, kgo.RetryTimeout(time.Second))
	err := cl.Ping(testCtx(t, 10*time.Second))
	if err == nil {
		t.Fatal("authenticated")
	}
	return err
}

// A wrong password and an unknown user get SASL_AUTHENTICATION_FAILED
// with the same message, for every mechanism.
func TestSASLRefusedAlike(t *testing.T) {
	b := saslBroker(t)
	adm := kadm.NewClient(newClient(t, b.Addr(), plainAuth(plainUser, plainPass)))
	createScramUser(t, adm, "SCRAM-SHA-512", "carol", "right")
	createScramUser(t, adm, "SCRAM-SHA-256", "carol", "right")
	for _, c := range []struct {
		mech           string
		wrong, unknown kgo.Opt
	}{
		{"PLAIN", plainAuth(plainUser, "wrong"), plainAuth("nobody", "wrong")},
		{"SCRAM-SHA-256", scramAuth("SCRAM-SHA-256", "carol", "wrong"), scramAuth("SCRAM-SHA-256", "nobody", "wrong")},
		{"SCRAM-SHA-512", scramAuth("SCRAM-SHA-512", "carol", "wrong"), scramAuth("SCRAM-SHA-512", "nobody", "wrong")},
	} {
		wrong, unknown := authError(t, b.Addr(), c.wrong), authError(t, b.Addr(), c.unknown)
		for _, err := range []error{wrong, unknown} {
			if !errors.Is(err, kerr.SaslAuthenticationFailed) {
				t.Errorf("%s: %v, want SASL_AUTHENTICATION_FAILED", c.mech, err)
			}
		}
		if wrong.Error() != unknown.Error() {
			t.Errorf("%s: a wrong password says %q, an unknown user %q", c.mech, wrong, unknown)
		}
		if !strings.Contains(wrong.Error(), c.mech) {
			t.Errorf("%s: message %q does not name the mechanism", c.mech, wrong)
		}
	}
}

// saslRaw authenticates a raw connection with PLAIN and returns the
// SaslAuthenticate response.
func saslRaw(t *testing.T, c *rawConn, corr int32, user, pass string) *kmsg.SASLAuthenticateResponse {
	t.Helper()
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.Version, hs.Mechanism = 1, "PLAIN"
	c.request(hs, corr)
	hsr := kmsg.NewPtrSASLHandshakeResponse()
	hsr.Version = 1
	if err := hsr.ReadFrom(c.response(corr, false)); err != nil || hsr.ErrorCode != 0 {
		t.Fatalf("handshake: %v, code %d", err, hsr.ErrorCode)
	}
	au := kmsg.NewPtrSASLAuthenticateRequest()
	au.Version, au.SASLAuthBytes = 1, []byte("\x00"+user+"\x00"+pass)
	c.request(au, corr+1)
	aur := kmsg.NewPtrSASLAuthenticateResponse()
	aur.Version = 1
	if err := aur.ReadFrom(c.response(corr+1, false)); err != nil {
		t.Fatal(err)
	}
	return aur
}

func metadataRaw(t *testing.T, c *rawConn, corr int32) {
	t.Helper()
	md := kmsg.NewPtrMetadataRequest()
	md.Version = 1
	c.request(md, corr)
	if err := md.ResponseKind().ReadFrom(c.response(corr, false)); err != nil {
		t.Fatal(err)
	}
}

// Before authentication only ApiVersions and SaslHandshake are answered:
// anything else closes the connection unanswered, as does a failed
// authentication after its answer.
func TestSASLGate(t *testing.T) {
	b := saslBroker(t)

	c := dialRaw(t, b.Addr())
	av := kmsg.NewPtrApiVersionsRequest()
	av.Version = 0
	c.request(av, 1)
	avr := kmsg.NewPtrApiVersionsResponse()
	if err := avr.ReadFrom(c.response(1, false)); err != nil || avr.ErrorCode != 0 {
		t.Fatalf("ApiVersions before authentication: %v %d", err, avr.ErrorCode)
	}
	keys := map[int16]bool{}
	for _, k := range avr.ApiKeys {
		keys[k.ApiKey] = true
	}
	for _, k := range []int16{17, 36, 50, 51} {
		if !keys[k] {
			t.Errorf("ApiVersions lacks key %d", k)
		}
	}
	md := kmsg.NewPtrMetadataRequest()
	md.Version = 1
	c.request(md, 2)
	c.expectClosed()

	// SaslAuthenticate without a handshake: closed unanswered.
	c = dialRaw(t, b.Addr())
	au := kmsg.NewPtrSASLAuthenticateRequest()
	au.Version = 1
	c.request(au, 1)
	c.expectClosed()

	// A mechanism that is not enabled.
	c = dialRaw(t, b.Addr())
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.Version, hs.Mechanism = 1, "GSSAPI"
	c.request(hs, 1)
	hsr := kmsg.NewPtrSASLHandshakeResponse()
	hsr.Version = 1
	if err := hsr.ReadFrom(c.response(1, false)); err != nil || hsr.ErrorCode != kerr.UnsupportedSaslMechanism.Code ||
		strings.Join(hsr.SupportedMechanisms, ",") != "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512" {
		t.Fatalf("GSSAPI handshake: %v, code %d, mechanisms %v", err, hsr.ErrorCode, hsr.SupportedMechanisms)
	}
	c.expectClosed()

	// A failed authentication is answered, then closed: the request sent
	// behind it is never answered.
	c = dialRaw(t, b.Addr())
	if r := saslRaw(t, c, 1, plainUser, "nope"); r.ErrorCode != kerr.SaslAuthenticationFailed.Code || r.ErrorMessage == nil {
		t.Fatalf("wrong password: code %d", r.ErrorCode)
	}
	c.expectClosed()

	// A good one opens everything; no lifetime without connections.max.reauth.ms.
	c = dialRaw(t, b.Addr())
	if r := saslRaw(t, c, 1, plainUser, plainPass); r.ErrorCode != 0 || r.SessionLifetimeMillis != 0 {
		t.Fatalf("good password: code %d, lifetime %d", r.ErrorCode, r.SessionLifetimeMillis)
	}
	metadataRaw(t, c, 3)
	// A stray SaslAuthenticate after it is refused, and the connection stays.
	au = kmsg.NewPtrSASLAuthenticateRequest()
	au.Version = 1
	c.request(au, 4)
	aur := kmsg.NewPtrSASLAuthenticateResponse()
	aur.Version = 1
	if err := aur.ReadFrom(c.response(4, false)); err != nil || aur.ErrorCode != kerr.IllegalSaslState.Code {
		t.Fatalf("stray authenticate: %v, code %d", err, aur.ErrorCode)
	}
	metadataRaw(t, c, 5)
}

// On a PLAINTEXT listener the SASL requests are answered ILLEGAL_SASL_STATE
// and the connection stays.
func TestSASLOnPlaintextListener(t *testing.T) {
	b := brokertest.Start(t)
	c := dialRaw(t, b.Addr())
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.Version, hs.Mechanism = 1, "PLAIN"
	c.request(hs, 1)
	hsr := kmsg.NewPtrSASLHandshakeResponse()
	hsr.Version = 1
	if err := hsr.ReadFrom(c.response(1, false)); err != nil || hsr.ErrorCode != kerr.IllegalSaslState.Code {
		t.Fatalf("handshake: %v, code %d", err, hsr.ErrorCode)
	}
	metadataRaw(t, c, 2)
}

// manualClock is a broker clock a test moves by hand.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// KIP-368: the session lifetime is told at authentication; past it, a
// request other than SaslHandshake closes the connection, and a
// re-authentication as the same user extends it.
func TestSASLReauthentication(t *testing.T) {
	clock := &manualClock{now: time.Now()}
	b := saslBroker(t, brokertest.WithConfig(func(c *broker.Config) {
		c.ReauthAfter = time.Minute
		c.Clock = clock.Now
	}))
	c := dialRaw(t, b.Addr())
	if r := saslRaw(t, c, 1, plainUser, plainPass); r.ErrorCode != 0 || r.SessionLifetimeMillis != 60000 {
		t.Fatalf("code %d, lifetime %d", r.ErrorCode, r.SessionLifetimeMillis)
	}
	metadataRaw(t, c, 3)
	clock.Add(59 * time.Second)
	if r := saslRaw(t, c, 4, plainUser, plainPass); r.ErrorCode != 0 || r.SessionLifetimeMillis != 60000 {
		t.Fatalf("re-authentication: code %d, lifetime %d", r.ErrorCode, r.SessionLifetimeMillis)
	}
	clock.Add(59 * time.Second) // 118 s after the first, 59 s after the second
	metadataRaw(t, c, 6)
	clock.Add(2 * time.Second)
	md := kmsg.NewPtrMetadataRequest()
	md.Version = 1
	c.request(md, 7)
	c.expectClosed()
}

// Credentials written through AlterUserScramCredentials are in the
// catalog: they authenticate after a restart.
func TestSASLScramCredentialsSurviveRestart(t *testing.T) {
	b := saslBroker(t)
	adm := kadm.NewClient(newClient(t, b.Addr(), plainAuth(plainUser, plainPass)))
	createScramUser(t, adm, "SCRAM-SHA-512", "dave", "durable")
	cfg := b.Cfg
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	cfg.Listen, cfg.Logger = "127.0.0.1:0", nil
	b2 := brokertest.StartConfig(t, cfg)
	cl := newClient(t, b2.Addr(), scramAuth("SCRAM-SHA-512", "dave", "durable"))
	if err := cl.Ping(testCtx(t, 10*time.Second)); err != nil {
		t.Fatalf("after restart: %v", err)
	}
	d, err := kadm.NewClient(newClient(t, b2.Addr(), plainAuth(plainUser, plainPass))).DescribeUserSCRAMs(testCtx(t, 10*time.Second), "dave")
	if err != nil || d["dave"].Err != nil || len(d["dave"].CredInfos) != 1 || d["dave"].CredInfos[0].Iterations != 4096 {
		t.Fatalf("describe after restart: %v %+v", err, d)
	}
}

// After a v0 SaslHandshake the tokens travel as raw frames (clients from
// before KIP-152): a good PLAIN token is answered with an empty frame and
// opens the connection; a bad one closes it unanswered.
func TestSASLRawTokensAfterV0Handshake(t *testing.T) {
	b := saslBroker(t)
	handshakeV0 := func(c *rawConn) {
		hs := kmsg.NewPtrSASLHandshakeRequest()
		hs.Version, hs.Mechanism = 0, "PLAIN"
		c.request(hs, 1)
		hsr := kmsg.NewPtrSASLHandshakeResponse()
		if err := hsr.ReadFrom(c.response(1, false)); err != nil || hsr.ErrorCode != 0 {
			t.Fatalf("v0 handshake: %v, code %d", err, hsr.ErrorCode)
		}
	}
	c := dialRaw(t, b.Addr())
	handshakeV0(c)
	c.write([]byte("\x00" + plainUser + "\x00" + plainPass))
	var l [4]byte
	if _, err := io.ReadFull(c.nc, l[:]); err != nil || binary.BigEndian.Uint32(l[:]) != 0 {
		t.Fatalf("raw answer: %v, length %d", err, binary.BigEndian.Uint32(l[:]))
	}
	metadataRaw(t, c, 2)

	c = dialRaw(t, b.Addr())
	handshakeV0(c)
	c.write([]byte("\x00" + plainUser + "\x00wrong"))
	c.expectClosed()
}
