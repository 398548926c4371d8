package handler

import (
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/acl"
	"sluice/internal/metadata"
)

// The ACL APIs keep bindings whether or not authorization is on, so they
// can be set up before it is turned on; when it is on, describing needs
// Describe on the cluster and creating or deleting needs Alter.

// filterOf converts a request's filter. Version 0 has no pattern type and
// selects literal bindings only. The strings are copied: the request's
// may alias the connection's buffer.
func filterOf(version int16, rt kmsg.ACLResourceType, name *string, pt kmsg.ACLResourcePatternType, principal, host *string, op kmsg.ACLOperation, perm kmsg.ACLPermissionType) acl.Filter {
	if version == 0 {
		pt = kmsg.ACLResourcePatternTypeLiteral
	}
	return acl.Filter{
		ResourceType: acl.ResourceType(rt), ResourceName: clonePtr(name), PatternType: acl.PatternType(pt),
		Principal: clonePtr(principal), Host: clonePtr(host),
		Operation: acl.Operation(op), Permission: acl.Permission(perm),
	}
}

func clonePtr(s *string) *string {
	if s == nil {
		return nil
	}
	c := strings.Clone(*s)
	return &c
}

// readACLs returns the bindings f selects.
func (h *Handler) readACLs(f acl.Filter) []acl.Binding {
	var out []acl.Binding
	h.env.Topics.ReadCatalog(func(st *metadata.State) {
		for _, b := range st.ACLs() {
			if f.Matches(b) {
				out = append(out, b)
			}
		}
	})
	return out
}

// LoadACLs gives the authorizer the bindings in the catalog; the broker
// calls it once at start, and the ACL APIs keep it current after.
func (h *Handler) LoadACLs() {
	if h.env.Authorizer == nil {
		return
	}
	var all []acl.Binding
	h.env.Topics.ReadCatalog(func(st *metadata.State) { all = st.ACLs() })
	h.env.Authorizer.Set(all)
}

func (h *Handler) setACLs(all []acl.Binding) {
	if h.env.Authorizer != nil {
		h.env.Authorizer.Set(all)
	}
}
