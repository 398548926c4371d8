// Package config is the settings of `sluice serve`: the table of every
// setting (its name, flag, default and type), the sources they are read
// from (a properties file, SLUICE_ environment variables and flags, in
// rising precedence), their validation, and the broker.Config they make.
//
// A setting has Kafka's broker setting name where Kafka has one with the
// same meaning and units, and a Sluice name in the same dotted style
// otherwise. docs/operations.md#settings lists them all.
package config

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"sluice/internal/broker"
	"sluice/internal/metadata"
	"sluice/internal/partition"
	"sluice/internal/sasl"
	"sluice/internal/tlsconf"
)

// Setting is one broker setting.
type Setting struct {
	Name     string // Kafka's name where Kafka has the setting, else Sluice's
	Flag     string // the serve flag that sets it (without --), "" for none
	Default  string // in the file's form
	Optional bool   // may be unset: an empty value is "not set"
	Usage    string // what it does, for -h and the docs
	kind     kind
	// topic names the topic config this setting is the broker-wide
	// default of; the topic's value is this one times scale (log.roll.hours
	// defaults segment.ms).
	topic string
	scale int64
	apply func(c *broker.Config, v string) // v is checked and canonical
}

// Env is the environment variable that sets s: SLUICE_ and the name in
// upper case with dots as underscores, as Kafka's container images do
// with KAFKA_.
func (s *Setting) Env() string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(s.Name, ".", "_"))
}

const envPrefix = "SLUICE_"

// Largest values that still fit a time.Duration in nanoseconds.
const (
	maxMs    = math.MaxInt64 / int64(time.Millisecond)
	maxMin   = math.MaxInt64 / int64(time.Minute)
	maxHours = math.MaxInt64 / int64(time.Hour)
)

var ms = duration{unit: time.Millisecond, lo: 1, hi: maxMs}

// settings is every setting, grouped as the docs group them; Settings
// returns them sorted by name.
var settings = []*Setting{
	// Where the broker listens and keeps its data.
	{Name: "listen", Flag: "listen", Default: "127.0.0.1:9092", Usage: "address of the one listener when listeners is not set; its security protocol is listener.security.protocol",
		kind: address{listening: true}, apply: func(c *broker.Config, v string) { c.Listen = v }},
	{Name: "advertise", Flag: "advertise", Optional: true, Usage: "host:port given to clients in Metadata when listeners is not set (not set: the listen address)",
		kind: address{}, apply: func(c *broker.Config, v string) { c.Advertise = v }},
	{Name: "listeners", Flag: "listeners", Optional: true, Usage: "the broker's listeners, NAME://host:port comma-separated (PLAINTEXT://127.0.0.1:9092,SASL_SSL://:9093); a name's security protocol is its entry in listener.security.protocol.map; not set: one listener from listen and listener.security.protocol",
		kind: listenerList{}},
	{Name: "advertised.listeners", Flag: "advertised-listeners", Optional: true, Usage: "NAME://host:port given to clients that came in on listener NAME; a listener not listed advertises its own address",
		kind: listenerList{advertised: true}},
	{Name: "listener.security.protocol.map", Flag: "listener-security-protocol-map", Default: "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL", Usage: "NAME:PROTOCOL comma-separated: the security protocol of each listener name (INTERNAL:SASL_PLAINTEXT)",
		kind: protocolMap{}},
	{Name: "log.dirs", Flag: "data-dir", Default: "./sluice-data", Usage: "directory holding the catalog and the partition logs (one directory)",
		kind: directory{}, apply: func(c *broker.Config, v string) { c.DataDir = v }},
	{Name: "node.id", Flag: "node-id", Default: "0", Usage: "this broker's node id",
		kind: integer{what: "an integer", lo: 0, hi: math.MaxInt32}, apply: func(c *broker.Config, v string) { c.NodeID = int32(num(v)) }},
	{Name: "socket.request.max.bytes", Flag: "socket-request-max-bytes", Default: "104857600", Usage: "largest request frame accepted; larger ones close the connection",
		kind: integer{what: "a number of bytes", lo: 1, hi: math.MaxInt32}, apply: func(c *broker.Config, v string) { c.MaxFrameBytes = int32(num(v)) }},
	{Name: "metrics.listen", Flag: "metrics-listen", Optional: true, Usage: "address of the Prometheus endpoint: /metrics, /healthz, /readyz (ready once recovery finished); not set: none",
		kind: address{listening: true}, apply: func(c *broker.Config, v string) { c.MetricsListen = v }},
	{Name: "log.level", Flag: "log-level", Default: "info", Usage: "the broker's own log on stderr: debug, info, warn or error",
		kind: enum{"debug", "info", "warn", "error"}}, // read by the command, not the broker

	// Authentication.
	{Name: "listener.security.protocol", Flag: "security-protocol", Default: "PLAINTEXT", Usage: "security protocol of the one listener on listen when listeners is not set: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL",
		kind: enum(protocols), apply: func(c *broker.Config, v string) { c.SecurityProtocol = v }},
	{Name: "sasl.enabled.mechanisms", Flag: "sasl-enabled-mechanisms", Default: "SCRAM-SHA-256,SCRAM-SHA-512", Usage: "SASL mechanisms SASL_PLAINTEXT and SASL_SSL listeners accept, comma-separated: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512",
		kind: mechanisms{}, apply: func(c *broker.Config, v string) { c.SASLMechanisms = strings.Split(v, ",") }},
	{Name: "sasl.plain.users.file", Flag: "sasl-plain-users-file", Optional: true, Usage: "file of PLAIN's users, one name=password a line (# comments); needed when PLAIN is enabled",
		kind: usersFile{}, apply: func(c *broker.Config, v string) {
			if v != "" {
				c.SASLPlainUsers, _ = sasl.ReadPlainUsers(v) // read once by check already
			}
		}},
	{Name: "max.connections", Flag: "max-connections", Default: "0", Usage: "client connections the broker holds at once, over every listener; one over it is closed as soon as it is accepted; 0: no limit",
		kind: integer{what: "a number of connections", lo: 0, hi: math.MaxInt32}, apply: func(c *broker.Config, v string) { c.MaxConnections = int(num(v)) }},
	{Name: "max.connections.per.ip", Flag: "max-connections-per-ip", Default: "0", Usage: "client connections from one IP address at once; one over it is closed as soon as it is accepted; 0: no limit",
		kind: integer{what: "a number of connections", lo: 0, hi: math.MaxInt32}, apply: func(c *broker.Config, v string) { c.MaxConnectionsPerIP = int(num(v)) }},
	{Name: "max.connections.unauthenticated", Flag: "max-connections-unauthenticated", Default: "0", Usage: "connections of SASL listeners that have not finished authenticating, at once; one over it is closed as soon as it is accepted; 0: no limit",
		kind: integer{what: "a number of connections", lo: 0, hi: math.MaxInt32}, apply: func(c *broker.Config, v string) { c.MaxUnauthenticatedConnections = int(num(v)) }},
	{Name: "connections.max.idle.ms", Flag: "connections-max-idle", Default: "600000", Usage: "a connection that sends no request for this long is closed; 0: never",
		kind: duration{unit: time.Millisecond, lo: 0, hi: maxMs}, apply: func(c *broker.Config, v string) { c.ConnectionsMaxIdle = millis(v) }},
	{Name: "connections.max.reauth.ms", Flag: "connections-max-reauth", Default: "0", Usage: "SASL session lifetime (KIP-368): a client must authenticate again within it, else its connection is closed at its next request; 0: no limit",
		kind: duration{unit: time.Millisecond, lo: 0, hi: maxMs}, apply: func(c *broker.Config, v string) { c.ReauthAfter = millis(v) }},

	// TLS, of SSL and SASL_SSL listeners.
	{Name: "ssl.keystore.location", Flag: "ssl-keystore-location", Optional: true, Usage: "PEM file of the broker's certificate chain (leaf first) and unencrypted private key; re-read when it changes; needed by SSL and SASL_SSL listeners",
		kind: pemFile{keystore: true}, apply: func(c *broker.Config, v string) { c.TLS.Keystore = v }},
	{Name: "ssl.keystore.type", Default: "PEM", Usage: "format of ssl.keystore.location: PEM (JKS and PKCS12 are not read)",
		kind: enum{"PEM"}},
	{Name: "ssl.truststore.location", Flag: "ssl-truststore-location", Optional: true, Usage: "PEM file of the certificate authorities client certificates must chain to; needed when ssl.client.auth is requested or required",
		kind: pemFile{}, apply: func(c *broker.Config, v string) { c.TLS.Truststore = v }},
	{Name: "ssl.truststore.type", Default: "PEM", Usage: "format of ssl.truststore.location: PEM (JKS and PKCS12 are not read)",
		kind: enum{"PEM"}},
	{Name: "ssl.client.auth", Flag: "ssl-client-auth", Default: "none", Usage: "client certificates on SSL listeners (SASL_SSL listeners ask for none, as in Kafka): none, requested (checked when given) or required; the principal is User: and the certificate's subject",
		kind: enum{tlsconf.ClientAuthNone, tlsconf.ClientAuthRequested, tlsconf.ClientAuthRequired}, apply: func(c *broker.Config, v string) { c.TLS.ClientAuth = v }},
	// Authorization.
	{Name: "authorizer.enabled", Flag: "authorizer", Default: "false", Usage: "check every request against the ACLs (CreateAcls/DeleteAcls keep them either way); off, every principal may do everything",
		kind: boolean{}, apply: func(c *broker.Config, v string) { c.Authorizer = v == "true" }},
	{Name: "super.users", Flag: "super-users", Optional: true, Usage: "principals allowed everything when authorization is on, semicolon-separated: User:admin;User:ops",
		kind: principals{}, apply: func(c *broker.Config, v string) {
			if v != "" {
				c.SuperUsers = strings.Split(v, ";")
			}
		}},
	{Name: "allow.everyone.if.no.acl.found", Flag: "allow-everyone-if-no-acl-found", Default: "false", Usage: "when authorization is on, allow an operation on a resource no ACL covers at all (false: deny it)",
		kind: boolean{}, apply: func(c *broker.Config, v string) { c.AllowIfNoACL = v == "true" }},

	// Client quotas (set with AlterClientQuotas, stored in the catalog).
	{Name: "quota.window.num", Flag: "quota-window-num", Default: "11", Usage: "client quotas: a client may use its quota's worth of this many windows at once before it is throttled",
		kind: integer{what: "a number of windows", lo: 1, hi: 1000}, apply: func(c *broker.Config, v string) { c.QuotaWindows = int(num(v)) }},
	{Name: "quota.window.size.seconds", Flag: "quota-window-size", Default: "1", Usage: "client quotas: the length of one window, in seconds; a request_percentage throttle is at most one window",
		kind: integer{what: "a number of seconds", lo: 1, hi: 3600}, apply: func(c *broker.Config, v string) { c.QuotaWindowSize = time.Duration(num(v)) * time.Second }},

	// Durability.
	{Name: "fsync", Flag: "fsync", Default: "always", Usage: "when to fsync: always (acks=all answered after fsync), interval, never; see docs/durability.md",
		kind: enum{"always", "interval", "never"}, apply: func(c *broker.Config, v string) { c.Fsync, _ = partition.ParseFsyncPolicy(v) }},
	{Name: "log.preallocate", Default: "true", Usage: "while a partition's fsyncs are small, extend its active segment file with zeros up to 1 MiB ahead of its appends, so that an fsync writes data only (Kafka's default is false); turn off on copy-on-write file systems",
		kind: boolean{}, apply: func(c *broker.Config, v string) { c.NoPreallocate = v != "true" }},
	{Name: "fsync.journal", Default: "false", Usage: "under fsync=always, write small batches (under 64 KiB on average) of produce requests that write several partitions also to a journal all partitions share, and answer acks=all after one fsync of it rather than one per partition written (their segments are synced in bulk later); see docs/durability.md",
		kind: boolean{}, apply: func(c *broker.Config, v string) { c.Journal = v == "true" }},
	{Name: "log.flush.interval.ms", Flag: "fsync-interval", Default: "1000", Usage: "sync period for fsync=interval",
		kind: ms, apply: func(c *broker.Config, v string) { c.FsyncInterval = millis(v) }},
	{Name: "recover.catalog", Flag: "recover-catalog", Default: "false", Usage: "start on a damaged catalog: keep the records before the damage (the damaged file is saved beside it) and register again the topics found on disk; see docs/durability.md",
		kind: boolean{}, apply: func(c *broker.Config, v string) { c.RecoverCatalog = v == "true" }},

	// Topics.
	{Name: "auto.create.topics.enable", Flag: "auto-create-topics", Default: "false", Usage: "create unknown topics asked for in Metadata requests",
		kind: boolean{}, apply: func(c *broker.Config, v string) { c.AutoCreateTopics = v == "true" }},
	{Name: "num.partitions", Default: "1", Usage: "partitions of a topic created without a count (auto-created, or CreateTopics with -1)",
		kind: integer{what: "an integer", lo: 1, hi: math.MaxInt32}, apply: func(c *broker.Config, v string) { c.DefaultPartitions = int32(num(v)) }},
	{Name: "default.replication.factor", Default: "1", Usage: "replication factor of a topic created without one; Sluice runs as one broker, so 1",
		kind: integer{what: "an integer", lo: 1, hi: 1, note: "Sluice runs as one broker"}},
	{Name: "log.retention.check.interval.ms", Flag: "retention-check-interval", Default: "300000", Usage: "how often retention.ms and retention.bytes are applied",
		kind: ms, apply: func(c *broker.Config, v string) { c.RetentionCheckInterval = millis(v) }},

	// Defaults of topic configs, for topics that do not set them.
	{Name: "log.retention.ms", Optional: true, Usage: "retention.ms of topics that do not set it; -1: unlimited; wins over log.retention.minutes and .hours",
		kind: duration{unit: time.Millisecond, lo: -1, hi: maxMs}, topic: metadata.CfgRetentionMs, scale: 1},
	{Name: "log.retention.minutes", Optional: true, Usage: "as log.retention.ms, in minutes; wins over log.retention.hours",
		kind: duration{unit: time.Minute, lo: -1, hi: maxMin}, topic: metadata.CfgRetentionMs, scale: 60_000},
	{Name: "log.retention.hours", Default: "168", Usage: "as log.retention.ms, in hours",
		kind: duration{unit: time.Hour, lo: -1, hi: maxHours}, topic: metadata.CfgRetentionMs, scale: 3_600_000},
	{Name: "log.retention.bytes", Default: "-1", Usage: "retention.bytes of topics that do not set it; -1: unlimited",
		kind: integer{what: "a number of bytes", lo: -1, hi: math.MaxInt64}, topic: metadata.CfgRetentionBytes, scale: 1},
	{Name: "log.segment.bytes", Default: "1073741824", Usage: "segment.bytes of topics that do not set it",
		kind: integer{what: "a number of bytes", lo: 14, hi: math.MaxInt32}, topic: metadata.CfgSegmentBytes, scale: 1},
	{Name: "log.roll.ms", Optional: true, Usage: "segment.ms of topics that do not set it; wins over log.roll.hours",
		kind: duration{unit: time.Millisecond, lo: 1, hi: maxMs}, topic: metadata.CfgSegmentMs, scale: 1},
	{Name: "log.roll.hours", Default: "168", Usage: "as log.roll.ms, in hours",
		kind: duration{unit: time.Hour, lo: 1, hi: maxHours}, topic: metadata.CfgSegmentMs, scale: 3_600_000},
	{Name: "log.cleanup.policy", Default: "delete", Usage: "cleanup.policy of topics that do not set it: delete, compact or both",
		kind: topicValue(metadata.CfgCleanupPolicy), topic: metadata.CfgCleanupPolicy, scale: 1},
	{Name: "message.max.bytes", Default: "1048588", Usage: "max.message.bytes of topics that do not set it: the largest record batch",
		kind: integer{what: "a number of bytes", lo: 0, hi: math.MaxInt32}, topic: metadata.CfgMaxMessageBytes, scale: 1},
	{Name: "min.insync.replicas", Default: "1", Usage: "min.insync.replicas of topics that do not set it",
		kind: integer{what: "an integer", lo: 1, hi: math.MaxInt32}, topic: metadata.CfgMinInsyncReplicas, scale: 1},
	{Name: "log.message.timestamp.type", Default: "CreateTime", Usage: "message.timestamp.type of topics that do not set it: CreateTime or LogAppendTime",
		kind: topicValue(metadata.CfgTimestampType), topic: metadata.CfgTimestampType, scale: 1},
	{Name: "log.message.timestamp.before.max.ms", Default: "9223372036854775807", Usage: "message.timestamp.before.max.ms of topics that do not set it",
		kind: duration{unit: time.Millisecond, lo: 0, hi: math.MaxInt64}, topic: metadata.CfgTimestampBefore, scale: 1},
	{Name: "log.message.timestamp.after.max.ms", Default: "9223372036854775807", Usage: "message.timestamp.after.max.ms of topics that do not set it",
		kind: duration{unit: time.Millisecond, lo: 0, hi: math.MaxInt64}, topic: metadata.CfgTimestampAfter, scale: 1},
	{Name: "log.cleaner.delete.retention.ms", Default: "86400000", Usage: "delete.retention.ms of topics that do not set it",
		kind: duration{unit: time.Millisecond, lo: 0, hi: math.MaxInt64}, topic: metadata.CfgDeleteRetentionMs, scale: 1},
	{Name: "log.cleaner.min.compaction.lag.ms", Default: "0", Usage: "min.compaction.lag.ms of topics that do not set it",
		kind: duration{unit: time.Millisecond, lo: 0, hi: math.MaxInt64}, topic: metadata.CfgMinCompactionLagMs, scale: 1},
	{Name: "log.cleaner.max.compaction.lag.ms", Default: "9223372036854775807", Usage: "max.compaction.lag.ms of topics that do not set it",
		kind: duration{unit: time.Millisecond, lo: 1, hi: math.MaxInt64}, topic: metadata.CfgMaxCompactionLagMs, scale: 1},
	{Name: "log.cleaner.min.cleanable.ratio", Default: "0.5", Usage: "min.cleanable.dirty.ratio of topics that do not set it",
		kind: topicValue(metadata.CfgMinCleanableDirtyRatio), topic: metadata.CfgMinCleanableDirtyRatio, scale: 1},

	// The log cleaner.
	{Name: "log.cleaner.backoff.ms", Flag: "log-cleaner-backoff", Default: "15000", Usage: "how long the log cleaner sleeps when no compacted partition needs cleaning",
		kind: ms, apply: func(c *broker.Config, v string) { c.CleanerBackoff = millis(v) }},
	{Name: "log.cleaner.io.max.bytes.per.second", Flag: "log-cleaner-io-max-bytes-per-second", Default: "50000000", Usage: "bytes per second the log cleaner may read and write; -1: unlimited",
		kind: integer{what: "a number of bytes", lo: 1, hi: math.MaxInt64, also: []int64{-1}}, apply: func(c *broker.Config, v string) { c.CleanerIOMaxBytesPerSecond = num(v) }},

	// Consumer groups.
	{Name: "offsets.retention.minutes", Flag: "offsets-retention", Default: "10080", Usage: "how long committed offsets of an empty group are kept",
		kind: duration{unit: time.Minute, lo: 1, hi: maxMin}, apply: func(c *broker.Config, v string) { c.OffsetsRetention = time.Duration(num(v)) * time.Minute }},
	{Name: "offsets.topic.num.partitions", Default: "16", Usage: "partitions of the internal __consumer_offsets topic; fixed once the topic exists",
		kind: integer{what: "an integer", lo: 1, hi: 1000}, apply: func(c *broker.Config, v string) { c.OffsetsPartitions = int32(num(v)) }},
	{Name: "group.min.session.timeout.ms", Flag: "group-min-session-timeout", Default: "6000", Usage: "smallest session timeout a group member may ask for",
		kind: ms, apply: func(c *broker.Config, v string) { c.GroupMinSessionTimeout = millis(v) }},
	{Name: "group.max.session.timeout.ms", Flag: "group-max-session-timeout", Default: "1800000", Usage: "largest session timeout a group member may ask for",
		kind: ms, apply: func(c *broker.Config, v string) { c.GroupMaxSessionTimeout = millis(v) }},
	{Name: "group.initial.rebalance.delay.ms", Flag: "group-initial-rebalance-delay", Default: "3000", Usage: "how long the first rebalance of an empty group waits for more members; 0: none (a negative flag: none)",
		kind: duration{unit: time.Millisecond, lo: 0, hi: maxMs, negativeFlag: "0"}, apply: func(c *broker.Config, v string) {
			c.GroupInitialRebalanceDelay = millis(v)
			if c.GroupInitialRebalanceDelay == 0 {
				c.GroupInitialRebalanceDelay = -1 // the broker's 0 is its default
			}
		}},

	// Fetch sessions.
	{Name: "max.incremental.fetch.session.cache.slots", Flag: "max-incremental-fetch-session-cache-slots", Default: "1000", Usage: "incremental fetch sessions held at once (KIP-227); 0: none, every fetch is sessionless",
		kind: integer{what: "an integer", lo: 0, hi: math.MaxInt32}, apply: func(c *broker.Config, v string) {
			c.FetchSessionCacheSlots = int(num(v))
			if c.FetchSessionCacheSlots == 0 {
				c.FetchSessionCacheSlots = -1 // the broker's 0 is its default
			}
		}},

	// Transactions.
	{Name: "transaction.max.timeout.ms", Flag: "transaction-max-timeout", Default: "900000", Usage: "largest transaction.timeout.ms a producer may ask for",
		kind: duration{unit: time.Millisecond, lo: 1, hi: math.MaxInt32}, apply: func(c *broker.Config, v string) { c.TxnMaxTimeout = millis(v) }},
	{Name: "transaction.state.log.num.partitions", Flag: "transaction-state-partitions", Default: "16", Usage: "partitions of the internal __transaction_state topic; fixed once the topic exists",
		kind: integer{what: "an integer", lo: 1, hi: 1000}, apply: func(c *broker.Config, v string) { c.TxnStatePartitions = int32(num(v)) }},
	{Name: "transactional.id.expiration.ms", Flag: "transactional-id-expiration", Default: "604800000", Usage: "how long an idle transactional id is remembered",
		kind: duration{unit: time.Millisecond, lo: 1, hi: math.MaxInt32}, apply: func(c *broker.Config, v string) { c.TxnIDExpiration = millis(v) }},
}

// Settings returns every setting, sorted by name.
func Settings() []*Setting {
	out := slices.Clone(settings)
	slices.SortFunc(out, func(a, b *Setting) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// lookup returns the setting of a name, or nil.
func lookup(name string) *Setting {
	for _, s := range settings {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// num and millis read values that check has already accepted.
func num(v string) int64 {
	n, _ := strconv.ParseInt(v, 10, 64)
	return n
}

func millis(v string) time.Duration { return time.Duration(num(v)) * time.Millisecond }
