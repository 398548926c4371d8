package config

import (
	"flag"
	"os"
	"strings"
	"testing"
)

// sources are the inputs of one Load: a file's text (none if empty), the
// environment and the flags.
type sources struct {
	file  string
	env   []string
	flags []string
}

// load runs Load in a fresh working directory holding the file as
// sluice.properties, so that messages name it so.
func load(t *testing.T, in sources) (*Config, []string) {
	t.Helper()
	t.Chdir(t.TempDir())
	var file string
	if in.file != "" {
		file = "sluice.properties"
		if err := os.WriteFile(file, []byte(in.file), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	flags := RegisterFlags(fs)
	if err := fs.Parse(in.flags); err != nil {
		t.Fatal(err)
	}
	c, errs := Load(Inputs{File: file, Environ: in.env, Flags: flags})
	var msgs []string
	for _, err := range errs {
		msgs = append(msgs, err.Error())
	}
	return c, msgs
}

func TestPrecedence(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      sources
		setting string
		want    string // value, then source
	}{
		{"default", sources{}, "node.id", "0 default"},
		{"file over default", sources{file: "node.id=1\n"}, "node.id", "1 sluice.properties:1"},
		{"env over file", sources{file: "node.id=1\n", env: []string{"SLUICE_NODE_ID=2"}}, "node.id", "2 env SLUICE_NODE_ID"},
		{"flag over env and file", sources{file: "node.id=1\n", env: []string{"SLUICE_NODE_ID=2"}, flags: []string{"--node-id", "3"}},
			"node.id", "3 flag --node-id"},
		{"flag over file", sources{file: "# c\n\nnode.id=1\n", flags: []string{"--node-id=3"}}, "node.id", "3 flag --node-id"},
		{"the file's line", sources{file: "# c\n\nnode.id=1\n"}, "node.id", "1 sluice.properties:3"},
		{"the last of a repeated flag", sources{flags: []string{"--node-id=3", "--node-id=4"}}, "node.id", "4 flag --node-id"},
		{"an empty variable unsets an optional setting", sources{file: "advertise=h:1\n", env: []string{"SLUICE_ADVERTISE="}},
			"advertise", " env SLUICE_ADVERTISE"},
		{"the first of a doubled variable", sources{env: []string{"SLUICE_NODE_ID=5", "SLUICE_NODE_ID=6"}}, "node.id", "5 env SLUICE_NODE_ID"},
		{"a duration flag in the setting's unit", sources{flags: []string{"--offsets-retention", "48h"}},
			"offsets.retention.minutes", "2880 flag --offsets-retention"},
		{"milliseconds from a flag", sources{flags: []string{"--fsync-interval", "1.5s"}}, "log.flush.interval.ms", "1500 flag --fsync-interval"},
		{"a negative delay flag is none", sources{flags: []string{"--group-initial-rebalance-delay", "-1ms"}},
			"group.initial.rebalance.delay.ms", "0 flag --group-initial-rebalance-delay"},
		{"a switch without a value", sources{file: "auto.create.topics.enable=false\n", flags: []string{"--auto-create-topics"}},
			"auto.create.topics.enable", "true flag --auto-create-topics"},
		{"a switch turned off", sources{env: []string{"SLUICE_AUTO_CREATE_TOPICS_ENABLE=true"}, flags: []string{"--auto-create-topics=false"}},
			"auto.create.topics.enable", "false flag --auto-create-topics"},
		{"booleans in any case", sources{file: "auto.create.topics.enable=TRUE\n"}, "auto.create.topics.enable", "true sluice.properties:1"},
		{"words in any case", sources{env: []string{"SLUICE_FSYNC=Interval"}}, "fsync", "interval env SLUICE_FSYNC"},
		{"blanks around a value", sources{file: "num.partitions =  3  \n"}, "num.partitions", "3 sluice.properties:1"},
		{"continued lines", sources{file: "log.dirs=/var/lib/\\\n    sluice\n"}, "log.dirs", "/var/lib/sluice sluice.properties:1"},
		{"the client commands' variable is not serve's", sources{env: []string{"SLUICE_BROKERS=h:1", "SLUICE_SASL_USERNAME=admin", "SLUICE_SASL_PASSWORD=x", "PATH=/bin"}}, "listen", "127.0.0.1:9092 default"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, errs := load(t, tc.in)
			if len(errs) > 0 {
				t.Fatalf("errors: %q", errs)
			}
			v := c.Get(tc.setting)
			if got := v.Value + " " + v.Source.String(); got != tc.want {
				t.Fatalf("%s: %q, want %q", tc.setting, got, tc.want)
			}
		})
	}
}

// Each message names the setting, the value as given, its source and why.
func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   sources
		want []string
	}{
		{"numbers with units", sources{file: "log.retention.ms=abc\nlog.retention.minutes=1m\nlog.retention.hours=1.5\n"}, []string{
			"log.retention.ms=abc (sluice.properties:1): not a number of milliseconds",
			"log.retention.minutes=1m (sluice.properties:2): not a number of minutes",
			"log.retention.hours=1.5 (sluice.properties:3): not a number of hours",
		}},
		{"integers and bytes", sources{env: []string{"SLUICE_NODE_ID=x", "SLUICE_LOG_SEGMENT_BYTES=1GB"}}, []string{
			"log.segment.bytes=1GB (env SLUICE_LOG_SEGMENT_BYTES): not a number of bytes",
			"node.id=x (env SLUICE_NODE_ID): not an integer",
		}},
		{"too large", sources{file: "log.retention.bytes=9223372036854775808\n"}, []string{
			"log.retention.bytes=9223372036854775808 (sluice.properties:1): too large for a 64-bit integer",
		}},
		{"ranges", sources{file: "num.partitions=0\ntransaction.state.log.num.partitions=1001\nlog.segment.bytes=13\n" +
			"default.replication.factor=3\nlog.cleaner.io.max.bytes.per.second=0\nlog.retention.ms=-2\nnode.id=2147483648\n"}, []string{
			"num.partitions=0 (sluice.properties:1): must be at least 1",
			"transaction.state.log.num.partitions=1001 (sluice.properties:2): must be between 1 and 1000",
			"log.segment.bytes=13 (sluice.properties:3): must be at least 14",
			"default.replication.factor=3 (sluice.properties:4): must be 1; Sluice runs as one broker",
			"log.cleaner.io.max.bytes.per.second=0 (sluice.properties:5): must be -1 or at least 1",
			"log.retention.ms=-2 (sluice.properties:6): must be at least -1",
			"node.id=2147483648 (sluice.properties:7): must be between 0 and 2147483647",
		}},
		{"words", sources{file: "fsync=sometimes\nauto.create.topics.enable=yes\nlog.level=trace\n"}, []string{
			"fsync=sometimes (sluice.properties:1): must be one of always, interval, never",
			"auto.create.topics.enable=yes (sluice.properties:2): not true or false",
			"log.level=trace (sluice.properties:3): must be one of debug, info, warn, error",
		}},
		{"principals", sources{file: "super.users=User:admin;admin\n"}, []string{
			`super.users=User:admin;admin (sluice.properties:1): "admin" is not a principal of the form User:name`,
		}},
		{"topic config values", sources{file: "log.cleanup.policy=keep\nlog.cleaner.min.cleanable.ratio=2\nlog.message.timestamp.type=Now\n"}, []string{
			"log.cleanup.policy=keep (sluice.properties:1): must be one of delete, compact",
			"log.cleaner.min.cleanable.ratio=2 (sluice.properties:2): out of range [0, 1]",
			"log.message.timestamp.type=Now (sluice.properties:3): must be one of CreateTime, LogAppendTime",
		}},
		{"addresses and the data directory", sources{file: "listen=9092\nadvertise=:9092\nmetrics.listen=h:http\nlog.dirs=/a,/b\n"}, []string{
			"listen=9092 (sluice.properties:1): not host:port",
			"advertise=:9092 (sluice.properties:2): no host: clients need one to connect to",
			`metrics.listen=h:http (sluice.properties:3): port "http" is not a number between 0 and 65535`,
			"log.dirs=/a,/b (sluice.properties:4): Sluice keeps one data directory: give one path, not a list",
		}},
		{"an empty value", sources{file: "log.dirs=\n", env: []string{"SLUICE_FSYNC= "}}, []string{
			"log.dirs= (sluice.properties:1): empty: give a value (default ./sluice-data)",
			"fsync=  (env SLUICE_FSYNC): empty: give a value (default always)",
		}},
		{"unknown names", sources{file: "log.retention.msx=5\nzookeeper.connect=zk:2181\nlog.dir=/d\n",
			env: []string{"SLUICE_NUM_PARTITION=3", "SLUICE_log_dirs=/d", "SLUICE_X=1"}}, []string{
			"log.retention.msx=5 (sluice.properties:1): unknown setting; did you mean log.retention.ms?",
			"zookeeper.connect=zk:2181 (sluice.properties:2): unknown setting",
			"log.dir=/d (sluice.properties:3): unknown setting; did you mean log.dirs?",
			"SLUICE_NUM_PARTITION=3 (env SLUICE_NUM_PARTITION): unknown SLUICE_ variable; did you mean SLUICE_NUM_PARTITIONS?",
			"SLUICE_X=1 (env SLUICE_X): unknown SLUICE_ variable",
			"SLUICE_log_dirs=/d (env SLUICE_log_dirs): unknown SLUICE_ variable; did you mean SLUICE_LOG_DIRS?",
		}},
		{"a setting twice in the file", sources{file: "num.partitions=2\n# later\nnum.partitions=3\n"}, []string{
			"num.partitions=3 (sluice.properties:3): set again (first on line 1): set each setting once",
		}},
		{"flags", sources{flags: []string{"--fsync-interval", "soon", "--offsets-retention", "90s", "--log-cleaner-backoff", "0s",
			"--node-id", "-1", "--recover-catalog=maybe"}}, []string{
			"log.flush.interval.ms=soon (flag --fsync-interval): not a duration such as 1500ms, 30s or 168h",
			"log.cleaner.backoff.ms=0s (flag --log-cleaner-backoff): must be at least 1",
			"node.id=-1 (flag --node-id): must be at least 0",
			"offsets.retention.minutes=90s (flag --offsets-retention): not a whole number of minutes",
			"recover.catalog=maybe (flag --recover-catalog): not true or false",
		}},
		{"every source at once, file first", sources{file: "node.id=a\n", env: []string{"SLUICE_NODE_ID=b"}, flags: []string{"--node-id=c"}}, []string{
			"node.id=a (sluice.properties:1): not an integer",
			"node.id=b (env SLUICE_NODE_ID): not an integer",
			"node.id=c (flag --node-id): not an integer",
		}},
		{"settings that do not go together", sources{file: "group.max.session.timeout.ms=5000\n", flags: []string{"--group-min-session-timeout=6s"}}, []string{
			"group.min.session.timeout.ms=6000 (flag --group-min-session-timeout): greater than group.max.session.timeout.ms=5000 (sluice.properties:1)",
		}},
		{"a file that cannot be parsed", sources{file: "a=1\nb=\\u00\n"}, []string{
			`sluice.properties:2: malformed \uXXXX escape`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, got := load(t, tc.in)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestMissingFile(t *testing.T) {
	t.Chdir(t.TempDir())
	_, errs := Load(Inputs{File: "nope.properties"})
	if len(errs) != 1 || errs[0].Error() != "config file: open nope.properties: no such file or directory" {
		t.Fatalf("errors %v", errs)
	}
}

// Names, variables and flags are each one setting's.
func TestNamesAreUnique(t *testing.T) {
	seen := map[string]string{}
	for _, s := range settings {
		for _, k := range []string{s.Name, s.Env(), "--" + s.Flag} {
			if k == "--" {
				continue
			}
			if other, ok := seen[k]; ok {
				t.Errorf("%s is both %s's and %s's", k, other, s.Name)
			}
			seen[k] = s.Name
		}
		if s.Name != strings.ToLower(s.Name) || strings.ContainsAny(s.Name, "_- ") {
			t.Errorf("%s: names are dotted lower-case words", s.Name)
		}
		if _, err := s.kind.check(s.Default); err != nil && !(s.Optional && s.Default == "") {
			t.Errorf("%s: the default %q is refused: %v", s.Name, s.Default, err)
		}
	}
}
