package quota

// Match types of a DescribeClientQuotas filter component (KIP-546).
const (
	MatchExact     int8 = 0 // the named entity, or the default with a null name
	MatchDefault   int8 = 1 // the default entity of the type
	MatchSpecified int8 = 2 // any entity having the type, the default included
)

// FilterComponent is one component of a DescribeClientQuotas filter.
type FilterComponent struct {
	Type  string
	Match int8
	Name  *string
}

// Filter selects entities as Kafka's controller does
// (ClientQuotaControlManager.describeClientQuotas): each exact or default
// component requires that part with that name, each specified one that
// part with any name; strict also requires that the entity have no other
// part.
type Filter struct {
	exact  map[string]*string
	typed  map[string]bool
	strict bool
}

// NewFilter checks the components and builds the filter. A bad one is
// ErrInvalid, an unknown entity type or match type ErrUnsupported, each
// with Kafka's message.
func NewFilter(cs []FilterComponent, strict bool) (Filter, error) {
	f := Filter{exact: map[string]*string{}, typed: map[string]bool{}, strict: strict}
	for _, c := range cs {
		if c.Type == "" {
			return f, invalid("Invalid empty entity type.")
		}
		if _, ok := f.exact[c.Type]; ok || f.typed[c.Type] {
			return f, invalid("Entity type %s cannot appear more than once in the filter.", c.Type)
		}
		if c.Type != TypeUser && c.Type != TypeClientID && c.Type != TypeIP {
			return f, unsupported("Unsupported entity type %s", c.Type)
		}
		switch c.Match {
		case MatchExact:
			if c.Name == nil {
				return f, invalid("Request specified MATCH_TYPE_EXACT, but set match string to null.")
			}
			n := *c.Name
			f.exact[c.Type] = &n
		case MatchDefault:
			if c.Name != nil {
				return f, invalid("Request specified MATCH_TYPE_DEFAULT, but also specified a match string.")
			}
			f.exact[c.Type] = nil
		case MatchSpecified:
			if c.Name != nil {
				return f, invalid("Request specified MATCH_TYPE_SPECIFIED, but also specified a match string.")
			}
			f.typed[c.Type] = true
		default:
			return f, unsupported("Unknown match type %d", c.Match)
		}
	}
	has := func(t string) bool { _, ok := f.exact[t]; return ok || f.typed[t] }
	if has(TypeIP) && (has(TypeUser) || has(TypeClientID)) {
		return f, invalid("Invalid entity filter component combination. IP filter component should not be used with user or clientId filter component.")
	}
	return f, nil
}

func unsupported(format string, args ...any) error {
	return wrap(ErrUnsupported, format, args...)
}

// Matches reports whether the filter selects e.
func (f Filter) Matches(e Entity) bool {
	parts := map[string]Part{}
	for _, c := range e.Components() {
		parts[c.Type] = partOf(c.Name)
	}
	if f.strict && len(parts) != len(f.exact)+len(f.typed) {
		return false
	}
	for t, name := range f.exact {
		p, ok := parts[t]
		if !ok || p != partOf(name) {
			return false
		}
	}
	for t := range f.typed {
		if _, ok := parts[t]; !ok {
			return false
		}
	}
	return true
}

func partOf(name *string) Part {
	if name == nil {
		return Default
	}
	return Named(*name)
}
