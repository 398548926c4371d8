// Package quota is client quotas in Kafka's model: the entities a quota
// is set for (KIP-13 client ids, KIP-55 users and their precedence,
// KIP-612 IPs), the keys and the values each takes (KIP-546's checks),
// the filters DescribeClientQuotas selects with, and the enforcement of
// byte-rate and request-time quotas (KIP-124) as throttle times.
//
// It is pure: it imports nothing of Sluice's, and every call that
// measures takes the time, so a fake clock drives it in tests.
package quota

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
)

// Entity types, as the protocol names them.
const (
	TypeUser     = "user"
	TypeClientID = "client-id"
	TypeIP       = "ip"
)

// Quota keys.
const (
	ProducerByteRate       = "producer_byte_rate"       // bytes/s of produce requests; enforced
	ConsumerByteRate       = "consumer_byte_rate"       // bytes/s of fetch responses; enforced
	RequestPercentage      = "request_percentage"       // % of one thread's time; enforced
	ControllerMutationRate = "controller_mutation_rate" // partitions created or deleted per second; stored only
	ConnectionCreationRate = "connection_creation_rate" // connections per second, for ip entities; stored only
)

// ErrInvalid is a bad entity, key or value: Kafka's INVALID_REQUEST.
var ErrInvalid = errors.New("invalid client quota request")

// ErrUnsupported is a filter on an entity type Kafka does not know:
// Kafka's UNSUPPORTED_VERSION.
var ErrUnsupported = errors.New("unsupported client quota filter")

func invalid(format string, args ...any) error {
	return wrap(ErrInvalid, format, args...)
}

// kindError carries Kafka's message as its text and the kind of failure
// for errors.Is.
type kindError struct {
	kind error
	msg  string
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

func wrap(kind error, format string, args ...any) error {
	return &kindError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// Part is one component of an entity: absent, the default (the protocol's
// null name) or a name.
type Part struct {
	Set     bool   // the entity has this component
	Default bool   // the default entity of this type (name null)
	Name    string // when Set and not Default
}

// Named returns the part for name.
func Named(name string) Part { return Part{Set: true, Name: name} }

// Default is the default part.
var Default = Part{Set: true, Default: true}

func (p Part) ptr() *string {
	if p.Default {
		return nil
	}
	n := p.Name
	return &n
}

func (p Part) String() string {
	if p.Default {
		return "<default>"
	}
	return p.Name
}

// Entity is what a quota is set for: a user, a client id, both, or an IP.
// It is comparable, so it keys maps.
type Entity struct {
	User, ClientID, IP Part
}

func (e Entity) String() string {
	s := ""
	for _, c := range e.Components() {
		if s != "" {
			s += ","
		}
		s += c.Type + "=" + Part{Set: true, Default: c.Name == nil, Name: deref(c.Name)}.String()
	}
	return "{" + s + "}"
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Component is one entity component as the protocol and the catalog
// carry it: a type and a name, nil for the default.
type Component struct {
	Type string  `json:"type"`
	Name *string `json:"name"`
}

// Components returns the entity's components in a fixed order: user,
// client-id, ip.
func (e Entity) Components() []Component {
	var out []Component
	for _, c := range []struct {
		t string
		p Part
	}{{TypeUser, e.User}, {TypeClientID, e.ClientID}, {TypeIP, e.IP}} {
		if c.p.Set {
			out = append(out, Component{Type: c.t, Name: c.p.ptr()})
		}
	}
	return out
}

// EntityOf checks an entity as Kafka's controller does
// (ClientQuotaControlManager: validateEntity, configKeysForEntityType)
// and returns it. Every failure is ErrInvalid, with Kafka's message.
func EntityOf(cs []Component) (Entity, error) {
	var e Entity
	if len(cs) == 0 {
		return e, invalid("Invalid empty client quota entity")
	}
	for _, c := range cs {
		var dst *Part
		switch c.Type {
		case TypeUser:
			dst = &e.User
		case TypeClientID:
			dst = &e.ClientID
		case TypeIP:
			dst = &e.IP
		default:
			return e, invalid("Unhandled client quota entity type: %s", c.Type)
		}
		if dst.Set {
			return e, invalid("Invalid client quota entity, duplicate entity entry %s", c.Type)
		}
		if c.Name != nil && *c.Name == "" {
			return e, invalid("Empty %s not supported", c.Type)
		}
		if c.Name == nil {
			*dst = Default
		} else {
			*dst = Named(*c.Name)
		}
	}
	if e.IP.Set {
		if e.User.Set || e.ClientID.Set {
			return e, invalid("Invalid quota entity combination, IP entity should not be combined with User or ClientId")
		}
		if !e.IP.Default {
			if _, err := netip.ParseAddr(e.IP.Name); err != nil {
				return e, invalid("%s is not a valid IP or resolvable host.", e.IP.Name)
			}
		}
	}
	return e, nil
}

// keyKind is the type a key's value must have.
type keyKind int

const (
	kindLong keyKind = iota
	kindInt
	kindDouble
)

// keysFor is the keys an entity may set, with their kinds: an IP entity
// the connection rate, the others the client keys (Kafka's QuotaConfig).
func keysFor(e Entity) map[string]keyKind {
	if e.IP.Set {
		return map[string]keyKind{ConnectionCreationRate: kindInt}
	}
	return map[string]keyKind{
		ProducerByteRate:       kindLong,
		ConsumerByteRate:       kindLong,
		RequestPercentage:      kindDouble,
		ControllerMutationRate: kindDouble,
	}
}

// ValidateValue checks that the entity may set key to v (Kafka's
// validateQuotaKeyValue): a known key for the entity's type, above 0,
// whole for the integral keys and within their range.
func ValidateValue(e Entity, key string, v float64) error {
	kind, ok := keysFor(e)[key]
	if !ok {
		return invalid("Invalid configuration key %s", key)
	}
	if !(v > 0) {
		return invalid("Quota %s must be greater than 0", key)
	}
	switch kind {
	case kindInt:
		if v > 1<<31-1 {
			return invalid("Proposed value for %s is too large for an INT.", key)
		}
	case kindLong:
		if v > 1<<63-1 {
			return invalid("Proposed value for %s is too large for a LONG.", key)
		}
	case kindDouble:
		if math.IsInf(v, 1) {
			// Kafka takes it; the catalog's JSON cannot hold it.
			return invalid("Quota %s must be finite", key)
		}
		return nil
	}
	if r := v - float64(int64(v)); r > 1e-6 {
		return invalid("%s cannot be a fractional value.", key)
	}
	return nil
}
