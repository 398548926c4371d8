package tests

import (
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/brokertest"
)

type quotaOp struct {
	key    string
	value  float64
	remove bool
}

// quotaEntity is an entity as "type=name" pairs; a name "<default>" is
// the default entity (null name).
func quotaEntity(pairs ...string) []kmsg.AlterClientQuotasRequestEntryEntity {
	var out []kmsg.AlterClientQuotasRequestEntryEntity
	for i := 0; i < len(pairs); i += 2 {
		e := kmsg.NewAlterClientQuotasRequestEntryEntity()
		e.Type = pairs[i]
		if pairs[i+1] != "<default>" {
			e.Name = kmsg.StringPtr(pairs[i+1])
		}
		out = append(out, e)
	}
	return out
}

type quotaEntry struct {
	entity []kmsg.AlterClientQuotasRequestEntryEntity
	ops    []quotaOp
}

// alterQuotas sends one AlterClientQuotas and returns each entry's code
// and message.
func alterQuotas(t *testing.T, cl *kgo.Client, validateOnly bool, entries ...quotaEntry) []string {
	t.Helper()
	req := kmsg.NewPtrAlterClientQuotasRequest()
	req.ValidateOnly = validateOnly
	for _, e := range entries {
		re := kmsg.NewAlterClientQuotasRequestEntry()
		re.Entity = e.entity
		for _, op := range e.ops {
			o := kmsg.NewAlterClientQuotasRequestEntryOp()
			o.Key, o.Value, o.Remove = op.key, op.value, op.remove
			re.Ops = append(re.Ops, o)
		}
		req.Entries = append(req.Entries, re)
	}
	resp := requestBroker(t, cl, req).(*kmsg.AlterClientQuotasResponse)
	if len(resp.Entries) != len(entries) {
		t.Fatalf("%d results for %d entries", len(resp.Entries), len(entries))
	}
	var out []string
	for i, r := range resp.Entries {
		if len(r.Entity) != len(entries[i].entity) {
			t.Fatalf("result %d: entity %+v", i, r.Entity)
		}
		out = append(out, codeAndMessage(r.ErrorCode, r.ErrorMessage))
	}
	return out
}

func codeAndMessage(code int16, msg *string) string {
	if code == 0 {
		return "ok"
	}
	s := kerr.ErrorForCode(code).(*kerr.Error).Message
	if msg != nil {
		s += ": " + *msg
	}
	return s
}

// describeQuotas returns the described entries as "entity -> key=value ..."
// lines, or the error.
func describeQuotas(t *testing.T, cl *kgo.Client, strict bool, comps ...kmsg.DescribeClientQuotasRequestComponent) []string {
	t.Helper()
	req := kmsg.NewPtrDescribeClientQuotasRequest()
	req.Strict, req.Components = strict, comps
	resp := requestBroker(t, cl, req).(*kmsg.DescribeClientQuotasResponse)
	if resp.ErrorCode != 0 {
		return []string{codeAndMessage(resp.ErrorCode, resp.ErrorMessage)}
	}
	var out []string
	for _, e := range resp.Entries {
		s := ""
		for _, c := range e.Entity {
			name := "<default>"
			if c.Name != nil {
				name = *c.Name
			}
			s += c.Type + "=" + name + " "
		}
		s += "->"
		for _, v := range e.Values {
			s += fmt.Sprintf(" %s=%g", v.Key, v.Value)
		}
		out = append(out, s)
	}
	return out
}

func component(typ string, match kmsg.QuotasMatchType, name *string) kmsg.DescribeClientQuotasRequestComponent {
	c := kmsg.NewDescribeClientQuotasRequestComponent()
	c.EntityType, c.MatchType, c.Match = typ, match, name
	return c
}

func wantLines(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s:\n got  %q\n want %q", what, got, want)
	}
}

// Quotas are set, described by every kind of filter, changed, removed
// and checked as Kafka's controller checks them, with its error codes and
// messages; validate_only stores nothing; and what is stored survives a
// restart.
func TestClientQuotasAlterDescribe(t *testing.T) {
	b := brokertest.Start(t)
	cl := newClient(t, b.Addr())
	set := func(key string, v float64) quotaOp { return quotaOp{key: key, value: v} }

	wantLines(t, "set", alterQuotas(t, cl, false,
		quotaEntry{quotaEntity("client-id", "c1"), []quotaOp{set("producer_byte_rate", 1024), set("consumer_byte_rate", 2048)}},
		quotaEntry{quotaEntity("client-id", "<default>"), []quotaOp{set("consumer_byte_rate", 4096)}},
		quotaEntry{quotaEntity("user", "alice", "client-id", "<default>"), []quotaOp{set("request_percentage", 12.5)}},
		quotaEntry{quotaEntity("user", "<default>"), []quotaOp{set("controller_mutation_rate", 0.5)}},
		quotaEntry{quotaEntity("ip", "<default>"), []quotaOp{set("connection_creation_rate", 10)}},
		quotaEntry{quotaEntity("ip", "10.0.0.1"), []quotaOp{set("connection_creation_rate", 3)}},
	), "ok", "ok", "ok", "ok", "ok", "ok")

	all := []string{
		"user=<default> -> controller_mutation_rate=0.5",
		"user=alice client-id=<default> -> request_percentage=12.5",
		"client-id=<default> -> consumer_byte_rate=4096",
		"client-id=c1 -> consumer_byte_rate=2048 producer_byte_rate=1024",
		"ip=<default> -> connection_creation_rate=10",
		"ip=10.0.0.1 -> connection_creation_rate=3",
	}
	wantLines(t, "describe all", describeQuotas(t, cl, false), all...)
	wantLines(t, "strict, no components", describeQuotas(t, cl, true))
	wantLines(t, "exact client-id", describeQuotas(t, cl, false, component("client-id", 0, kmsg.StringPtr("c1"))), all[3])
	wantLines(t, "default client-id", describeQuotas(t, cl, false, component("client-id", 1, nil)), all[1], all[2])
	wantLines(t, "default client-id, strict", describeQuotas(t, cl, true, component("client-id", 1, nil)), all[2])
	wantLines(t, "any client-id", describeQuotas(t, cl, true, component("client-id", 2, nil)), all[2], all[3])
	wantLines(t, "any user", describeQuotas(t, cl, false, component("user", 2, nil)), all[0], all[1])
	wantLines(t, "user alice and any client", describeQuotas(t, cl, true, component("user", 0, kmsg.StringPtr("alice")), component("client-id", 2, nil)), all[1])
	wantLines(t, "any ip", describeQuotas(t, cl, false, component("ip", 2, nil)), all[4], all[5])

	// Bad filters: Kafka's codes and messages.
	for _, tc := range []struct {
		comps []kmsg.DescribeClientQuotasRequestComponent
		want  string
	}{
		{[]kmsg.DescribeClientQuotasRequestComponent{component("group", 2, nil)}, "UNSUPPORTED_VERSION: Unsupported entity type group"},
		{[]kmsg.DescribeClientQuotasRequestComponent{component("user", 0, nil)}, "INVALID_REQUEST: Request specified MATCH_TYPE_EXACT, but set match string to null."},
		{[]kmsg.DescribeClientQuotasRequestComponent{component("user", 1, kmsg.StringPtr("a"))}, "INVALID_REQUEST: Request specified MATCH_TYPE_DEFAULT, but also specified a match string."},
		{[]kmsg.DescribeClientQuotasRequestComponent{component("user", 2, nil), component("user", 1, nil)}, "INVALID_REQUEST: Entity type user cannot appear more than once in the filter."},
		{[]kmsg.DescribeClientQuotasRequestComponent{component("ip", 2, nil), component("user", 2, nil)}, "INVALID_REQUEST: Invalid entity filter component combination. IP filter component should not be used with user or clientId filter component."},
	} {
		wantLines(t, "bad filter", describeQuotas(t, cl, false, tc.comps...), tc.want)
	}

	// Bad alterations: each entry is refused alone, with Kafka's message;
	// the valid entry of the same request is applied.
	wantLines(t, "bad alterations", alterQuotas(t, cl, false,
		quotaEntry{quotaEntity("client-id", "c1"), []quotaOp{set("producer_byte_rate", 999)}},
		quotaEntry{quotaEntity("client-id", "c2"), []quotaOp{set("bogus", 1)}},
		quotaEntry{quotaEntity("client-id", "c2"), []quotaOp{set("producer_byte_rate", 0)}},
		quotaEntry{quotaEntity("client-id", "c3"), []quotaOp{set("consumer_byte_rate", 10.5)}},
		quotaEntry{quotaEntity("client-id", "c4"), []quotaOp{set("connection_creation_rate", 5)}},
		quotaEntry{quotaEntity("ip", "<default>", "user", "x"), []quotaOp{set("connection_creation_rate", 5)}},
		quotaEntry{quotaEntity("ip", "nowhere"), []quotaOp{set("connection_creation_rate", 5)}},
		quotaEntry{quotaEntity("group", "g"), []quotaOp{set("producer_byte_rate", 5)}},
		quotaEntry{nil, []quotaOp{set("producer_byte_rate", 5)}},
		quotaEntry{quotaEntity("user", ""), []quotaOp{set("producer_byte_rate", 5)}},
		quotaEntry{quotaEntity("user", "u"), []quotaOp{set("producer_byte_rate", 5), set("producer_byte_rate", 6)}},
	),
		"ok",
		"INVALID_REQUEST: Invalid configuration key bogus",
		"INVALID_REQUEST: Quota producer_byte_rate must be greater than 0",
		"INVALID_REQUEST: consumer_byte_rate cannot be a fractional value.",
		"INVALID_REQUEST: Invalid configuration key connection_creation_rate",
		"INVALID_REQUEST: Invalid quota entity combination, IP entity should not be combined with User or ClientId",
		"INVALID_REQUEST: nowhere is not a valid IP or resolvable host.",
		"INVALID_REQUEST: Unhandled client quota entity type: group",
		"INVALID_REQUEST: Invalid empty client quota entity",
		"INVALID_REQUEST: Empty user not supported",
		"INVALID_REQUEST: Duplicate quota key producer_byte_rate not updating quota for this entity {user=u}",
	)
	wantLines(t, "c1 after the bad request", describeQuotas(t, cl, true, component("client-id", 0, kmsg.StringPtr("c1"))),
		"client-id=c1 -> consumer_byte_rate=2048 producer_byte_rate=999")

	// validate_only checks and stores nothing.
	wantLines(t, "validate only", alterQuotas(t, cl, true,
		quotaEntry{quotaEntity("client-id", "c9"), []quotaOp{set("producer_byte_rate", 5)}},
		quotaEntry{quotaEntity("client-id", "c9"), []quotaOp{set("consumer_byte_rate", 5)}},
		quotaEntry{quotaEntity("client-id", "c8"), []quotaOp{set("nope", 5)}},
	), "INVALID_REQUEST: Ignoring duplicate entity {client-id=c9}", "INVALID_REQUEST: Ignoring duplicate entity {client-id=c9}",
		"INVALID_REQUEST: Invalid configuration key nope")
	wantLines(t, "validate only", alterQuotas(t, cl, true,
		quotaEntry{quotaEntity("client-id", "c9"), []quotaOp{set("producer_byte_rate", 5)}},
	), "ok")
	wantLines(t, "nothing stored by validate_only", describeQuotas(t, cl, false, component("client-id", 0, kmsg.StringPtr("c9"))))

	// Removal: a key goes; an entity with no key left goes; removing what
	// is not set succeeds.
	wantLines(t, "remove", alterQuotas(t, cl, false,
		quotaEntry{quotaEntity("client-id", "c1"), []quotaOp{{key: "producer_byte_rate", remove: true}}},
		quotaEntry{quotaEntity("user", "<default>"), []quotaOp{{key: "controller_mutation_rate", remove: true}}},
		quotaEntry{quotaEntity("user", "nobody"), []quotaOp{{key: "producer_byte_rate", remove: true}}},
	), "ok", "ok", "ok")
	want := []string{
		"user=alice client-id=<default> -> request_percentage=12.5",
		"client-id=<default> -> consumer_byte_rate=4096",
		"client-id=c1 -> consumer_byte_rate=2048",
		"ip=<default> -> connection_creation_rate=10",
		"ip=10.0.0.1 -> connection_creation_rate=3",
	}
	wantLines(t, "after removal", describeQuotas(t, cl, false), want...)

	// kadm reads them the same way.
	described, err := newAdmin(t, b.Addr()).DescribeClientQuotas(testCtx(t, 10*time.Second), false, []kadm.DescribeClientQuotaComponent{{Type: "client-id", MatchName: kmsg.StringPtr("c1")}})
	if err != nil || len(described) != 1 || len(described[0].Values) != 1 || described[0].Values[0] != (kadm.ClientQuotaValue{Key: "consumer_byte_rate", Value: 2048}) {
		t.Fatalf("kadm describe: %+v %v", described, err)
	}

	b = restartInProcess(t, b)
	wantLines(t, "after restart", describeQuotas(t, newClient(t, b.Addr()), false), want...)
}

// With authorization on, altering quotas needs AlterConfigs on the
// cluster and describing them DescribeConfigs, as in Kafka.
func TestClientQuotasAuthorization(t *testing.T) {
	b := aclBroker(t)
	admin := userClient(t, b.Addr(), plainUser, plainPass)
	alice := userClient(t, b.Addr(), alice, alicePass)
	entry := quotaEntry{quotaEntity("user", "bob"), []quotaOp{{key: "producer_byte_rate", value: 100}}}

	wantLines(t, "alice alters", alterQuotas(t, alice, false, entry, entry),
		"CLUSTER_AUTHORIZATION_FAILED: altering client quotas needs AlterConfigs on the cluster",
		"CLUSTER_AUTHORIZATION_FAILED: altering client quotas needs AlterConfigs on the cluster")
	wantLines(t, "alice describes", describeQuotas(t, alice, false),
		"CLUSTER_AUTHORIZATION_FAILED: describing client quotas needs DescribeConfigs on the cluster")
	wantLines(t, "nothing stored", describeQuotas(t, admin, false))

	adm := kadm.NewClient(admin)
	createACLs(t, adm, kadm.NewACLs().Allow("User:alice").Clusters().Operations(kadm.OpAlterConfigs))
	wantLines(t, "alice alters with AlterConfigs", alterQuotas(t, alice, false, entry), "ok")
	// AlterConfigs implies DescribeConfigs.
	wantLines(t, "alice describes with AlterConfigs", describeQuotas(t, alice, false), "user=bob -> producer_byte_rate=100")
}
