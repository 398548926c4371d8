package quota

import (
	"errors"
	"testing"
	"time"
)

func str(s string) *string { return &s }

func TestEntityOf(t *testing.T) {
	for _, tc := range []struct {
		cs   []Component
		want string // error text, or "" for valid
	}{
		{[]Component{{TypeUser, str("alice")}, {TypeClientID, nil}}, ""},
		{[]Component{{TypeIP, nil}}, ""},
		{[]Component{{TypeIP, str("10.0.0.1")}}, ""},
		{nil, "Invalid empty client quota entity"},
		{[]Component{{"group", str("g")}}, "Unhandled client quota entity type: group"},
		{[]Component{{TypeUser, str("a")}, {TypeUser, str("b")}}, "Invalid client quota entity, duplicate entity entry user"},
		{[]Component{{TypeClientID, str("")}}, "Empty client-id not supported"},
		{[]Component{{TypeIP, nil}, {TypeUser, nil}}, "Invalid quota entity combination, IP entity should not be combined with User or ClientId"},
		{[]Component{{TypeIP, str("not-an-ip")}}, "not-an-ip is not a valid IP or resolvable host."},
	} {
		_, err := EntityOf(tc.cs)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: %v", tc.cs, err)
		case tc.want != "" && (err == nil || err.Error() != tc.want || !errors.Is(err, ErrInvalid)):
			t.Errorf("%v: error %v, want %q (ErrInvalid)", tc.cs, err, tc.want)
		}
	}
}

func TestValidateValue(t *testing.T) {
	user := Entity{User: Named("u")}
	ip := Entity{IP: Default}
	for _, tc := range []struct {
		e    Entity
		key  string
		v    float64
		want string
	}{
		{user, ProducerByteRate, 1024, ""},
		{user, RequestPercentage, 12.5, ""},
		{user, ControllerMutationRate, 0.5, ""},
		{ip, ConnectionCreationRate, 10, ""},
		{user, "unknown", 1, "Invalid configuration key unknown"},
		{user, ConnectionCreationRate, 1, "Invalid configuration key connection_creation_rate"},
		{ip, ProducerByteRate, 1, "Invalid configuration key producer_byte_rate"},
		{user, ProducerByteRate, 0, "Quota producer_byte_rate must be greater than 0"},
		{user, ConsumerByteRate, -5, "Quota consumer_byte_rate must be greater than 0"},
		{user, ProducerByteRate, 1.5, "producer_byte_rate cannot be a fractional value."},
		{user, ProducerByteRate, 1e19, "Proposed value for producer_byte_rate is too large for a LONG."},
		{ip, ConnectionCreationRate, 1 << 31, "Proposed value for connection_creation_rate is too large for an INT."},
	} {
		err := ValidateValue(tc.e, tc.key, tc.v)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s=%g: %v", tc.key, tc.v, err)
		case tc.want != "" && (err == nil || err.Error() != tc.want):
			t.Errorf("%s=%g: error %v, want %q", tc.key, tc.v, err, tc.want)
		}
	}
}

func TestFilter(t *testing.T) {
	a := Entity{User: Named("a")}
	aDef := Entity{User: Named("a"), ClientID: Default}
	aC := Entity{User: Named("a"), ClientID: Named("c")}
	def := Entity{User: Default}
	c := Entity{ClientID: Named("c")}
	all := []Entity{a, aDef, aC, def, c}
	for _, tc := range []struct {
		name   string
		cs     []FilterComponent
		strict bool
		want   []Entity
	}{
		{"everything", nil, false, all},
		{"strict nothing", nil, true, nil},
		{"user a", []FilterComponent{{TypeUser, MatchExact, str("a")}}, false, []Entity{a, aDef, aC}},
		{"user a strict", []FilterComponent{{TypeUser, MatchExact, str("a")}}, true, []Entity{a}},
		{"default user", []FilterComponent{{TypeUser, MatchDefault, nil}}, false, []Entity{def}},
		{"any user strict", []FilterComponent{{TypeUser, MatchSpecified, nil}}, true, []Entity{a, def}},
		{"any client", []FilterComponent{{TypeClientID, MatchSpecified, nil}}, false, []Entity{aDef, aC, c}},
		{"a with default client", []FilterComponent{{TypeUser, MatchExact, str("a")}, {TypeClientID, MatchDefault, nil}}, true, []Entity{aDef}},
	} {
		f, err := NewFilter(tc.cs, tc.strict)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var got []Entity
		for _, e := range all {
			if f.Matches(e) {
				got = append(got, e)
			}
		}
		if len(got) != len(tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
			}
		}
	}
	for _, tc := range []struct {
		cs   []FilterComponent
		kind error
		msg  string
	}{
		{[]FilterComponent{{"", MatchSpecified, nil}}, ErrInvalid, "Invalid empty entity type."},
		{[]FilterComponent{{"topic", MatchSpecified, nil}}, ErrUnsupported, "Unsupported entity type topic"},
		{[]FilterComponent{{TypeUser, MatchSpecified, nil}, {TypeUser, MatchDefault, nil}}, ErrInvalid, "Entity type user cannot appear more than once in the filter."},
		{[]FilterComponent{{TypeUser, MatchExact, nil}}, ErrInvalid, "Request specified MATCH_TYPE_EXACT, but set match string to null."},
		{[]FilterComponent{{TypeUser, MatchDefault, str("x")}}, ErrInvalid, "Request specified MATCH_TYPE_DEFAULT, but also specified a match string."},
		{[]FilterComponent{{TypeUser, MatchSpecified, str("x")}}, ErrInvalid, "Request specified MATCH_TYPE_SPECIFIED, but also specified a match string."},
		{[]FilterComponent{{TypeUser, 7, nil}}, ErrUnsupported, "Unknown match type 7"},
		{[]FilterComponent{{TypeIP, MatchSpecified, nil}, {TypeUser, MatchSpecified, nil}}, ErrInvalid, "Invalid entity filter component combination. IP filter component should not be used with user or clientId filter component."},
	} {
		_, err := NewFilter(tc.cs, false)
		if err == nil || !errors.Is(err, tc.kind) || err.Error() != tc.msg {
			t.Errorf("%v: error %v, want %v %q", tc.cs, err, tc.kind, tc.msg)
		}
	}
}

// The most specific entity that sets a key wins (KIP-55), key by key,
// and the usage is shared by the clients the winning entity covers.
func TestPrecedence(t *testing.T) {
	q := map[Entity]map[string]float64{
		{ClientID: Default}:                      {ProducerByteRate: 8},
		{ClientID: Named("c")}:                   {ProducerByteRate: 7},
		{User: Default}:                          {ProducerByteRate: 6},
		{User: Default, ClientID: Default}:       {ProducerByteRate: 5},
		{User: Default, ClientID: Named("c")}:    {ProducerByteRate: 4},
		{User: Named("u")}:                       {ProducerByteRate: 3, ConsumerByteRate: 30},
		{User: Named("u"), ClientID: Default}:    {ProducerByteRate: 2},
		{User: Named("u"), ClientID: Named("c")}: {ProducerByteRate: 1},
	}
	order := Precedence("u", "c")
	for i := range order {
		r := lookup(q, ProducerByteRate, "u", "c")
		if r.quota != float64(i+1) {
			t.Fatalf("with %d entities removed: quota %g, want %d", i, r.quota, i+1)
		}
		delete(q, order[i])
	}
	q = map[Entity]map[string]float64{
		{User: Named("u")}:                       {ConsumerByteRate: 30},
		{User: Named("u"), ClientID: Named("c")}: {ProducerByteRate: 1},
		{ClientID: Default}:                      {RequestPercentage: 50},
	}
	if r := lookup(q, ConsumerByteRate, "u", "c"); r.quota != 30 || r.key != (bucketKey{user: "u", byUser: true}) {
		t.Fatalf("consumer quota %+v: want 30 shared by the user's clients", r)
	}
	if r := lookup(q, RequestPercentage, "u", "c"); r.quota != 50 || r.key != (bucketKey{id: "c", byClient: true}) {
		t.Fatalf("request quota %+v: want 50 for the client id", r)
	}
	if r := lookup(q, ProducerByteRate, "v", "c"); r.ok {
		t.Fatalf("another user got %+v", r)
	}
}

func TestLimiterThrottle(t *testing.T) {
	l := New(Config{Windows: 2, WindowSize: time.Second})
	if l.Active() {
		t.Fatal("active without quotas")
	}
	l.Set(map[Entity]map[string]float64{
		{ClientID: Named("slow")}: {ProducerByteRate: 1000, ControllerMutationRate: 5},
		{User: Default}:           {RequestPercentage: 10},
	})
	if !l.Active() {
		t.Fatal("not active")
	}
	now := time.Unix(1000, 0)
	// The burst: two windows' worth of the quota pass unthrottled.
	if d := l.Record(Produce, "u", "slow", 2000, now); d != 0 {
		t.Fatalf("burst throttled %v", d)
	}
	// 500 bytes over: half a second at 1000 bytes/s.
	if d := l.Record(Produce, "u", "slow", 500, now); d != 500*time.Millisecond {
		t.Fatalf("throttle %v, want 500ms", d)
	}
	// After the throttle the bucket is at zero: 250 more is 250ms.
	now = now.Add(500 * time.Millisecond)
	if d := l.Record(Produce, "u", "slow", 250, now); d != 250*time.Millisecond {
		t.Fatalf("throttle %v, want 250ms", d)
	}
	// Another client id, and the fetch kind, have no produce quota.
	if d := l.Record(Produce, "u", "fast", 1e9, now); d != 0 {
		t.Fatalf("unquoted client throttled %v", d)
	}
	// Request time is capped at one window.
	if d := l.Record(Request, "u", "x", RequestTime(10*time.Second), now); d != time.Second {
		t.Fatalf("request throttle %v, want the 1s cap", d)
	}
	// The debt kept is at most the burst (2 s at 10%): once the windows
	// have passed, the client starts afresh, as with Kafka's rate.
	if d := l.Record(Request, "u", "x", 0.1, now.Add(4*time.Second)); d != 0 {
		t.Fatalf("request throttle %v four seconds later, want none", d)
	}
	// Removing the quotas stops throttling.
	l.Set(nil)
	if l.Active() || l.Record(Produce, "u", "slow", 1e9, now) != 0 {
		t.Fatal("throttled after removal")
	}
}

// A throttled fetch is not counted: after waiting the throttle it fits.
func TestLimiterTryRecord(t *testing.T) {
	l := New(Config{Windows: 1, WindowSize: time.Second})
	l.Set(map[Entity]map[string]float64{{User: Named("u")}: {ConsumerByteRate: 100}})
	now := time.Unix(0, 0)
	if b, ok := l.Burst(Fetch, "u", "any"); !ok || b != 100 {
		t.Fatalf("burst %g %v", b, ok)
	}
	try := func(amount float64, wantD time.Duration, wantTaken bool) {
		t.Helper()
		if d, taken := l.TryRecord(Fetch, "u", "a", amount, now); d != wantD || taken != wantTaken {
			t.Fatalf("fetch of %g: throttle %v taken %v, want %v %v", amount, d, taken, wantD, wantTaken)
		}
	}
	try(80, 0, true)
	// 20 left; 60 needs 40 more: 400ms, and nothing is taken.
	try(60, 400*time.Millisecond, false)
	now = now.Add(400 * time.Millisecond)
	try(60, 0, true)
	// A full bucket takes more than the burst, and throttles for the excess.
	now = now.Add(time.Hour)
	try(300, 2*time.Second, true)
	// The debt kept is the burst, not the whole excess.
	try(1, 1010*time.Millisecond, false)
}

// The measured rate of a greedy client converges to its quota.
func TestLimiterLongRunRate(t *testing.T) {
	l := New(Config{})
	const q = 1 << 20
	l.Set(map[Entity]map[string]float64{{ClientID: Default}: {ProducerByteRate: q}})
	now := time.Unix(0, 0)
	start := now
	var sent float64
	for now.Sub(start) < 120*time.Second {
		const req = 64 << 10
		d := l.Record(Produce, "", "c", req, now)
		sent += req
		now = now.Add(d.Truncate(time.Millisecond) + 200*time.Microsecond)
	}
	burst := float64(q) * 11
	rate := (sent - burst) / now.Sub(start).Seconds()
	if rate < 0.97*q || rate > 1.03*q {
		t.Fatalf("rate after the burst %.0f, want %d ± 3%%", rate, q)
	}
}

// Full buckets are forgotten once there are many.
func TestLimiterSweep(t *testing.T) {
	l := New(Config{})
	l.Set(map[Entity]map[string]float64{{ClientID: Default}: {ProducerByteRate: 10}})
	now := time.Unix(0, 0)
	for i := range 3 * minSweep {
		l.Record(Produce, "", string(rune('a'+i%26))+time.Duration(i).String(), 1, now)
		now = now.Add(time.Second)
	}
	l.mu.Lock()
	n := len(l.buckets)
	l.mu.Unlock()
	if n >= minSweep {
		t.Fatalf("%d buckets kept", n)
	}
}
