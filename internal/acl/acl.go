// Package acl is the broker's authorizer: access control lists in Kafka's
// model (KIP-11, prefixed patterns from KIP-290) and the decision whether
// a principal on a host may perform an operation on a resource.
//
// The numeric codes of resource types, pattern types, operations and
// permissions are the protocol's, so bindings pass between the wire, the
// catalog and this package unchanged.
package acl

import (
	"fmt"
	"strings"
)

// ResourceType is what a binding protects.
type ResourceType int8

const (
	ResourceUnknown         ResourceType = 0
	ResourceAny             ResourceType = 1 // filters only
	ResourceTopic           ResourceType = 2
	ResourceGroup           ResourceType = 3
	ResourceCluster         ResourceType = 4
	ResourceTransactionalID ResourceType = 5
	ResourceDelegationToken ResourceType = 6
	ResourceUser            ResourceType = 7
)

// PatternType says how a binding's resource name matches resources.
type PatternType int8

const (
	PatternUnknown  PatternType = 0
	PatternAny      PatternType = 1 // filters only: any pattern type, names compared as given
	PatternMatch    PatternType = 2 // filters only: the bindings that would apply to the named resource
	PatternLiteral  PatternType = 3
	PatternPrefixed PatternType = 4
)

// Operation is what a principal asks to do.
type Operation int8

const (
	OpUnknown         Operation = 0
	OpAny             Operation = 1 // filters only
	OpAll             Operation = 2
	OpRead            Operation = 3
	OpWrite           Operation = 4
	OpCreate          Operation = 5
	OpDelete          Operation = 6
	OpAlter           Operation = 7
	OpDescribe        Operation = 8
	OpClusterAction   Operation = 9
	OpDescribeConfigs Operation = 10
	OpAlterConfigs    Operation = 11
	OpIdempotentWrite Operation = 12
	OpCreateTokens    Operation = 13
	OpDescribeTokens  Operation = 14
)

// Permission is whether a binding allows or denies.
type Permission int8

const (
	PermUnknown Permission = 0
	PermAny     Permission = 1 // filters only
	PermDeny    Permission = 2
	PermAllow   Permission = 3
)

// Wildcards: a resource named "*" (literal) is every resource of its type,
// the principal "User:*" every principal, the host "*" every host.
const (
	WildcardResource  = "*"
	WildcardPrincipal = "User:*"
	WildcardHost      = "*"
)

// ClusterName is the name of the one cluster resource.
const ClusterName = "kafka-cluster"

// Binding is one access control entry on a resource pattern. Its json form
// is what the catalog keeps.
type Binding struct {
	ResourceType ResourceType `json:"resource_type"`
	ResourceName string       `json:"resource_name"`
	PatternType  PatternType  `json:"pattern_type"`
	Principal    string       `json:"principal"`
	Host         string       `json:"host"`
	Operation    Operation    `json:"operation"`
	Permission   Permission   `json:"permission"`
}

func (b Binding) String() string {
	return fmt.Sprintf("(%d %q %d) %s@%s op %d perm %d", b.ResourceType, b.ResourceName, b.PatternType, b.Principal, b.Host, b.Operation, b.Permission)
}

// Validate says why b cannot be stored, or nil. Filter-only values (ANY,
// MATCH) and unknown codes are refused, as are a principal that is not
// "type:name" and a prefixed pattern with an empty name.
func (b Binding) Validate() error {
	switch {
	case b.ResourceType < ResourceTopic || b.ResourceType > ResourceUser:
		return fmt.Errorf("resource type %d cannot be stored", b.ResourceType)
	case b.PatternType != PatternLiteral && b.PatternType != PatternPrefixed:
		return fmt.Errorf("pattern type %d cannot be stored: LITERAL (3) or PREFIXED (4)", b.PatternType)
	case b.Operation < OpAll || b.Operation > OpDescribeTokens:
		return fmt.Errorf("operation %d cannot be stored", b.Operation)
	case b.Permission != PermDeny && b.Permission != PermAllow:
		return fmt.Errorf("permission %d cannot be stored: DENY (2) or ALLOW (3)", b.Permission)
	case b.ResourceName == "":
		return fmt.Errorf("the resource name is empty")
	case b.ResourceType == ResourceCluster && b.ResourceName != ClusterName:
		return fmt.Errorf("the cluster resource is named %q, not %q", ClusterName, b.ResourceName)
	case b.Host == "":
		return fmt.Errorf("the host is empty: %q for every host", WildcardHost)
	}
	if i := strings.IndexByte(b.Principal, ':'); i <= 0 || i == len(b.Principal)-1 {
		return fmt.Errorf("principal %q is not of the form type:name", b.Principal)
	}
	return nil
}

// Filter selects bindings, for DescribeAcls and DeleteAcls. A nil string
// matches any value; ANY codes match any value.
type Filter struct {
	ResourceType ResourceType
	ResourceName *string
	PatternType  PatternType
	Principal    *string
	Host         *string
	Operation    Operation
	Permission   Permission
}

// Validate says why f cannot select anything meaningful, or nil.
func (f Filter) Validate() error {
	switch {
	case f.ResourceType < ResourceAny || f.ResourceType > ResourceUser:
		return fmt.Errorf("resource type %d is unknown", f.ResourceType)
	case f.PatternType < PatternAny || f.PatternType > PatternPrefixed:
		return fmt.Errorf("pattern type %d is unknown", f.PatternType)
	case f.Operation < OpAny || f.Operation > OpDescribeTokens:
		return fmt.Errorf("operation %d is unknown", f.Operation)
	case f.Permission < PermAny || f.Permission > PermAllow:
		return fmt.Errorf("permission %d is unknown", f.Permission)
	}
	return nil
}

// Matches reports whether f selects b. With the MATCH pattern type and a
// name, it selects the bindings that would apply to a resource of that
// name: literal ones naming it or the wildcard, and prefixed ones whose
// name begins it.
func (f Filter) Matches(b Binding) bool {
	if f.ResourceType != ResourceAny && f.ResourceType != b.ResourceType {
		return false
	}
	switch f.PatternType {
	case PatternAny:
		if f.ResourceName != nil && *f.ResourceName != b.ResourceName {
			return false
		}
	case PatternMatch:
		if f.ResourceName != nil && !patternApplies(b, *f.ResourceName) {
			return false
		}
	default:
		if f.PatternType != b.PatternType || (f.ResourceName != nil && *f.ResourceName != b.ResourceName) {
			return false
		}
	}
	return (f.Principal == nil || *f.Principal == b.Principal) &&
		(f.Host == nil || *f.Host == b.Host) &&
		(f.Operation == OpAny || f.Operation == b.Operation) &&
		(f.Permission == PermAny || f.Permission == b.Permission)
}

// patternApplies reports whether b's resource pattern covers the resource
// named name (of b's type).
func patternApplies(b Binding, name string) bool {
	switch b.PatternType {
	case PatternLiteral:
		return b.ResourceName == name || b.ResourceName == WildcardResource
	case PatternPrefixed:
		return strings.HasPrefix(name, b.ResourceName)
	}
	return false
}

// implies reports whether an allow of granted also allows op: All allows
// everything; Describe is allowed by Read, Write, Delete and Alter;
// DescribeConfigs by AlterConfigs. A deny denies only its own operation
// (or everything, for All), so denying Read leaves Describe to the allows.
func implies(granted, op Operation) bool {
	if granted == op || granted == OpAll {
		return true
	}
	switch op {
	case OpDescribe:
		return granted == OpRead || granted == OpWrite || granted == OpDelete || granted == OpAlter
	case OpDescribeConfigs:
		return granted == OpAlterConfigs
	}
	return false
}

// supported lists the operations each resource type has, as Kafka lists
// them for authorized-operations answers (KIP-430).
var supported = map[ResourceType][]Operation{
	ResourceTopic:           {OpRead, OpWrite, OpCreate, OpDescribe, OpDelete, OpAlter, OpDescribeConfigs, OpAlterConfigs},
	ResourceGroup:           {OpRead, OpDescribe, OpDelete},
	ResourceCluster:         {OpCreate, OpClusterAction, OpDescribeConfigs, OpAlterConfigs, OpIdempotentWrite, OpAlter, OpDescribe},
	ResourceTransactionalID: {OpDescribe, OpWrite},
}

// Operations returns the bitfield of the operations of rt for which
// allowed is true: bit n set for the operation of code n, as Metadata,
// DescribeGroups and DescribeCluster answer them (KIP-430).
func Operations(rt ResourceType, allowed func(Operation) bool) int32 {
	var bits int32
	for _, op := range supported[rt] {
		if allowed(op) {
			bits |= 1 << op
		}
	}
	return bits
}
