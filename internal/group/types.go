package group

import "time"

// Token identifies a request whose reply may come later (JoinGroup and
// SyncGroup wait for the rebalance). The caller picks it; the coordinator
// only hands it back in a Reply.
type Token uint64

// Protocol is one assignment protocol a member supports, in the member's
// order of preference, with its opaque metadata.
type Protocol struct {
	Name     string
	Metadata []byte
}

// JoinRequest is a JoinGroup request, version-independent.
type JoinRequest struct {
	Group, MemberID      string
	InstanceID           *string // group.instance.id (KIP-345), nil for dynamic members
	ClientID, ClientHost string
	ProtocolType         string
	Protocols            []Protocol
	SessionTimeout       time.Duration
	RebalanceTimeout     time.Duration
	// RequireKnownMemberID is set from JoinGroup v4: an unknown dynamic
	// member is first given an id with MEMBER_ID_REQUIRED (KIP-394).
	RequireKnownMemberID bool
	// SkipAssignmentUnsupported is set for JoinGroup v0-v8, which have no
	// SkipAssignment field (KIP-814). A static leader replaced in a Stable
	// group is then told the old leader id, so it acts as a follower and
	// does not compute an assignment the Stable group would ignore.
	SkipAssignmentUnsupported bool
	Reason                    string // v8+, informational only
}

// JoinMember describes one member to the leader.
type JoinMember struct {
	MemberID   string
	InstanceID *string
	Metadata   []byte
}

// JoinResponse is a JoinGroup response. Generation is -1 on errors.
type JoinResponse struct {
	ErrorCode              int16
	Generation             int32
	ProtocolType, Protocol *string
	LeaderID, MemberID     string
	Members                []JoinMember // filled for the leader only
	SkipAssignment         bool         // v9+: leader of a static group rejoining with no change
}

// SyncRequest is a SyncGroup request.
type SyncRequest struct {
	Group, MemberID string
	InstanceID      *string
	Generation      int32
	// ProtocolType and Protocol come with v5+, nil when absent; a mismatch
	// with the group's gives INCONSISTENT_GROUP_PROTOCOL.
	ProtocolType, Protocol *string
	Assignments            map[string][]byte // from the leader: member id -> assignment
}

// SyncResponse is a SyncGroup response.
type SyncResponse struct {
	ErrorCode              int16
	ProtocolType, Protocol *string
	Assignment             []byte
}

// Reply answers the request identified by Token: exactly one of Join and
// Sync is set.
type Reply struct {
	Token Token
	Join  *JoinResponse
	Sync  *SyncResponse
}

// LeaveMember is one member of a LeaveGroup request (batched from v3).
type LeaveMember struct {
	MemberID   string
	InstanceID *string
}

// Description is what DescribeGroups reports about a group.
type Description struct {
	Group        string
	State        string
	ProtocolType string
	// Protocol, and the members' Metadata and Assignment, are only filled
	// in Stable: in other states they are in flux (Kafka reports them
	// empty too).
	Protocol string
	Members  []DescribedMember
}

// DescribedMember is one member in a Description.
type DescribedMember struct {
	MemberID   string
	InstanceID *string
	ClientID   string
	ClientHost string
	Metadata   []byte
	Assignment []byte
}

// Listing is one group in a ListGroups answer.
type Listing struct {
	Group        string
	ProtocolType string
	State        string
}
