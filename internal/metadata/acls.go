package metadata

import (
	"fmt"
	"maps"
	"slices"

	"sluice/internal/acl"
)

// applyACLs removes, then adds, a record's bindings. A binding added
// twice is kept once, as creating an existing binding is no change; a
// removal of an absent one is refused, since the record was built from
// the state it applies to.
func (s *State) applyACLs(r Record) error {
	if len(r.AddACLs) == 0 && len(r.DeleteACLs) == 0 {
		return fmt.Errorf("metadata: ACL record without a change")
	}
	for _, b := range r.AddACLs {
		if err := b.Validate(); err != nil {
			return fmt.Errorf("metadata: ACL %s: %w", b, err)
		}
	}
	for _, b := range r.DeleteACLs {
		if _, ok := s.acls[b]; !ok {
			return fmt.Errorf("metadata: delete of absent ACL %s", b)
		}
	}
	for _, b := range r.DeleteACLs {
		delete(s.acls, b)
	}
	for _, b := range r.AddACLs {
		s.acls[b] = struct{}{}
	}
	return nil
}

// ACLs returns every access control binding, in a stable order.
func (s *State) ACLs() []acl.Binding {
	return slices.SortedFunc(maps.Keys(s.acls), func(a, b acl.Binding) int {
		return compareBindings(a, b)
	})
}

// HasACL reports whether the binding is stored.
func (s *State) HasACL(b acl.Binding) bool {
	_, ok := s.acls[b]
	return ok
}

func compareBindings(a, b acl.Binding) int {
	switch {
	case a.ResourceType != b.ResourceType:
		return int(a.ResourceType) - int(b.ResourceType)
	case a.ResourceName != b.ResourceName:
		if a.ResourceName < b.ResourceName {
			return -1
		}
		return 1
	case a.PatternType != b.PatternType:
		return int(a.PatternType) - int(b.PatternType)
	case a.Principal != b.Principal:
		if a.Principal < b.Principal {
			return -1
		}
		return 1
	case a.Host != b.Host:
		if a.Host < b.Host {
			return -1
		}
		return 1
	case a.Operation != b.Operation:
		return int(a.Operation) - int(b.Operation)
	}
	return int(a.Permission) - int(b.Permission)
}
