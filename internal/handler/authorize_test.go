package handler

import (
	"context"
	"testing"

	"sluice/internal/acl"
)

// A request's topic decisions are asked of the authorizer once per topic,
// and the same whether they come from the last one kept or the map.
func TestTopicAuthCaches(t *testing.T) {
	a := acl.New(acl.Config{Enabled: true})
	a.Set([]acl.Binding{{ResourceType: acl.ResourceTopic, ResourceName: "yes", PatternType: acl.PatternLiteral,
		Principal: "User:u", Host: "*", Operation: acl.OpWrite, Permission: acl.PermAllow}})
	h := New(Env{Authorizer: a})
	ctx := context.WithValue(context.Background(), clientKey{}, clientInfo{principal: "User:u", host: "/127.0.0.1", session: &Session{}})
	auth := h.topicAuth(ctx, acl.OpWrite)
	for i, tc := range []struct {
		topic string
		want  bool
	}{{"yes", true}, {"yes", true}, {"no", false}, {"yes", true}, {"no", false}, {"other", false}, {"yes", true}} {
		if got := auth.allowed(tc.topic); got != tc.want {
			t.Fatalf("step %d: allowed(%s) = %v, want %v", i, tc.topic, got, tc.want)
		}
	}
	if len(auth.ok) != 3 {
		t.Fatalf("cache holds %v, want the three topics", auth.ok)
	}
	var off *topicAuth
	if !off.allowed("any") {
		t.Fatal("a nil cache (authorization off) denied")
	}
}
