package acl

import (
	"sync/atomic"
)

// Config is how the broker authorizes.
type Config struct {
	// Enabled turns authorization on; off, every request is allowed and
	// the bindings are only kept.
	Enabled bool
	// SuperUsers are principals ("User:name") allowed everything.
	SuperUsers []string
	// AllowIfNoACL allows an operation on a resource that no binding
	// covers at all (allow.everyone.if.no.acl.found); a resource with any
	// binding, for any principal, is decided by its bindings alone.
	AllowIfNoACL bool
}

// Authorizer decides requests against the bindings last given to Set.
// Its methods are safe for concurrent use; a nil Authorizer allows all.
type Authorizer struct {
	cfg   Config
	super map[string]bool
	idx   atomic.Pointer[index]
}

// index is an immutable view of the bindings, by resource type: literal
// ones by name, so that a decision reads only the few that could apply.
type index struct {
	literal  map[ResourceType]map[string][]Binding
	prefixed map[ResourceType][]Binding
}

// New returns an authorizer with no bindings.
func New(cfg Config) *Authorizer {
	a := &Authorizer{cfg: cfg, super: map[string]bool{}}
	for _, p := range cfg.SuperUsers {
		a.super[p] = true
	}
	a.Set(nil)
	return a
}

// Enabled reports whether requests are authorized at all.
func (a *Authorizer) Enabled() bool { return a != nil && a.cfg.Enabled }

// Set replaces the bindings decisions are made against.
func (a *Authorizer) Set(bs []Binding) {
	ix := &index{literal: map[ResourceType]map[string][]Binding{}, prefixed: map[ResourceType][]Binding{}}
	for _, b := range bs {
		switch b.PatternType {
		case PatternLiteral:
			m := ix.literal[b.ResourceType]
			if m == nil {
				m = map[string][]Binding{}
				ix.literal[b.ResourceType] = m
			}
			m[b.ResourceName] = append(m[b.ResourceName], b)
		case PatternPrefixed:
			ix.prefixed[b.ResourceType] = append(ix.prefixed[b.ResourceType], b)
		}
	}
	a.idx.Store(ix)
}

// Authorize reports whether principal, connected from host, may perform op
// on the resource of type rt named name. Super users may do anything;
// otherwise a matching deny wins over any allow, an allow of op or of an
// operation implying it allows, and a resource no binding covers is
// allowed only with AllowIfNoACL.
func (a *Authorizer) Authorize(principal, host string, op Operation, rt ResourceType, name string) bool {
	if !a.Enabled() || a.super[principal] {
		return true
	}
	ix := a.idx.Load()
	covered, allowed := false, false
	visit := func(b Binding) bool {
		covered = true
		if b.Principal != principal && b.Principal != WildcardPrincipal {
			return true
		}
		if b.Host != host && b.Host != WildcardHost {
			return true
		}
		if b.Permission == PermDeny {
			if b.Operation == op || b.Operation == OpAll {
				return false
			}
			return true
		}
		if implies(b.Operation, op) {
			allowed = true
		}
		return true
	}
	lit := ix.literal[rt]
	for _, b := range lit[name] {
		if !visit(b) {
			return false
		}
	}
	if name != WildcardResource {
		for _, b := range lit[WildcardResource] {
			if !visit(b) {
				return false
			}
		}
	}
	for _, b := range ix.prefixed[rt] {
		if len(name) >= len(b.ResourceName) && name[:len(b.ResourceName)] == b.ResourceName {
			if !visit(b) {
				return false
			}
		}
	}
	if !covered {
		return a.cfg.AllowIfNoACL
	}
	return allowed
}

// AuthorizeAny reports whether principal, from host, may perform op on
// some resource of type rt, named or not yet existing (KIP-679: an
// idempotent producer needs Write on any topic). It is allowed by an
// allow of op (or All) for the principal that no deny covers wholly: a
// deny of the wildcard, or of a prefix of the allowed name (literal or
// prefixed), shadows it. With no binding of the type at all, AllowIfNoACL
// decides.
func (a *Authorizer) AuthorizeAny(principal, host string, op Operation, rt ResourceType) bool {
	if !a.Enabled() || a.super[principal] {
		return true
	}
	ix := a.idx.Load()
	applies := func(b Binding) bool {
		return (b.Principal == principal || b.Principal == WildcardPrincipal) &&
			(b.Host == host || b.Host == WildcardHost) && (b.Operation == op || b.Operation == OpAll)
	}
	var denyLiteral, denyPrefix []string
	var allows []Binding
	any := false
	visit := func(b Binding) {
		any = true
		if !applies(b) {
			return
		}
		switch {
		case b.Permission == PermAllow:
			allows = append(allows, b)
		case b.PatternType == PatternPrefixed:
			denyPrefix = append(denyPrefix, b.ResourceName)
		default:
			denyLiteral = append(denyLiteral, b.ResourceName)
		}
	}
	for _, bs := range ix.literal[rt] {
		for _, b := range bs {
			visit(b)
		}
	}
	for _, b := range ix.prefixed[rt] {
		visit(b)
	}
	if !any {
		return a.cfg.AllowIfNoACL
	}
	for _, d := range denyLiteral {
		if d == WildcardResource {
			return false
		}
	}
	for _, b := range allows {
		shadowed := false
		for _, d := range denyPrefix {
			if len(b.ResourceName) >= len(d) && b.ResourceName[:len(d)] == d {
				shadowed = true
			}
		}
		for _, d := range denyLiteral {
			if b.PatternType == PatternLiteral && d == b.ResourceName {
				shadowed = true
			}
		}
		if !shadowed {
			return true
		}
	}
	return false
}
