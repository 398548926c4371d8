package config

import (
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	"sluice/internal/broker"
	"sluice/internal/metadata"
	"sluice/internal/partition"
	"sluice/internal/tlsconf"
	"sluice/internal/tlstest"
)

// The defaults make the broker.Config the broker's own defaults stand
// for, spelled out.
func TestBrokerDefaults(t *testing.T) {
	c, errs := load(t, sources{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	want := broker.Config{
		Listen: "127.0.0.1:9092", DataDir: "./sluice-data", Fsync: partition.FsyncAlways, FsyncInterval: time.Second,
		DefaultPartitions: 1, MaxFrameBytes: 100 << 20, RetentionCheckInterval: 5 * time.Minute, ConnectionsMaxIdle: 10 * time.Minute,
		TopicDefaults: map[string]string{}, CleanerBackoff: 15 * time.Second, CleanerIOMaxBytesPerSecond: 50_000_000,
		OffsetsPartitions: 16, OffsetsRetention: 7 * 24 * time.Hour,
		GroupMinSessionTimeout: 6 * time.Second, GroupMaxSessionTimeout: 30 * time.Minute, GroupInitialRebalanceDelay: 3 * time.Second,
		FetchSessionCacheSlots: 1000, TxnStatePartitions: 16, TxnMaxTimeout: 15 * time.Minute, TxnIDExpiration: 7 * 24 * time.Hour,
		SecurityProtocol: "PLAINTEXT", SASLMechanisms: []string{"SCRAM-SHA-256", "SCRAM-SHA-512"},
		Listeners:    []broker.Listener{{Name: "PLAINTEXT", Protocol: "PLAINTEXT", Listen: "127.0.0.1:9092"}},
		TLS:          tlsconf.Config{ClientAuth: "none"},
		QuotaWindows: 11, QuotaWindowSize: time.Second,
	}
	got := c.Broker()
	if len(got.Settings) != len(settings) || got.Settings[0].Name != "advertise" || got.Settings[0].Value != nil || !got.Settings[0].Default {
		t.Fatalf("settings for DescribeConfigs: %+v", got.Settings)
	}
	got.Settings = nil
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	if c.LogLevel() != slog.LevelInfo {
		t.Fatalf("log level %v", c.LogLevel())
	}
}

// Every setting reaches its field: each is set to something other than
// its default, and the whole broker.Config is compared. listeners and
// advertised.listeners, which exclude listen and advertise, have their
// own test (TestBrokerListeners).
func TestBrokerEverySetting(t *testing.T) {
	dir := t.TempDir()
	users := filepath.Join(dir, "users")
	if err := os.WriteFile(users, []byte("# PLAIN users\nalice = secret=1\n\nbob=builder\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ca := tlstest.NewCA(t, "ca")
	ks := tlstest.Write(t, dir, "broker.pem", ca.Server(t, "broker").PEM)
	ts := tlstest.Write(t, dir, "ca.pem", ca.PEM)
	c, errs := load(t, sources{file: `listener.security.protocol=SASL_PLAINTEXT
sasl.enabled.mechanisms=plain, SCRAM-SHA-512
sasl.plain.users.file=` + users + `
connections.max.reauth.ms=60000
connections.max.idle.ms=120000
max.connections=500
max.connections.per.ip=50
max.connections.unauthenticated=40
listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,EXTERNAL:SASL_SSL
ssl.keystore.location=` + ks + `
ssl.keystore.type=pem
ssl.truststore.location=` + ts + `
ssl.truststore.type=pem
ssl.client.auth=required
listen=0.0.0.0:9093
advertise=broker.example:9093
log.dirs=/var/lib/sluice
node.id=7
socket.request.max.bytes=1000
metrics.listen=:9404
log.level=debug
authorizer.enabled=true
super.users=User:admin; User:ops
allow.everyone.if.no.acl.found=true
quota.window.num=5
quota.window.size.seconds=2
fsync=interval
log.flush.interval.ms=250
recover.catalog=true
auto.create.topics.enable=true
num.partitions=6
default.replication.factor=1
log.retention.check.interval.ms=1000
log.cleaner.backoff.ms=100
log.cleaner.io.max.bytes.per.second=-1
offsets.retention.minutes=60
offsets.topic.num.partitions=3
group.min.session.timeout.ms=100
group.max.session.timeout.ms=200
group.initial.rebalance.delay.ms=0
max.incremental.fetch.session.cache.slots=0
transaction.max.timeout.ms=60000
transaction.state.log.num.partitions=4
transactional.id.expiration.ms=3600000
log.retention.hours=24
log.retention.bytes=1000000
log.segment.bytes=100000
log.preallocate=false
fsync.journal=true
log.roll.ms=60000
log.cleanup.policy=compact,delete
message.max.bytes=2000
min.insync.replicas=2
log.message.timestamp.type=LogAppendTime
log.message.timestamp.before.max.ms=1000
log.message.timestamp.after.max.ms=2000
log.cleaner.delete.retention.ms=3000
log.cleaner.min.compaction.lag.ms=4000
log.cleaner.max.compaction.lag.ms=5000
log.cleaner.min.cleanable.ratio=0.25
`})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	want := broker.Config{
		Listen: "0.0.0.0:9093", Advertise: "broker.example:9093", DataDir: "/var/lib/sluice", NodeID: 7, MaxFrameBytes: 1000,
		MaxConnections: 500, MaxConnectionsPerIP: 50, ConnectionsMaxIdle: 2 * time.Minute, MaxUnauthenticatedConnections: 40,
		MetricsListen: ":9404", Fsync: partition.FsyncInterval, FsyncInterval: 250 * time.Millisecond, NoPreallocate: true, Journal: true, RecoverCatalog: true,
		AutoCreateTopics: true, DefaultPartitions: 6, RetentionCheckInterval: time.Second,
		CleanerBackoff: 100 * time.Millisecond, CleanerIOMaxBytesPerSecond: -1,
		OffsetsRetention: time.Hour, OffsetsPartitions: 3,
		GroupMinSessionTimeout: 100 * time.Millisecond, GroupMaxSessionTimeout: 200 * time.Millisecond, GroupInitialRebalanceDelay: -1,
		FetchSessionCacheSlots: -1, TxnMaxTimeout: time.Minute, TxnStatePartitions: 4, TxnIDExpiration: time.Hour,
		SecurityProtocol: "SASL_PLAINTEXT", SASLMechanisms: []string{"PLAIN", "SCRAM-SHA-512"},
		SASLPlainUsers: map[string]string{"alice": "secret=1", "bob": "builder"}, ReauthAfter: time.Minute,
		Listeners:  []broker.Listener{{Name: "SASL_PLAINTEXT", Protocol: "SASL_PLAINTEXT", Listen: "0.0.0.0:9093", Advertise: "broker.example:9093"}},
		TLS:        tlsconf.Config{Keystore: ks, Truststore: ts, ClientAuth: "required"},
		Authorizer: true, SuperUsers: []string{"User:admin", "User:ops"}, AllowIfNoACL: true,
		QuotaWindows: 5, QuotaWindowSize: 2 * time.Second,
		TopicDefaults: map[string]string{
			"retention.ms": "86400000", "retention.bytes": "1000000", "segment.bytes": "100000", "segment.ms": "60000",
			"cleanup.policy": "compact,delete", "max.message.bytes": "2000", "min.insync.replicas": "2",
			"message.timestamp.type": "LogAppendTime", "message.timestamp.before.max.ms": "1000", "message.timestamp.after.max.ms": "2000",
			"delete.retention.ms": "3000", "min.compaction.lag.ms": "4000", "max.compaction.lag.ms": "5000", "min.cleanable.dirty.ratio": "0.25",
		},
	}
	got := c.Broker()
	for _, bs := range got.Settings {
		if v := c.Get(bs.Name); v.Source.Origin != FromDefault && (bs.Value == nil || *bs.Value != v.Value || bs.Default) {
			t.Errorf("DescribeConfigs would say %s=%v (default %v), want %s", bs.Name, bs.Value, bs.Default, v.Value)
		}
	}
	got.Settings = nil
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	if c.LogLevel() != slog.LevelDebug {
		t.Fatalf("log level %v", c.LogLevel())
	}
	for _, v := range c.Values() {
		if v.Source.Origin != FromFile && v.Setting.Name != "log.retention.ms" && v.Setting.Name != "log.retention.minutes" &&
			v.Setting.Name != "log.roll.hours" && v.Setting.Name != "listeners" && v.Setting.Name != "advertised.listeners" {
			t.Errorf("%s is not set by the file: the test misses it", v.Setting.Name)
		}
	}
}

// Where several settings default one topic config, the finest unit set
// wins whatever its source; negative retention is unlimited; a setting
// left at its default is no broker default of the topic's.
func TestTopicDefaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   sources
		want map[string]string
	}{
		{"nothing set", sources{}, map[string]string{}},
		{"hours", sources{file: "log.retention.hours=1\n"}, map[string]string{"retention.ms": "3600000"}},
		{"the default value, set", sources{file: "log.retention.hours=168\n"}, map[string]string{"retention.ms": "604800000"}},
		{"minutes over hours", sources{file: "log.retention.minutes=2\n", env: []string{"SLUICE_LOG_RETENTION_HOURS=1"}},
			map[string]string{"retention.ms": "120000"}},
		{"ms over minutes and hours", sources{file: "log.retention.ms=5\nlog.retention.minutes=2\nlog.retention.hours=1\n"},
			map[string]string{"retention.ms": "5"}},
		{"an unset ms leaves the hours", sources{file: "log.retention.ms=\nlog.retention.hours=2\n"}, map[string]string{"retention.ms": "7200000"}},
		{"negative hours are unlimited", sources{file: "log.retention.hours=-1\n"}, map[string]string{"retention.ms": "-1"}},
		{"roll hours", sources{env: []string{"SLUICE_LOG_ROLL_HOURS=1"}}, map[string]string{"segment.ms": "3600000"}},
		{"roll ms over hours", sources{env: []string{"SLUICE_LOG_ROLL_HOURS=1", "SLUICE_LOG_ROLL_MS=10"}}, map[string]string{"segment.ms": "10"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, errs := load(t, tc.in)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			if got := c.Broker().TopicDefaults; !maps.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// A broker default of a topic config agrees with the topic config: the
// same default, and the same lowest value accepted.
func TestTopicSettingsAgreeWithTopicConfigs(t *testing.T) {
	for _, s := range settings {
		if s.topic == "" {
			continue
		}
		spec, ok := metadata.Spec(s.topic)
		if !ok {
			t.Errorf("%s: %s is no topic config", s.Name, s.topic)
			continue
		}
		if s.Default != "" {
			def := s.Default
			if s.scale != 1 {
				def = strconv.FormatInt(num(def)*s.scale, 10)
			}
			if def != spec.Default {
				t.Errorf("%s: default %s, but %s's is %s", s.Name, def, s.topic, spec.Default)
			}
		}
		var lo int64
		switch k := s.kind.(type) {
		case integer:
			lo = k.lo
		case duration:
			lo = k.lo
		default:
			continue
		}
		if s.scale != 1 {
			continue
		}
		for _, v := range []int64{lo, lo - 1} {
			_, mine := s.kind.check(strconv.FormatInt(v, 10))
			theirs := metadata.CheckValue(s.topic, strconv.FormatInt(v, 10))
			if (mine == nil) != (theirs == nil) {
				t.Errorf("%s=%d: %v, but %s=%d: %v", s.Name, v, mine, s.topic, v, theirs)
			}
		}
	}
}
