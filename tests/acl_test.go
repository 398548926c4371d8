package tests

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"sluice/internal/broker"
	"sluice/internal/brokertest"
	"sluice/internal/recordbatch"
)

// The users of the authorization tests' brokers: admin is the super user.
const (
	alice, alicePass = "alice", "alice-secret"
	bob, bobPass     = "bob", "bob-secret"
)

// aclBroker is a SASL broker with authorization on, admin as super user,
// and alice and bob as PLAIN users.
func aclBroker(t *testing.T, opts ...brokertest.Option) *brokertest.Broker {
	t.Helper()
	base := brokertest.WithConfig(func(c *broker.Config) {
		c.SecurityProtocol = "SASL_PLAINTEXT"
		c.SASLMechanisms = []string{"PLAIN"}
		c.SASLPlainUsers = map[string]string{plainUser: plainPass, alice: alicePass, bob: bobPass}
		c.Authorizer = true
		c.SuperUsers = []string{"User:" + plainUser}
	})
	return brokertest.Start(t, append([]brokertest.Option{base}, opts...)...)
}

func userClient(t *testing.T, addr, user, pass string, opts ...kgo.Opt) *kgo.Client {
	return newClient(t, addr, append([]kgo.Opt{plainAuth(user, pass)}, opts...)...)
}

func createACLs(t *testing.T, adm *kadm.Client, b *kadm.ACLBuilder) {
	t.Helper()
	res, err := adm.CreateACLs(testCtx(t, 10*time.Second), b)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("create ACL %+v: %v", r, r.Err)
		}
	}
}

// produceBatch sends one plain batch of one record to partition 0 of topic
// and returns the partition's code.
func produceBatch(t *testing.T, cl *kgo.Client, txnID *string, topic string) int16 {
	t.Helper()
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis, req.TransactionID = -1, 5000, txnID
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = recordbatch.Build(nil, []recordbatch.Record{{Value: []byte("x")}}, time.Now().UnixMilli(), 0)
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp := requestBroker(t, cl, req).(*kmsg.ProduceResponse)
	return resp.Topics[0].Partitions[0].ErrorCode
}

func endOffset(t *testing.T, adm *kadm.Client, topic string) int64 {
	t.Helper()
	offs, err := adm.ListEndOffsets(testCtx(t, 10*time.Second), topic)
	if err != nil {
		t.Fatal(err)
	}
	o, ok := offs.Lookup(topic, 0)
	if !ok || o.Err != nil {
		t.Fatalf("end offset of %s: %+v", topic, o)
	}
	return o.Offset
}

func wantCode(t *testing.T, what string, got int16, want *kerr.Error) {
	t.Helper()
	if want == nil && got != 0 {
		t.Fatalf("%s: %v, want success", what, kerr.ErrorForCode(got))
	}
	if want != nil && got != want.Code {
		t.Fatalf("%s: %v, want %v", what, kerr.ErrorForCode(got), want)
	}
}

// The scenario: alice may produce to a.* but not b.*, read as
// group ga but not gb, not use bob's transactional id, not delete topics;
// a deny overrides her allow; Metadata shows her only what she may
// describe; and nothing she was denied changed any state.
func TestACLEndToEnd(t *testing.T) {
	b := aclBroker(t)
	admCl := userClient(t, b.Addr(), plainUser, plainPass)
	adm := kadm.NewClient(admCl)
	for _, topic := range []string{"a.one", "a.denied", "b.one"} {
		createTopic(t, adm, topic, 1, nil)
		wantCode(t, "admin produces to "+topic, produceBatch(t, admCl, nil, topic), nil)
	}
	createACLs(t, adm, kadm.NewACLs().Allow("User:alice").Topics("a.").ResourcePatternType(kadm.ACLPatternPrefixed).
		Operations(kadm.OpWrite, kadm.OpRead))
	createACLs(t, adm, kadm.NewACLs().Deny("User:alice").Topics("a.denied").Operations(kadm.OpWrite))
	createACLs(t, adm, kadm.NewACLs().Allow("User:alice").Groups("ga").Operations(kadm.OpRead))
	createACLs(t, adm, kadm.NewACLs().Allow("User:alice").TransactionalIDs("tx-alice").Operations(kadm.OpWrite))
	createACLs(t, adm, kadm.NewACLs().Allow("User:bob").TransactionalIDs("tx-bob").Operations(kadm.OpWrite))

	cl := userClient(t, b.Addr(), alice, alicePass)
	ctx := testCtx(t, 20*time.Second)

	// Produce: a.* yes, b.* no, and the deny wins over the prefixed allow.
	wantCode(t, "produce a.one", produceBatch(t, cl, nil, "a.one"), nil)
	wantCode(t, "produce b.one", produceBatch(t, cl, nil, "b.one"), kerr.TopicAuthorizationFailed)
	wantCode(t, "produce a.denied", produceBatch(t, cl, nil, "a.denied"), kerr.TopicAuthorizationFailed)

	// Bob's transactional id: not to initialize, not to produce with.
	bobTxn := "tx-bob"
	init := kmsg.NewPtrInitProducerIDRequest()
	init.TransactionalID, init.TransactionTimeoutMillis = &bobTxn, 60000
	wantCode(t, "init tx-bob", requestBroker(t, cl, init).(*kmsg.InitProducerIDResponse).ErrorCode, kerr.TransactionalIDAuthorizationFailed)
	// Idempotence: she may Write some topic; bob, whose only ACL is on
	// his transactional id, may not.
	idem := kmsg.NewPtrInitProducerIDRequest()
	wantCode(t, "alice's idempotent producer", requestBroker(t, cl, idem).(*kmsg.InitProducerIDResponse).ErrorCode, nil)
	bobCl := userClient(t, b.Addr(), bob, bobPass)
	wantCode(t, "bob's idempotent producer", requestBroker(t, bobCl, idem).(*kmsg.InitProducerIDResponse).ErrorCode, kerr.ClusterAuthorizationFailed)
	wantCode(t, "produce with tx-bob", produceBatch(t, cl, &bobTxn, "a.one"), kerr.TransactionalIDAuthorizationFailed)
	fc := kmsg.NewPtrFindCoordinatorRequest()
	fc.CoordinatorType, fc.CoordinatorKeys = 1, []string{"tx-bob"}
	wantCode(t, "find tx-bob's coordinator", requestBroker(t, cl, fc).(*kmsg.FindCoordinatorResponse).Coordinators[0].ErrorCode, kerr.TransactionalIDAuthorizationFailed)
	aliceTxn := "tx-alice"
	init.TransactionalID = &aliceTxn
	inited := requestBroker(t, cl, init).(*kmsg.InitProducerIDResponse)
	wantCode(t, "init tx-alice", inited.ErrorCode, nil)

	// Her transaction may not take in b.one, and takes in nothing when
	// it names it.
	add := kmsg.NewPtrAddPartitionsToTxnRequest()
	add.Version, add.TransactionalID, add.ProducerID, add.ProducerEpoch = 3, aliceTxn, inited.ProducerID, inited.ProducerEpoch
	add.Topics = []kmsg.AddPartitionsToTxnRequestTopic{{Topic: "a.one", Partitions: []int32{0}}, {Topic: "b.one", Partitions: []int32{0}}}
	added := requestBroker(t, cl, add).(*kmsg.AddPartitionsToTxnResponse)
	for _, rt := range added.Topics {
		want := kerr.OperationNotAttempted
		if rt.Topic == "b.one" {
			want = kerr.TopicAuthorizationFailed
		}
		wantCode(t, "add "+rt.Topic+" to tx-alice", rt.Partitions[0].ErrorCode, want)
	}
	if d, err := adm.DescribeTransactions(ctx, aliceTxn); err != nil || len(d[aliceTxn].Topics) != 0 {
		t.Fatalf("tx-alice after a denied add: %+v %v", d, err)
	}

	// Creating topics needs Create: denied, then granted on her prefix.
	created, _ := kadm.NewClient(cl).CreateTopic(ctx, 1, 1, nil, "a.new")
	if !errorIs(created.Err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("alice creates a.new without Create: %+v", created)
	}
	createACLs(t, adm, kadm.NewACLs().Allow("User:alice").Topics("a.").ResourcePatternType(kadm.ACLPatternPrefixed).
		Operations(kadm.OpCreate))
	if created, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 1, nil, "a.new"); err != nil || created.Err != nil {
		t.Fatalf("alice creates a.new with Create: %+v %v", created, err)
	}

	// A transaction of her own on a.one commits; she cannot add b.one.
	txCl := userClient(t, b.Addr(), alice, alicePass, kgo.TransactionalID("tx-alice"), kgo.DefaultProduceTopic("a.one"))
	if err := txCl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := txCl.ProduceSync(ctx, &kgo.Record{Value: []byte("t")}).FirstErr(); err != nil {
		t.Fatalf("transactional produce to a.one: %v", err)
	}
	if err := txCl.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatalf("commit: %v", err)
	}

	// Groups: ga yes, gb no; within ga, b.one's offsets no.
	commit := func(group, topic string) int16 {
		req := kmsg.NewPtrOffsetCommitRequest()
		req.Group, req.Generation = group, -1
		rt := kmsg.NewOffsetCommitRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewOffsetCommitRequestTopicPartition()
		rp.Offset = 1
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		return requestBroker(t, cl, req).(*kmsg.OffsetCommitResponse).Topics[0].Partitions[0].ErrorCode
	}
	wantCode(t, "commit ga a.one", commit("ga", "a.one"), nil)
	wantCode(t, "commit ga b.one", commit("ga", "b.one"), kerr.TopicAuthorizationFailed)
	wantCode(t, "commit gb a.one", commit("gb", "a.one"), kerr.GroupAuthorizationFailed)
	fc.CoordinatorType, fc.CoordinatorKeys = 0, []string{"ga", "gb"}
	coords := requestBroker(t, cl, fc).(*kmsg.FindCoordinatorResponse).Coordinators
	wantCode(t, "find ga's coordinator", coords[0].ErrorCode, nil)
	wantCode(t, "find gb's coordinator", coords[1].ErrorCode, kerr.GroupAuthorizationFailed)
	join := kmsg.NewPtrJoinGroupRequest()
	join.Group, join.ProtocolType, join.SessionTimeoutMillis, join.RebalanceTimeoutMillis = "gb", "consumer", 10000, 10000
	join.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: []byte{}}}
	wantCode(t, "join gb", requestBroker(t, cl, join).(*kmsg.JoinGroupResponse).ErrorCode, kerr.GroupAuthorizationFailed)

	// Fetch: a.one yes, b.one no. (v12: topics by name.)
	versions := kversion.Stable()
	versions.SetMaxKeyVersion(1, 12)
	fetchCl := userClient(t, b.Addr(), alice, alicePass, kgo.MaxVersions(versions))
	fetch := func(topic string) int16 {
		req := kmsg.NewPtrFetchRequest()
		req.MaxWaitMillis, req.MaxBytes, req.SessionEpoch = 0, 1<<20, -1
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.PartitionMaxBytes = 1 << 20
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		return requestBroker(t, fetchCl, req).(*kmsg.FetchResponse).Topics[0].Partitions[0].ErrorCode
	}
	wantCode(t, "fetch a.one", fetch("a.one"), nil)
	wantCode(t, "fetch b.one", fetch("b.one"), kerr.TopicAuthorizationFailed)
	follower := kmsg.NewPtrFetchRequest()
	follower.ReplicaID, follower.MaxBytes, follower.SessionEpoch = 1, 1<<20, -1
	follower.Topics = []kmsg.FetchRequestTopic{{Topic: "a.one", Partitions: []kmsg.FetchRequestTopicPartition{{PartitionMaxBytes: 1 << 20}}}}
	wantCode(t, "fetch a.one as a replica", requestBroker(t, fetchCl, follower).(*kmsg.FetchResponse).Topics[0].Partitions[0].ErrorCode, kerr.TopicAuthorizationFailed)

	// Deleting topics needs Delete: she has none.
	del, err := kadm.NewClient(cl).DeleteTopics(ctx, "a.one", "b.one")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a.one", "b.one"} {
		if !errorIs(del[name].Err, kerr.TopicAuthorizationFailed) {
			t.Fatalf("delete %s: %v, want TOPIC_AUTHORIZATION_FAILED", name, del[name].Err)
		}
	}
	// Nor may she manage ACLs.
	createdACLs, err := kadm.NewClient(cl).CreateACLs(ctx, kadm.NewACLs().Allow("User:alice").Topics("b.").
		ResourcePatternType(kadm.ACLPatternPrefixed).Operations(kadm.OpAll))
	if err != nil || len(createdACLs) != 1 || !errorIs(createdACLs[0].Err, kerr.ClusterAuthorizationFailed) {
		t.Fatalf("alice creates an ACL: %+v %v, want CLUSTER_AUTHORIZATION_FAILED", createdACLs, err)
	}
	describe := kmsg.NewPtrDescribeACLsRequest()
	describe.ResourceType, describe.ResourcePatternType = kmsg.ACLResourceTypeAny, kmsg.ACLResourcePatternTypeAny
	describe.Operation, describe.PermissionType = kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny
	wantCode(t, "alice describes ACLs", requestBroker(t, cl, describe).(*kmsg.DescribeACLsResponse).ErrorCode, kerr.ClusterAuthorizationFailed)

	// Metadata: all topics lists only what she may describe; a named
	// topic she may not gets TOPIC_AUTHORIZATION_FAILED, existing or not.
	md := kmsg.NewPtrMetadataRequest()
	all := requestBroker(t, cl, md).(*kmsg.MetadataResponse)
	var listed []string
	for _, mt := range all.Topics {
		listed = append(listed, *mt.Topic)
	}
	slices.Sort(listed)
	if want := []string{"a.denied", "a.new", "a.one"}; !slices.Equal(listed, want) {
		t.Fatalf("alice's metadata lists %v, want %v", listed, want)
	}
	for _, name := range []string{"b.one", "b.absent"} {
		md.Topics = []kmsg.MetadataRequestTopic{{Topic: kmsg.StringPtr(name)}}
		wantCode(t, "metadata "+name, requestBroker(t, cl, md).(*kmsg.MetadataResponse).Topics[0].ErrorCode, kerr.TopicAuthorizationFailed)
	}

	// Nothing denied changed anything.
	if got := endOffset(t, adm, "b.one"); got != 1 {
		t.Fatalf("b.one ends at %d, want 1: a denied produce appended", got)
	}
	if got := endOffset(t, adm, "a.denied"); got != 1 {
		t.Fatalf("a.denied ends at %d, want 1: a denied produce appended", got)
	}
	if got := endOffset(t, adm, "a.one"); got != 4 { // admin's, alice's, and the transaction's record and marker
		t.Fatalf("a.one ends at %d, want 4", got)
	}
	offs, err := adm.FetchOffsets(ctx, "gb")
	if err != nil || len(offs) != 0 {
		t.Fatalf("gb has offsets %v (%v): a denied commit was stored", offs, err)
	}
	offs, err = adm.FetchOffsets(ctx, "ga")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := offs.Lookup("b.one", 0); ok {
		t.Fatalf("ga has an offset of b.one: a denied commit was stored")
	}
	if o, ok := offs.Lookup("a.one", 0); !ok || o.At != 1 {
		t.Fatalf("ga's offset of a.one: %+v %v", o, ok)
	}
	txns, err := adm.DescribeTransactions(ctx, "tx-bob")
	if err != nil {
		t.Fatal(err)
	}
	if d := txns["tx-bob"]; !errorIs(d.Err, kerr.TransactionalIDNotFound) {
		t.Fatalf("tx-bob: %+v, want TRANSACTIONAL_ID_NOT_FOUND: a denied init created it", d)
	}
	topics, err := adm.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a.one", "a.denied", "b.one"} {
		if !topics.Has(name) {
			t.Fatalf("topic %s is gone after a denied delete", name)
		}
	}
	stored := requestBroker(t, admCl, describe).(*kmsg.DescribeACLsResponse)
	wantCode(t, "admin describes ACLs", stored.ErrorCode, nil)
	n := 0
	for _, r := range stored.Resources {
		if r.ResourceName == "b." {
			t.Fatalf("alice's denied CreateAcls stored %+v", r)
		}
		n += len(r.ACLs)
	}
	if n != 7 {
		t.Fatalf("%d ACLs stored, want the 7 admin created: %+v", n, stored.Resources)
	}
}

func errorIs(err error, want *kerr.Error) bool { return errors.Is(err, want) }

// A super user needs no ACL; everyone else is denied what no ACL covers,
// unless allow.everyone.if.no.acl.found, which still leaves a resource
// with any ACL to its ACLs.
func TestACLSuperUserAndNoACLFound(t *testing.T) {
	for _, allowIfNone := range []bool{false, true} {
		b := aclBroker(t, brokertest.WithConfig(func(c *broker.Config) { c.AllowIfNoACL = allowIfNone }))
		admCl := userClient(t, b.Addr(), plainUser, plainPass)
		adm := kadm.NewClient(admCl)
		createTopic(t, adm, "free", 1, nil)
		createTopic(t, adm, "guarded", 1, nil)
		wantCode(t, "super user produces", produceBatch(t, admCl, nil, "free"), nil)
		createACLs(t, adm, kadm.NewACLs().Allow("User:alice").Topics("guarded").Operations(kadm.OpWrite))

		bobCl := userClient(t, b.Addr(), bob, bobPass)
		var want *kerr.Error
		if !allowIfNone {
			want = kerr.TopicAuthorizationFailed
		}
		wantCode(t, "bob produces to a topic without ACLs", produceBatch(t, bobCl, nil, "free"), want)
		wantCode(t, "bob produces to a topic with another's ACL", produceBatch(t, bobCl, nil, "guarded"), kerr.TopicAuthorizationFailed)
		wantCode(t, "alice produces to guarded", produceBatch(t, userClient(t, b.Addr(), alice, alicePass), nil, "guarded"), nil)

		del, err := adm.DeleteTopics(testCtx(t, 10*time.Second), "free")
		if err != nil || del["free"].Err != nil {
			t.Fatalf("super user deletes a topic: %v %v", err, del["free"].Err)
		}
	}
}

// ACLs are in the catalog: after a restart they still decide, and
// DeleteAcls removes them durably.
func TestACLsSurviveRestart(t *testing.T) {
	b := aclBroker(t)
	adm := kadm.NewClient(userClient(t, b.Addr(), plainUser, plainPass))
	createTopic(t, adm, "kept", 1, nil)
	createACLs(t, adm, kadm.NewACLs().Allow("User:alice").Topics("kept").Operations(kadm.OpWrite))
	createACLs(t, adm, kadm.NewACLs().Allow("User:bob").AllowHosts().Topics("kept").Operations(kadm.OpWrite))
	dels, err := adm.DeleteACLs(testCtx(t, 10*time.Second), kadm.NewACLs().Allow("User:bob").AllowHosts().Topics("kept").Operations(kadm.OpWrite))
	if err != nil || len(dels) != 1 || dels[0].Err != nil || len(dels[0].Deleted) != 1 {
		t.Fatalf("delete bob's ACL: %+v %v", dels, err)
	}

	cfg := b.Cfg
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	cfg.Listen, cfg.Logger = "127.0.0.1:0", nil
	b2 := brokertest.StartConfig(t, cfg)
	wantCode(t, "alice after restart", produceBatch(t, userClient(t, b2.Addr(), alice, alicePass), nil, "kept"), nil)
	wantCode(t, "bob after restart", produceBatch(t, userClient(t, b2.Addr(), bob, bobPass), nil, "kept"), kerr.TopicAuthorizationFailed)
}

// Bindings that cannot be stored get INVALID_REQUEST, each on its own:
// the valid ones of the same request are stored.
func TestCreateACLsInvalid(t *testing.T) {
	b := aclBroker(t)
	cl := userClient(t, b.Addr(), plainUser, plainPass)
	good := kmsg.NewCreateACLsRequestCreation()
	good.ResourceType, good.ResourceName, good.ResourcePatternType = kmsg.ACLResourceTypeTopic, "t", kmsg.ACLResourcePatternTypeLiteral
	good.Principal, good.Host = "User:alice", "*"
	good.Operation, good.PermissionType = kmsg.ACLOperationRead, kmsg.ACLPermissionTypeAllow
	bad := func(change func(*kmsg.CreateACLsRequestCreation)) kmsg.CreateACLsRequestCreation {
		c := good
		change(&c)
		return c
	}
	req := kmsg.NewPtrCreateACLsRequest()
	req.Creations = []kmsg.CreateACLsRequestCreation{
		bad(func(c *kmsg.CreateACLsRequestCreation) { c.ResourcePatternType = kmsg.ACLResourcePatternTypeMatch }),
		bad(func(c *kmsg.CreateACLsRequestCreation) { c.ResourceType = kmsg.ACLResourceTypeAny }),
		bad(func(c *kmsg.CreateACLsRequestCreation) { c.Operation = kmsg.ACLOperationAny }),
		bad(func(c *kmsg.CreateACLsRequestCreation) { c.PermissionType = kmsg.ACLPermissionTypeAny }),
		bad(func(c *kmsg.CreateACLsRequestCreation) { c.Principal = "alice" }),
		bad(func(c *kmsg.CreateACLsRequestCreation) {
			c.ResourceType, c.ResourceName = kmsg.ACLResourceTypeCluster, "other"
		}),
		bad(func(c *kmsg.CreateACLsRequestCreation) { c.Operation = 99 }),
		good,
	}
	resp := requestBroker(t, cl, req).(*kmsg.CreateACLsResponse)
	if len(resp.Results) != len(req.Creations) {
		t.Fatalf("%d results for %d creations", len(resp.Results), len(req.Creations))
	}
	for i, r := range resp.Results[:len(resp.Results)-1] {
		wantCode(t, fmt.Sprintf("invalid creation %d", i), r.ErrorCode, kerr.InvalidRequest)
	}
	wantCode(t, "valid creation", resp.Results[len(resp.Results)-1].ErrorCode, nil)

	describe := kmsg.NewPtrDescribeACLsRequest()
	describe.ResourceType, describe.ResourcePatternType = kmsg.ACLResourceTypeAny, kmsg.ACLResourcePatternTypeMatch
	describe.ResourceName = kmsg.StringPtr("t")
	describe.Operation, describe.PermissionType = kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny
	got := requestBroker(t, cl, describe).(*kmsg.DescribeACLsResponse)
	if got.ErrorCode != 0 || len(got.Resources) != 1 || len(got.Resources[0].ACLs) != 1 || got.Resources[0].ACLs[0].Principal != "User:alice" {
		t.Fatalf("stored: %+v", got)
	}
	describe.ResourcePatternType = 9
	wantCode(t, "describe with an unknown pattern type", requestBroker(t, cl, describe).(*kmsg.DescribeACLsResponse).ErrorCode, kerr.InvalidRequest)
}

// An ACL's host is the client's address: one for 127.0.0.1 applies to
// this test's connections, one for another address does not.
func TestACLHost(t *testing.T) {
	b := aclBroker(t)
	adm := kadm.NewClient(userClient(t, b.Addr(), plainUser, plainPass))
	createTopic(t, adm, "here", 1, nil)
	createTopic(t, adm, "there", 1, nil)
	createACLs(t, adm, kadm.NewACLs().Allow("User:bob").AllowHosts("127.0.0.1").Topics("here").Operations(kadm.OpWrite))
	createACLs(t, adm, kadm.NewACLs().Allow("User:bob").AllowHosts("192.0.2.1").Topics("there").Operations(kadm.OpWrite))
	cl := userClient(t, b.Addr(), bob, bobPass)
	wantCode(t, "bob from 127.0.0.1", produceBatch(t, cl, nil, "here"), nil)
	wantCode(t, "bob not from 192.0.2.1", produceBatch(t, cl, nil, "there"), kerr.TopicAuthorizationFailed)
}

// The admin APIs: without cluster ACLs alice is refused the cluster's,
// and configs, records and groups need their own operations; nothing
// she was refused changed.
func TestACLAdminAPIs(t *testing.T) {
	b := aclBroker(t)
	admCl := userClient(t, b.Addr(), plainUser, plainPass)
	adm := kadm.NewClient(admCl)
	for _, topic := range []string{"a.one", "b.one"} {
		createTopic(t, adm, topic, 1, nil)
		wantCode(t, "admin produces to "+topic, produceBatch(t, admCl, nil, topic), nil)
		wantCode(t, "admin produces to "+topic, produceBatch(t, admCl, nil, topic), nil)
	}
	createACLs(t, adm, kadm.NewACLs().Allow("User:alice").Topics("a.one").Operations(kadm.OpRead, kadm.OpWrite))
	createACLs(t, adm, kadm.NewACLs().Allow("User:alice").Groups("ga").Operations(kadm.OpRead))
	for _, g := range []string{"ga", "gb"} {
		req := kmsg.NewPtrOffsetCommitRequest()
		req.Group, req.Generation = g, -1
		for _, topic := range []string{"a.one", "b.one"} {
			req.Topics = []kmsg.OffsetCommitRequestTopic{{Topic: topic, Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: 0, Offset: 1}}}}
			wantCode(t, "admin commits for "+g, requestBroker(t, admCl, req).(*kmsg.OffsetCommitResponse).Topics[0].Partitions[0].ErrorCode, nil)
		}
	}
	cl := userClient(t, b.Addr(), alice, alicePass)

	dc := kmsg.NewPtrDescribeClusterRequest()
	wantCode(t, "describe cluster", requestBroker(t, cl, dc).(*kmsg.DescribeClusterResponse).ErrorCode, kerr.ClusterAuthorizationFailed)
	scram := kmsg.NewPtrAlterUserSCRAMCredentialsRequest()
	scram.Deletions = []kmsg.AlterUserSCRAMCredentialsRequestDeletion{{Name: "alice", Mechanism: 1}}
	wantCode(t, "alter SCRAM credentials", requestBroker(t, cl, scram).(*kmsg.AlterUserSCRAMCredentialsResponse).Results[0].ErrorCode, kerr.ClusterAuthorizationFailed)

	// Configs: Read and Write do not give DescribeConfigs or AlterConfigs.
	dcfg := kmsg.NewPtrDescribeConfigsRequest()
	dcfg.Resources = []kmsg.DescribeConfigsRequestResource{{ResourceType: kmsg.ConfigResourceTypeTopic, ResourceName: "a.one"},
		{ResourceType: kmsg.ConfigResourceTypeBroker, ResourceName: ""}}
	got := requestBroker(t, cl, dcfg).(*kmsg.DescribeConfigsResponse)
	wantCode(t, "describe a.one's configs", got.Resources[0].ErrorCode, kerr.TopicAuthorizationFailed)
	wantCode(t, "describe the broker's configs", got.Resources[1].ErrorCode, kerr.ClusterAuthorizationFailed)
	alter := kmsg.NewPtrIncrementalAlterConfigsRequest()
	alter.Resources = []kmsg.IncrementalAlterConfigsRequestResource{{ResourceType: kmsg.ConfigResourceTypeTopic, ResourceName: "a.one",
		Configs: []kmsg.IncrementalAlterConfigsRequestResourceConfig{{Name: "retention.ms", Value: kmsg.StringPtr("1000")}}}}
	wantCode(t, "alter a.one's configs", requestBroker(t, cl, alter).(*kmsg.IncrementalAlterConfigsResponse).Resources[0].ErrorCode, kerr.TopicAuthorizationFailed)
	cfgs, err := adm.DescribeTopicConfigs(testCtx(t, 10*time.Second), "a.one")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cfgs[0].Configs {
		if c.Key == "retention.ms" && c.Source != kmsg.ConfigSourceDefaultConfig && c.Source != kmsg.ConfigSourceStaticBrokerConfig {
			t.Fatalf("a denied alter set retention.ms: %+v", c)
		}
	}

	// DeleteRecords needs Delete: the log start stays.
	dr := kmsg.NewPtrDeleteRecordsRequest()
	dr.TimeoutMillis = 5000
	dr.Topics = []kmsg.DeleteRecordsRequestTopic{{Topic: "a.one", Partitions: []kmsg.DeleteRecordsRequestTopicPartition{{Partition: 0, Offset: 1}}}}
	wantCode(t, "delete records of a.one", requestBroker(t, cl, dr).(*kmsg.DeleteRecordsResponse).Topics[0].Partitions[0].ErrorCode, kerr.TopicAuthorizationFailed)
	starts, err := adm.ListStartOffsets(testCtx(t, 10*time.Second), "a.one")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := starts.Lookup("a.one", 0); o.Offset != 0 {
		t.Fatalf("a.one starts at %d after a denied DeleteRecords", o.Offset)
	}

	// Groups: ListGroups shows only ga; gb is neither described nor
	// deleted.
	lg := requestBroker(t, cl, kmsg.NewPtrListGroupsRequest()).(*kmsg.ListGroupsResponse)
	if len(lg.Groups) != 1 || lg.Groups[0].Group != "ga" {
		t.Fatalf("alice lists groups %+v, want only ga", lg.Groups)
	}
	dg := kmsg.NewPtrDescribeGroupsRequest()
	dg.Groups = []string{"ga", "gb"}
	described := requestBroker(t, cl, dg).(*kmsg.DescribeGroupsResponse)
	wantCode(t, "describe ga", described.Groups[0].ErrorCode, nil)
	wantCode(t, "describe gb", described.Groups[1].ErrorCode, kerr.GroupAuthorizationFailed)
	del := kmsg.NewPtrDeleteGroupsRequest()
	del.Groups = []string{"gb"}
	wantCode(t, "delete gb", requestBroker(t, cl, del).(*kmsg.DeleteGroupsResponse).Groups[0].ErrorCode, kerr.GroupAuthorizationFailed)
	if offs, err := adm.FetchOffsets(testCtx(t, 10*time.Second), "gb"); err != nil || len(offs) != 2 {
		t.Fatalf("gb's offsets after a denied delete: %v %v", offs, err)
	}
	// OffsetFetch of ga for all topics leaves out b.one's, which she may
	// not describe.
	of := kmsg.NewPtrOffsetFetchRequest()
	of.Groups = []kmsg.OffsetFetchRequestGroup{{Group: "ga"}}
	fetched := requestBroker(t, cl, of).(*kmsg.OffsetFetchResponse)
	if len(fetched.Groups) != 1 || fetched.Groups[0].ErrorCode != 0 || len(fetched.Groups[0].Topics) != 1 || fetched.Groups[0].Topics[0].Topic != "a.one" {
		t.Fatalf("alice fetches ga's offsets: %+v", fetched)
	}
}

// Authorized operations (KIP-430): asked for, Metadata, DescribeCluster
// and DescribeGroups carry the bitfield of what the principal may do;
// not asked for, INT32_MIN. A super user gets every operation of the
// type.
func TestAuthorizedOperations(t *testing.T) {
	b := aclBroker(t)
	admCl := userClient(t, b.Addr(), plainUser, plainPass)
	adm := kadm.NewClient(admCl)
	createTopic(t, adm, "ops", 1, nil)
	createACLs(t, adm, kadm.NewACLs().Allow("User:alice").Topics("ops").Operations(kadm.OpRead))
	createACLs(t, adm, kadm.NewACLs().Allow("User:alice").Topics("ops").Operations(kadm.OpAlterConfigs))
	createACLs(t, adm, kadm.NewACLs().Allow("User:alice").Groups("g-ops").Operations(kadm.OpDescribe))
	createACLs(t, adm, kadm.NewACLs().Allow("User:alice").Clusters().Operations(kadm.OpIdempotentWrite))
	aliceCl := userClient(t, b.Addr(), alice, alicePass)

	bits := func(ops ...kmsg.ACLOperation) int32 {
		var b int32
		for _, op := range ops {
			b |= 1 << op
		}
		return b
	}
	const notAsked = -2147483648
	topicOps := bits(kmsg.ACLOperationRead, kmsg.ACLOperationWrite, kmsg.ACLOperationCreate, kmsg.ACLOperationDescribe,
		kmsg.ACLOperationDelete, kmsg.ACLOperationAlter, kmsg.ACLOperationDescribeConfigs, kmsg.ACLOperationAlterConfigs)
	clusterOps := bits(kmsg.ACLOperationCreate, kmsg.ACLOperationClusterAction, kmsg.ACLOperationDescribeConfigs,
		kmsg.ACLOperationAlterConfigs, kmsg.ACLOperationIdempotentWrite, kmsg.ACLOperationAlter, kmsg.ACLOperationDescribe)

	// kgo sends each request at the highest version both sides speak: a
	// client capped at Kafka 2.7's versions asks Metadata v9, which has
	// the cluster's operations (v8-v10).
	metadata := func(cl *kgo.Client, ask bool) *kmsg.MetadataResponse {
		t.Helper()
		req := kmsg.NewPtrMetadataRequest()
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr("ops")
		req.Topics = append(req.Topics, rt)
		req.IncludeTopicAuthorizedOperations, req.IncludeClusterAuthorizedOperations = ask, ask
		resp := requestBroker(t, cl, req).(*kmsg.MetadataResponse)
		if len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != 0 {
			t.Fatalf("metadata of ops: %+v", resp.Topics)
		}
		return resp
	}
	for _, c := range []struct {
		who              string
		cl, v9           *kgo.Client
		topic, cluster   int32
		group            int32
		describeCluster  int32
		describeClusterE *kerr.Error
	}{
		// Read implies Describe, AlterConfigs implies DescribeConfigs;
		// IdempotentWrite implies nothing else on the cluster.
		{"alice", aliceCl, userClient(t, b.Addr(), alice, alicePass, kgo.MaxVersions(kversion.V2_7_0())), bits(kmsg.ACLOperationRead, kmsg.ACLOperationDescribe, kmsg.ACLOperationAlterConfigs, kmsg.ACLOperationDescribeConfigs),
			bits(kmsg.ACLOperationIdempotentWrite), bits(kmsg.ACLOperationDescribe), 0, kerr.ClusterAuthorizationFailed},
		{"super user", admCl, userClient(t, b.Addr(), plainUser, plainPass, kgo.MaxVersions(kversion.V2_7_0())), topicOps, clusterOps, bits(kmsg.ACLOperationRead, kmsg.ACLOperationDescribe, kmsg.ACLOperationDelete), clusterOps, nil},
	} {
		resp := metadata(c.v9, true)
		if got := resp.Topics[0].AuthorizedOperations; resp.Version != 9 || got != c.topic {
			t.Errorf("%s: topic operations (Metadata v%d) %b, want %b at v9", c.who, resp.Version, got, c.topic)
		}
		if got := resp.AuthorizedOperations; got != c.cluster {
			t.Errorf("%s: cluster operations (Metadata v9) %b, want %b", c.who, got, c.cluster)
		}
		resp = metadata(c.v9, false)
		if resp.Topics[0].AuthorizedOperations != notAsked || resp.AuthorizedOperations != notAsked {
			t.Errorf("%s: not asked, got topic %d cluster %d, want INT32_MIN", c.who, resp.Topics[0].AuthorizedOperations, resp.AuthorizedOperations)
		}
		if resp := metadata(c.cl, true); resp.Version != 12 || resp.Topics[0].AuthorizedOperations != c.topic {
			t.Errorf("%s: topic operations (Metadata v%d) %b, want %b at v12", c.who, resp.Version, resp.Topics[0].AuthorizedOperations, c.topic)
		}

		dg := kmsg.NewPtrDescribeGroupsRequest()
		dg.Groups, dg.IncludeAuthorizedOperations = []string{"g-ops"}, true
		dgResp := requestBroker(t, c.cl, dg).(*kmsg.DescribeGroupsResponse)
		if g := dgResp.Groups[0]; g.ErrorCode != 0 || g.AuthorizedOperations != c.group {
			t.Errorf("%s: DescribeGroups code %d operations %b, want %b", c.who, g.ErrorCode, g.AuthorizedOperations, c.group)
		}
		dg.IncludeAuthorizedOperations = false
		if g := requestBroker(t, c.cl, dg).(*kmsg.DescribeGroupsResponse).Groups[0]; g.AuthorizedOperations != notAsked {
			t.Errorf("%s: DescribeGroups not asked, operations %d, want INT32_MIN", c.who, g.AuthorizedOperations)
		}
		dc := kmsg.NewPtrDescribeClusterRequest()
		dc.IncludeClusterAuthorizedOperations = true
		dcResp := requestBroker(t, c.cl, dc).(*kmsg.DescribeClusterResponse)
		if c.describeClusterE != nil {
			wantCode(t, c.who+": DescribeCluster", dcResp.ErrorCode, c.describeClusterE)
		} else if dcResp.ErrorCode != 0 || dcResp.ClusterAuthorizedOperations != c.describeCluster {
			t.Errorf("%s: DescribeCluster code %d operations %b, want %b", c.who, dcResp.ErrorCode, dcResp.ClusterAuthorizedOperations, c.describeCluster)
		}
	}
}
