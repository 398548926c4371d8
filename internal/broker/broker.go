// Package broker is the composition root: it opens the data dir, recovers
// the topics, wires the handler and the server, runs background work
// (retention, the log cleaner) and shuts everything down in order.
package broker

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"sluice/internal/acl"
	"sluice/internal/cluster"
	"sluice/internal/fetchsession"
	"sluice/internal/group"
	"sluice/internal/handler"
	"sluice/internal/metadata"
	"sluice/internal/metrics"
	"sluice/internal/partition"
	"sluice/internal/producerid"
	"sluice/internal/quota"
	"sluice/internal/sasl"
	"sluice/internal/server"
	"sluice/internal/tlsconf"
	"sluice/internal/topics"
	"sluice/internal/txn"
	"sluice/internal/vfs"
)

// Config is the broker's settings. Zero values take the documented defaults.
type Config struct {
	Listen    string // default 127.0.0.1:9092
	Advertise string // host:port given to clients; default: the listener's address
	DataDir   string // default ./sluice-data
	NodeID    int32

	Fsync         partition.FsyncPolicy
	FsyncInterval time.Duration // for fsync=interval; default partition.DefaultFsyncInterval
	// NoPreallocate is log.preallocate=false: segment files grow with each
	// append instead of being extended with zeros ahead of them.
	NoPreallocate bool
	// Journal is fsync.journal=true: under fsync=always partitions also
	// write small batches of multi-partition requests to a journal they
	// share, and acks=all waits for its fsync rather than each segment's
	// (package journal). JournalBelow, for tests, is the batch size under
	// which a partition journals (0: partition.DefaultJournalBelow;
	// negative: every batch, whatever the request).
	Journal      bool
	JournalBelow int

	// RecoverCatalog: start on a damaged catalog with the records before
	// the damage, saving the damaged file, and register again the topics
	// whose partition directories are on disk (sluice serve --recover-catalog).
	RecoverCatalog bool

	AutoCreateTopics  bool
	DefaultPartitions int32 // num.partitions: of a topic created without a count; default 1
	MaxFrameBytes     int32 // socket.request.max.bytes; default 100 MiB
	// Connection limits over every listener (max.connections,
	// max.connections.per.ip; 0: none) and the idle timeout
	// (connections.max.idle.ms; 0: none).
	MaxConnections, MaxConnectionsPerIP int
	ConnectionsMaxIdle                  time.Duration
	// MaxUnauthenticatedConnections bounds the connections of SASL
	// listeners not yet authenticated (max.connections.unauthenticated;
	// 0: none).
	MaxUnauthenticatedConnections int
	RetentionCheckInterval        time.Duration     // default 5 minutes
	TopicDefaults                 map[string]string // broker-wide topic config defaults

	// Log cleaner (compacted topics).
	CleanerBackoff             time.Duration // log.cleaner.backoff.ms; default 15s
	CleanerIOMaxBytesPerSecond int64         // log.cleaner.io.max.bytes.per.second; default 50 MB/s, < 0 unlimited

	// Consumer groups.
	OffsetsPartitions          int32         // offsets.topic.num.partitions; default 16, fixed once the topic exists
	OffsetsRetention           time.Duration // offsets.retention.minutes; default 7 days
	GroupMinSessionTimeout     time.Duration // group.min.session.timeout.ms; default 6s
	GroupMaxSessionTimeout     time.Duration // group.max.session.timeout.ms; default 30m
	GroupInitialRebalanceDelay time.Duration // group.initial.rebalance.delay.ms; default 3s, negative for none

	// FetchSessionCacheSlots bounds the incremental fetch sessions held
	// (max.incremental.fetch.session.cache.slots, KIP-227); 0 means 1000,
	// negative means none: every fetch is then sessionless.
	FetchSessionCacheSlots int

	// Transactions.
	TxnStatePartitions int32         // transaction.state.log.num.partitions; default 16, fixed once the topic exists
	TxnMaxTimeout      time.Duration // transaction.max.timeout.ms; default 15 minutes
	TxnIDExpiration    time.Duration // transactional.id.expiration.ms; default 7 days

	// Listeners are the broker's listeners, each with its own security
	// protocol; the first one's address is Addr. Empty: one listener on
	// Listen advertising Advertise, named after SecurityProtocol.
	Listeners []Listener
	// SecurityProtocol is the protocol of the one listener on Listen
	// when Listeners is empty: "PLAINTEXT" (default), "SSL",
	// "SASL_PLAINTEXT" or "SASL_SSL".
	SecurityProtocol string
	// TLS is the TLS of SSL and SASL_SSL listeners.
	TLS tlsconf.Config

	SASLMechanisms []string          // sasl.enabled.mechanisms; default SCRAM-SHA-256, SCRAM-SHA-512
	SASLPlainUsers map[string]string // PLAIN's users and passwords
	ReauthAfter    time.Duration     // connections.max.reauth.ms; 0: no re-authentication asked

	// Authorizer turns on authorization (authorizer.enabled): every
	// request is checked against the ACLs in the catalog. SuperUsers
	// (super.users) may do everything; AllowIfNoACL
	// (allow.everyone.if.no.acl.found) allows what no ACL covers.
	Authorizer   bool
	SuperUsers   []string
	AllowIfNoACL bool

	// QuotaWindows (quota.window.num) and QuotaWindowSize
	// (quota.window.size.seconds) are how client quotas are measured: a
	// client may use its quota's worth of all the windows at once before
	// it is throttled. 0: Kafka's 11 windows of a second.
	QuotaWindows    int
	QuotaWindowSize time.Duration

	// MetricsListen is the address of the Prometheus endpoint (/metrics,
	// /healthz, /readyz); empty: no endpoint (metrics are still kept).
	MetricsListen string
	SlowFsync     time.Duration // an fsync this long is logged; default 1s, negative never

	// Settings are what DescribeConfigs lists for the broker resource
	// (sluice serve gives every setting); nil: the few the handler knows.
	Settings []handler.BrokerConfig

	FS     vfs.FS // default: the OS file system
	Logger *slog.Logger
	Clock  func() time.Time

	metrics *metrics.Metrics // set by Start, for the services it opens
}

// Listener is one address the broker listens on and how clients there
// authenticate.
type Listener struct {
	Name string // as listeners and advertised.listeners name it; default: the protocol
	// Protocol is PLAINTEXT, SSL (TLS; the principal is the client
	// certificate's subject when one is given), SASL_PLAINTEXT or
	// SASL_SSL (SASL authentication, over TLS for SASL_SSL).
	Protocol  string
	Listen    string // host:port; port 0: any free port
	Advertise string // host:port given to clients that came in here; default: the listen address
}

// Security protocols.
const (
	Plaintext     = "PLAINTEXT"
	SSL           = "SSL"
	SASLPlaintext = "SASL_PLAINTEXT"
	SASLSSL       = "SASL_SSL"
)

// usesTLS and usesSASL say what a listener's protocol runs.
func (l Listener) usesTLS() bool  { return l.Protocol == SSL || l.Protocol == SASLSSL }
func (l Listener) usesSASL() bool { return l.Protocol == SASLPlaintext || l.Protocol == SASLSSL }

func (c *Config) setDefaults() {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:9092"
	}
	if c.SecurityProtocol == "" {
		c.SecurityProtocol = Plaintext
	}
	if len(c.Listeners) == 0 {
		c.Listeners = []Listener{{Name: c.SecurityProtocol, Protocol: c.SecurityProtocol, Listen: c.Listen, Advertise: c.Advertise}}
	}
	c.Listeners = slices.Clone(c.Listeners) // names filled in below; the caller's stay
	for i := range c.Listeners {
		if c.Listeners[i].Name == "" {
			c.Listeners[i].Name = c.Listeners[i].Protocol
		}
	}
	if c.DataDir == "" {
		c.DataDir = "./sluice-data"
	}
	if c.FsyncInterval <= 0 {
		c.FsyncInterval = partition.DefaultFsyncInterval
	}
	if c.CleanerIOMaxBytesPerSecond == 0 {
		// Kafka's default is unlimited; on a small machine an unthrottled
		// cleaner takes a whole core from produce (docs/benchmarks.md).
		c.CleanerIOMaxBytesPerSecond = 50_000_000
	}
	if c.RetentionCheckInterval <= 0 {
		c.RetentionCheckInterval = 5 * time.Minute
	}
	if c.OffsetsPartitions <= 0 {
		c.OffsetsPartitions = 16
	}
	if c.TxnStatePartitions <= 0 {
		c.TxnStatePartitions = 16
	}
	if c.TxnMaxTimeout <= 0 {
		c.TxnMaxTimeout = 15 * time.Minute
	}
	if c.TxnIDExpiration <= 0 {
		c.TxnIDExpiration = 7 * 24 * time.Hour
	}
	if c.GroupInitialRebalanceDelay == 0 {
		c.GroupInitialRebalanceDelay = 3 * time.Second
	}
	if c.FS == nil {
		c.FS = vfs.OS()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
}

// Broker is a running Sluice broker.
type Broker struct {
	cfg      Config
	topics   *topics.Manager
	cleaner  *topics.Cleaner
	groups   *group.Service
	txns     *txn.Service
	sessions *fetchsession.Cache
	srvs     []*server.Server // one per listener, in Config.Listeners' order
	metrics  *brokerMetrics
	unlock   func() error // the data dir's lock
	cancel   context.CancelFunc
	bg       sync.WaitGroup
	once     sync.Once
	err      error
}

// Start opens the data dir, recovers every partition and starts serving.
func Start(cfg Config) (_ *Broker, err error) {
	cfg.setDefaults()
	start := cfg.Clock()
	onOS := cfg.FS == vfs.OS()    // before the metrics wrap it
	bm, err := startMetrics(&cfg) // before recovery: /healthz answers, /readyz says not yet
	if err != nil {
		return nil, err
	}
	defer func() { bm.failed(err) }()
	unlock := func() error { return nil }
	if onOS {
		if unlock, err = topics.LockDataDir(cfg.DataDir); err != nil {
			return nil, err
		}
	}
	defer func() {
		if err != nil {
			unlock()
		}
	}()
	tm, err := topics.Open(cfg.FS, topics.Config{
		DataDir: cfg.DataDir, Fsync: cfg.Fsync, FsyncInterval: cfg.FsyncInterval, NoPreallocate: cfg.NoPreallocate, Journal: cfg.Journal, JournalBelow: cfg.JournalBelow,
		Defaults: cfg.TopicDefaults, DefaultPartitions: cfg.DefaultPartitions, Logger: cfg.Logger, Clock: cfg.Clock,
		RecoverCatalog: cfg.RecoverCatalog,
	})
	if err != nil {
		return nil, fmt.Errorf("open data dir %s: %w", cfg.DataDir, err)
	}
	groups, err := openGroups(cfg, tm)
	if err != nil {
		tm.Close()
		return nil, fmt.Errorf("load consumer groups: %w", err)
	}
	ids := producerid.New(tm)
	txns, markers, err := openTxns(cfg, tm, groups, ids)
	if err != nil {
		groups.Close()
		tm.Close()
		return nil, fmt.Errorf("load transactions: %w", err)
	}
	if err := keepProducerIDsFresh(cfg, tm, txns); err != nil {
		txns.Close()
		groups.Close()
		tm.Close()
		return nil, err
	}
	lns, self, err := listen(cfg)
	if err != nil {
		txns.Close()
		groups.Close()
		tm.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	sessions := fetchsession.New(fetchsession.Config{Slots: cfg.FetchSessionCacheSlots})
	h := handler.New(handler.Env{
		Topics: tm, Cluster: cluster.NewLocal(self, tm),
		Groups: groups, Txns: txns, Markers: markers, ProducerIDs: ids,
		FetchSessions:    sessions,
		AutoCreateTopics: cfg.AutoCreateTopics, DataDir: cfg.DataDir, BrokerConfigs: cfg.Settings,
		Logger: cfg.Logger, Clock: cfg.Clock, Ctx: ctx, Records: bm.m,
		SASL:       saslConfig(cfg, tm),
		Authorizer: acl.New(acl.Config{Enabled: cfg.Authorizer, SuperUsers: cfg.SuperUsers, AllowIfNoACL: cfg.AllowIfNoACL}),
		Quotas:     quota.New(quota.Config{Windows: cfg.QuotaWindows, WindowSize: cfg.QuotaWindowSize}),
	})
	h.LoadACLs()
	h.LoadQuotas()
	b := &Broker{cfg: cfg, topics: tm, groups: groups, txns: txns, sessions: sessions, cancel: cancel, metrics: bm, unlock: unlock}
	limits := &server.Limits{MaxConnections: cfg.MaxConnections, MaxConnectionsPerIP: cfg.MaxConnectionsPerIP,
		MaxUnauthenticated: cfg.MaxUnauthenticatedConnections, IdleTimeout: cfg.ConnectionsMaxIdle}
	for i, l := range cfg.Listeners {
		b.srvs = append(b.srvs, server.New(lns[i].ln, h, server.Config{
			MaxFrameBytes: cfg.MaxFrameBytes, Logger: cfg.Logger, Requests: bm.m, Limits: limits,
			Listener: handler.Listener{Name: l.Name, SASL: l.usesSASL()}, TLS: lns[i].tls,
		}))
	}
	b.cleaner = tm.NewCleaner(topics.CleanerConfig{Backoff: cfg.CleanerBackoff, IOMaxBytesPerSecond: cfg.CleanerIOMaxBytesPerSecond})
	b.bg.Add(2 + len(b.srvs))
	for _, srv := range b.srvs {
		go func() { defer b.bg.Done(); _ = srv.Serve(ctx) }()
	}
	go func() { defer b.bg.Done(); b.retentionLoop(ctx) }()
	go func() { defer b.bg.Done(); b.cleaner.Run(ctx) }()
	bm.serving(b)
	for i, l := range cfg.Listeners {
		e := self.Endpoints[i]
		cfg.Logger.Info("sluice: listening", "listener", l.Name, "security", l.Protocol, "listen", lns[i].ln.Addr().String(),
			"advertise", net.JoinHostPort(e.Host, strconv.Itoa(int(e.Port))))
	}
	first := self.Endpoints[0]
	cfg.Logger.Info("sluice: serving", "listen", lns[0].ln.Addr().String(), "advertise", net.JoinHostPort(first.Host, strconv.Itoa(int(first.Port))),
		"security", cfg.Listeners[0].Protocol, "dataDir", cfg.DataDir, "fsync", cfg.Fsync.String(), "topics", len(tm.All()), "startup", cfg.Clock().Sub(start).String())
	return b, nil
}

// openListener is a listener's socket and its TLS configuration (nil
// for PLAINTEXT and SASL_PLAINTEXT).
type openListener struct {
	ln  net.Listener
	tls *tls.Config
}

// listen opens every listener and returns them with this node as
// clients reach it: the first listener's advertised address, and each
// listener's. The TLS configuration is made once and shared, so that
// every TLS listener serves the same, reloaded, certificate.
func listen(cfg Config) (_ []openListener, self cluster.Node, err error) {
	var tc *tls.Config
	names := map[string]bool{}
	for _, l := range cfg.Listeners {
		switch l.Protocol {
		case Plaintext, SSL, SASLPlaintext, SASLSSL:
		default:
			return nil, self, fmt.Errorf("listener %s: security protocol %q is not PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL", l.Name, l.Protocol)
		}
		if names[l.Name] {
			return nil, self, fmt.Errorf("listener %s is named twice: each listener needs its own name", l.Name)
		}
		names[l.Name] = true
		if l.usesTLS() && tc == nil {
			tlsCfg := cfg.TLS
			tlsCfg.Logger = cfg.Logger
			if !slices.ContainsFunc(cfg.Listeners, func(l Listener) bool { return l.Protocol == SSL }) {
				tlsCfg.ClientAuth = tlsconf.ClientAuthNone // only SSL listeners ask for certificates
			}
			if tc, err = tlsconf.New(tlsCfg); err != nil {
				return nil, self, fmt.Errorf("listener %s: %w", l.Name, err)
			}
		}
	}
	var out []openListener
	defer func() {
		if err != nil {
			for _, o := range out {
				o.ln.Close()
			}
		}
	}()
	self.ID = cfg.NodeID
	for _, l := range cfg.Listeners {
		ln, err := net.Listen("tcp", l.Listen)
		if err != nil {
			return nil, self, fmt.Errorf("listener %s: %w", l.Name, err)
		}
		o := openListener{ln: ln}
		switch l.Protocol {
		case SSL:
			o.tls = tc
		case SASLSSL:
			// SASL names the principal; as in Kafka (KIP-684), the
			// broker-wide ssl.client.auth asks SSL listeners only for
			// certificates, so that SASL clients need no keystore.
			o.tls = tlsconf.WithoutClientAuth(tc)
		}
		out = append(out, o)
		host, port, err := advertised(l.Advertise, ln.Addr())
		if err != nil {
			return nil, self, fmt.Errorf("listener %s: %w", l.Name, err)
		}
		self.Endpoints = append(self.Endpoints, cluster.Endpoint{Listener: l.Name, Host: host, Port: port})
	}
	self.Host, self.Port = self.Endpoints[0].Host, self.Endpoints[0].Port
	return out, self, nil
}

// saslConfig is the handler's SASL settings; nil when no listener uses
// SASL. SCRAM credentials are looked up in the catalog at each
// authentication, so a change through AlterUserScramCredentials applies
// to the next one.
func saslConfig(cfg Config, tm *topics.Manager) *handler.SASLConfig {
	if !slices.ContainsFunc(cfg.Listeners, Listener.usesSASL) {
		return nil
	}
	mechs := cfg.SASLMechanisms
	if len(mechs) == 0 {
		mechs = []string{sasl.ScramSHA256, sasl.ScramSHA512}
	}
	auth := sasl.New(sasl.Config{
		PlainUsers: cfg.SASLPlainUsers,
		Scram: func(user, mechanism string) (c sasl.Credential, ok bool) {
			tm.ReadCatalog(func(st *metadata.State) {
				var sc metadata.ScramCredential
				if sc, ok = st.Scram(user, mechanism); ok {
					c = sasl.Credential{Salt: sc.Salt, Iterations: int(sc.Iterations), StoredKey: sc.StoredKey, ServerKey: sc.ServerKey}
				}
			})
			return c, ok
		},
	})
	return &handler.SASLConfig{Mechanisms: mechs, Auth: auth, ReauthAfter: cfg.ReauthAfter}
}

// openGroups opens (creating on first start) the internal offsets topic and
// loads the group service from it.
func openGroups(cfg Config, tm *topics.Manager) (*group.Service, error) {
	t, err := tm.EnsureInternal(topics.OffsetsTopic, cfg.OffsetsPartitions, map[string]string{
		metadata.CfgCleanupPolicy: "compact", metadata.CfgRetentionMs: "-1", metadata.CfgRetentionBytes: "-1",
		metadata.CfgSegmentBytes: strconv.Itoa(100 << 20),
	})
	if err != nil {
		return nil, err
	}
	delay := cfg.GroupInitialRebalanceDelay
	if delay < 0 {
		delay = 0
	}
	return group.NewService(group.ServiceConfig{
		Coordinator: group.Config{
			MinSessionTimeout: cfg.GroupMinSessionTimeout, MaxSessionTimeout: cfg.GroupMaxSessionTimeout,
			InitialRebalanceDelay: delay,
		},
		OffsetsRetention: cfg.OffsetsRetention,
		Logger:           cfg.Logger, Clock: cfg.Clock,
	}, t.Partitions)
}

func advertised(adv string, addr net.Addr) (string, int32, error) {
	if adv == "" {
		adv = addr.String()
	}
	host, portStr, err := net.SplitHostPort(adv)
	if err != nil {
		return "", 0, fmt.Errorf("advertise %q: %w", adv, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port <= 0 || port > 65535 {
		return "", 0, fmt.Errorf("advertise %q: bad port", adv)
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return host, int32(port), nil
}

// Addr is the address the broker's first listener listens on.
func (b *Broker) Addr() string { return b.srvs[0].Addr().String() }

// ListenerAddr is the address the named listener listens on; "" for a
// name the broker has no listener of.
func (b *Broker) ListenerAddr(name string) string {
	for i, l := range b.cfg.Listeners {
		if l.Name == name {
			return b.srvs[i].Addr().String()
		}
	}
	return ""
}

// conns is the number of open client connections on every listener.
func (b *Broker) conns() int {
	n := 0
	for _, srv := range b.srvs {
		n += srv.Conns()
	}
	return n
}

// Topics exposes the topic manager (tests and tools inspect it).
func (b *Broker) Topics() *topics.Manager { return b.topics }

// FetchSessions is the number of incremental fetch sessions held (tests
// and tools inspect it).
func (b *Broker) FetchSessions() int { return b.sessions.Len() }

// CleanNow runs the log cleaner over every due compacted partition and
// waits for it; it returns how many partitions it cleaned.
func (b *Broker) CleanNow(ctx context.Context) (int, error) { return b.cleaner.Pass(ctx) }

func (b *Broker) retentionLoop(ctx context.Context) {
	t := time.NewTicker(b.cfg.RetentionCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n := b.topics.EnforceRetention(b.cfg.Clock()); n > 0 {
				b.cfg.Logger.Info("sluice: retention deleted segments", "segments", n)
			}
		}
	}
}

// Close shuts down gracefully: stop accepting, finish in-flight requests
// (up to 10 seconds), then sync and close every partition.
func (b *Broker) Close() error {
	b.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		b.metrics.stopping()
		b.cancel() // ends long polls; durable waits still complete
		// Every listener at once: one waiting for its connections must
		// not keep the others accepting.
		errs := make([]error, len(b.srvs))
		var wg sync.WaitGroup
		for i, srv := range b.srvs {
			wg.Go(func() { errs[i] = srv.Shutdown(ctx) })
		}
		wg.Wait()
		srvErr := errors.Join(errs...)
		b.bg.Wait()
		b.txns.Close()
		b.groups.Close()
		b.err = errors.Join(srvErr, b.topics.Close(), b.metrics.close(), b.unlock())
		b.cfg.Logger.Info("sluice: stopped", "err", b.err)
	})
	return b.err
}
