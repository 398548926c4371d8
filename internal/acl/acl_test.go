package acl

import "testing"

func allow(rt ResourceType, name string, pt PatternType, principal string, op Operation) Binding {
	return Binding{ResourceType: rt, ResourceName: name, PatternType: pt, Principal: principal, Host: "*", Operation: op, Permission: PermAllow}
}

func deny(b Binding) Binding { b.Permission = PermDeny; return b }

func TestAuthorize(t *testing.T) {
	const alice, bob = "User:alice", "User:bob"
	bindings := []Binding{
		allow(ResourceTopic, "a.", PatternPrefixed, alice, OpWrite),
		allow(ResourceTopic, "a.", PatternPrefixed, alice, OpRead),
		deny(allow(ResourceTopic, "a.secret", PatternLiteral, alice, OpRead)),
		allow(ResourceGroup, "ga", PatternLiteral, alice, OpRead),
		allow(ResourceTopic, "pub", PatternLiteral, WildcardPrincipal, OpDescribe),
		allow(ResourceTopic, "*", PatternLiteral, bob, OpAll),
		{ResourceType: ResourceTopic, ResourceName: "hosted", PatternType: PatternLiteral, Principal: alice, Host: "10.0.0.1", Operation: OpWrite, Permission: PermAllow},
		allow(ResourceTopic, "cfg", PatternLiteral, alice, OpAlterConfigs),
		deny(allow(ResourceTopic, "b.", PatternPrefixed, bob, OpAll)),
		allow(ResourceTransactionalID, "tx-a", PatternLiteral, alice, OpWrite),
		allow(ResourceTopic, "dd", PatternLiteral, alice, OpRead),
		deny(allow(ResourceTopic, "dd", PatternLiteral, alice, OpDescribe)),
	}
	for _, tc := range []struct {
		name      string
		cfg       Config
		principal string
		host      string
		op        Operation
		rt        ResourceType
		res       string
		want      bool
	}{
		{"prefixed write", Config{}, alice, "h", OpWrite, ResourceTopic, "a.x", true},
		{"prefix does not match", Config{}, alice, "h", OpWrite, ResourceTopic, "b.x", false},
		{"read implies describe", Config{}, alice, "h", OpDescribe, ResourceTopic, "a.x", true},
		{"write does not imply read on another op", Config{}, alice, "h", OpDelete, ResourceTopic, "a.x", false},
		{"deny overrides allow", Config{}, alice, "h", OpRead, ResourceTopic, "a.secret", false},
		{"deny of read leaves describe", Config{}, alice, "h", OpDescribe, ResourceTopic, "a.secret", true},
		{"deny of describe wins over read's implication", Config{}, alice, "h", OpDescribe, ResourceTopic, "dd", false},
		{"group literal", Config{}, alice, "h", OpRead, ResourceGroup, "ga", true},
		{"other group", Config{}, alice, "h", OpRead, ResourceGroup, "gb", false},
		{"wildcard principal", Config{}, "User:carol", "h", OpDescribe, ResourceTopic, "pub", true},
		{"wildcard resource all", Config{}, bob, "h", OpDelete, ResourceTopic, "anything", true},
		{"deny all on prefix beats wildcard allow", Config{}, bob, "h", OpDescribe, ResourceTopic, "b.1", false},
		{"host matches", Config{}, alice, "10.0.0.1", OpWrite, ResourceTopic, "hosted", true},
		{"host differs", Config{}, alice, "10.0.0.2", OpWrite, ResourceTopic, "hosted", false},
		{"alter configs implies describe configs", Config{}, alice, "h", OpDescribeConfigs, ResourceTopic, "cfg", true},
		{"alter configs does not imply describe", Config{}, alice, "h", OpDescribe, ResourceTopic, "cfg", false},
		{"resource type matters", Config{}, alice, "h", OpWrite, ResourceTransactionalID, "a.x", false},
		{"txn id", Config{}, alice, "h", OpWrite, ResourceTransactionalID, "tx-a", true},
		{"no acl: denied by default", Config{}, alice, "h", OpRead, ResourceGroup, "free", false},
		{"no acl: allowed when asked", Config{AllowIfNoACL: true}, alice, "h", OpRead, ResourceGroup, "free", true},
		{"covered resource ignores allow-if-no-acl", Config{AllowIfNoACL: true}, "User:carol", "h", OpRead, ResourceGroup, "ga", false},
		{"wildcard covers every topic", Config{AllowIfNoACL: true}, "User:carol", "h", OpRead, ResourceTopic, "zzz", false},
		{"super user", Config{SuperUsers: []string{"User:root"}}, "User:root", "h", OpDelete, ResourceCluster, ClusterName, true},
		{"super user is exact", Config{SuperUsers: []string{"User:root"}}, "User:root2", "h", OpDelete, ResourceCluster, ClusterName, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Enabled = true
			a := New(tc.cfg)
			a.Set(bindings)
			if got := a.Authorize(tc.principal, tc.host, tc.op, tc.rt, tc.res); got != tc.want {
				t.Fatalf("Authorize(%s@%s, %d, %d %q) = %v, want %v", tc.principal, tc.host, tc.op, tc.rt, tc.res, got, tc.want)
			}
		})
	}
}

func TestAuthorizeDisabled(t *testing.T) {
	a := New(Config{})
	a.Set([]Binding{deny(allow(ResourceTopic, "*", PatternLiteral, WildcardPrincipal, OpAll))})
	if !a.Authorize("User:x", "h", OpWrite, ResourceTopic, "t") {
		t.Fatal("a disabled authorizer denied")
	}
	var none *Authorizer
	if !none.Authorize("User:x", "h", OpWrite, ResourceTopic, "t") {
		t.Fatal("a nil authorizer denied")
	}
}

func TestFilterMatches(t *testing.T) {
	b := allow(ResourceTopic, "a.", PatternPrefixed, "User:alice", OpRead)
	lit := allow(ResourceTopic, "a.x", PatternLiteral, "User:alice", OpRead)
	wild := allow(ResourceTopic, "*", PatternLiteral, "User:bob", OpWrite)
	s := func(v string) *string { return &v }
	any := Filter{ResourceType: ResourceAny, PatternType: PatternAny, Operation: OpAny, Permission: PermAny}
	for _, tc := range []struct {
		name string
		f    Filter
		b    Binding
		want bool
	}{
		{"any matches all", any, b, true},
		{"literal filter skips prefixed", Filter{ResourceType: ResourceTopic, ResourceName: s("a."), PatternType: PatternLiteral, Operation: OpAny, Permission: PermAny}, b, false},
		{"prefixed filter by name", Filter{ResourceType: ResourceTopic, ResourceName: s("a."), PatternType: PatternPrefixed, Operation: OpAny, Permission: PermAny}, b, true},
		{"any pattern compares names exactly", Filter{ResourceType: ResourceTopic, ResourceName: s("a.x"), PatternType: PatternAny, Operation: OpAny, Permission: PermAny}, b, false},
		{"match finds prefixed", Filter{ResourceType: ResourceTopic, ResourceName: s("a.x"), PatternType: PatternMatch, Operation: OpAny, Permission: PermAny}, b, true},
		{"match finds literal", Filter{ResourceType: ResourceTopic, ResourceName: s("a.x"), PatternType: PatternMatch, Operation: OpAny, Permission: PermAny}, lit, true},
		{"match finds wildcard", Filter{ResourceType: ResourceTopic, ResourceName: s("a.x"), PatternType: PatternMatch, Operation: OpAny, Permission: PermAny}, wild, true},
		{"principal", Filter{ResourceType: ResourceAny, PatternType: PatternAny, Principal: s("User:bob"), Operation: OpAny, Permission: PermAny}, b, false},
		{"operation", Filter{ResourceType: ResourceAny, PatternType: PatternAny, Operation: OpWrite, Permission: PermAny}, b, false},
		{"permission", Filter{ResourceType: ResourceAny, PatternType: PatternAny, Operation: OpAny, Permission: PermDeny}, b, false},
		{"type", Filter{ResourceType: ResourceGroup, PatternType: PatternAny, Operation: OpAny, Permission: PermAny}, b, false},
	} {
		if got := tc.f.Matches(tc.b); got != tc.want {
			t.Errorf("%s: Matches = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestValidate(t *testing.T) {
	good := allow(ResourceTopic, "t", PatternLiteral, "User:a", OpRead)
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*Binding){
		"any resource":   func(b *Binding) { b.ResourceType = ResourceAny },
		"match pattern":  func(b *Binding) { b.PatternType = PatternMatch },
		"any operation":  func(b *Binding) { b.Operation = OpAny },
		"any permission": func(b *Binding) { b.Permission = PermAny },
		"bad principal":  func(b *Binding) { b.Principal = "alice" },
		"empty name":     func(b *Binding) { b.ResourceName = "" },
		"empty host":     func(b *Binding) { b.Host = "" },
		"cluster name":   func(b *Binding) { b.ResourceType = ResourceCluster; b.ResourceName = "c" },
	} {
		b := good
		mut(&b)
		if b.Validate() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestAuthorizeAny(t *testing.T) {
	const alice = "User:alice"
	for _, tc := range []struct {
		name     string
		cfg      Config
		bindings []Binding
		want     bool
	}{
		{"no bindings", Config{}, nil, false},
		{"no bindings, allowed if none", Config{AllowIfNoACL: true}, nil, true},
		{"a literal allow", Config{}, []Binding{allow(ResourceTopic, "t", PatternLiteral, alice, OpWrite)}, true},
		{"a prefixed allow", Config{}, []Binding{allow(ResourceTopic, "a.", PatternPrefixed, alice, OpWrite)}, true},
		{"all allows write", Config{}, []Binding{allow(ResourceTopic, "t", PatternLiteral, alice, OpAll)}, true},
		{"read is not write", Config{}, []Binding{allow(ResourceTopic, "t", PatternLiteral, alice, OpRead)}, false},
		{"another's allow", Config{}, []Binding{allow(ResourceTopic, "t", PatternLiteral, "User:bob", OpWrite)}, false},
		{"another type", Config{}, []Binding{allow(ResourceGroup, "t", PatternLiteral, alice, OpWrite)}, false},
		{"wildcard deny", Config{}, []Binding{
			allow(ResourceTopic, "t", PatternLiteral, alice, OpWrite),
			deny(allow(ResourceTopic, "*", PatternLiteral, WildcardPrincipal, OpWrite)),
		}, false},
		{"the same literal denied", Config{}, []Binding{
			allow(ResourceTopic, "t", PatternLiteral, alice, OpWrite),
			deny(allow(ResourceTopic, "t", PatternLiteral, alice, OpWrite)),
		}, false},
		{"a prefix denied", Config{}, []Binding{
			allow(ResourceTopic, "a.b", PatternPrefixed, alice, OpWrite),
			deny(allow(ResourceTopic, "a.", PatternPrefixed, alice, OpAll)),
		}, false},
		{"one allow of two shadowed", Config{}, []Binding{
			allow(ResourceTopic, "a.b", PatternPrefixed, alice, OpWrite),
			allow(ResourceTopic, "c", PatternLiteral, alice, OpWrite),
			deny(allow(ResourceTopic, "a.", PatternPrefixed, alice, OpWrite)),
		}, true},
		{"super user", Config{SuperUsers: []string{alice}}, nil, true},
	} {
		tc.cfg.Enabled = true
		a := New(tc.cfg)
		a.Set(tc.bindings)
		if got := a.AuthorizeAny(alice, "h", OpWrite, ResourceTopic); got != tc.want {
			t.Errorf("%s: AuthorizeAny = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// Operations sets bit n for the operation of code n, over the type's own
// operations only.
func TestOperationsBitfield(t *testing.T) {
	all := func(Operation) bool { return true }
	if got, want := Operations(ResourceGroup, all), int32(1<<OpRead|1<<OpDescribe|1<<OpDelete); got != want {
		t.Fatalf("group: %b, want %b", got, want)
	}
	if got, want := Operations(ResourceTransactionalID, all), int32(1<<OpDescribe|1<<OpWrite); got != want {
		t.Fatalf("transactional id: %b, want %b", got, want)
	}
	if got := Operations(ResourceTopic, func(op Operation) bool { return op == OpWrite }); got != 1<<OpWrite {
		t.Fatalf("topic, write only: %b", got)
	}
	if got := Operations(ResourceTopic, func(Operation) bool { return false }); got != 0 {
		t.Fatalf("nothing allowed: %b", got)
	}
}
