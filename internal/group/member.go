package group

import (
	"bytes"
	"time"
)

// classicMember is one member of a classic group.
type classicMember struct {
	id                   string
	instanceID           *string
	clientID, clientHost string
	protocolType         string
	protocols            []Protocol
	sessionTimeout       time.Duration
	rebalanceTimeout     time.Duration
	assignment           []byte

	joinWaiting bool // a JoinGroup is parked until the rebalance completes
	joinTok     Token
	syncWaiting bool // a SyncGroup is parked until the leader's assignment
	syncTok     Token

	// isNew is set until the member's first join completes: such a member
	// may expire even while it waits in a rebalance (newMemberJoinTimeout).
	isNew bool
	// deadline is when the member expires unless it has satisfied its
	// heartbeat (see canExpire).
	deadline time.Time
}

func newClassicMember(id string, req JoinRequest) *classicMember {
	m := &classicMember{id: id, isNew: true}
	m.update(req)
	return m
}

// update takes the fields a rejoin may change.
func (m *classicMember) update(req JoinRequest) {
	m.instanceID = cloneString(req.InstanceID)
	m.clientID, m.clientHost = req.ClientID, req.ClientHost
	m.protocolType = req.ProtocolType
	m.protocols = cloneProtocols(req.Protocols)
	m.sessionTimeout = req.SessionTimeout
	m.rebalanceTimeout = req.RebalanceTimeout
}

// canExpire: members parked in a rebalance satisfy their heartbeat, since
// their connection is busy waiting; the rebalance and sync timeouts bound
// them instead. New members are the exception (see isNew).
func (m *classicMember) canExpire() bool {
	return m.isNew || !(m.joinWaiting || m.syncWaiting)
}

func (m *classicMember) touch(now time.Time) {
	m.deadline = now.Add(m.sessionTimeout)
}

// matches reports whether a rejoin brings the same protocols, in the same
// order, with the same metadata: then nothing the assignor sees changed.
func (m *classicMember) matches(protocols []Protocol) bool {
	if len(protocols) != len(m.protocols) {
		return false
	}
	for i, p := range protocols {
		if p.Name != m.protocols[i].Name || !bytes.Equal(p.Metadata, m.protocols[i].Metadata) {
			return false
		}
	}
	return true
}

func (m *classicMember) hasProtocol(name string) bool {
	for _, p := range m.protocols {
		if p.Name == name {
			return true
		}
	}
	return false
}

func (m *classicMember) metadata(name string) []byte {
	for _, p := range m.protocols {
		if p.Name == name {
			return p.Metadata
		}
	}
	return nil
}

func cloneString(s *string) *string {
	if s == nil {
		return nil
	}
	v := *s
	return &v
}

func cloneProtocols(ps []Protocol) []Protocol {
	out := make([]Protocol, len(ps))
	for i, p := range ps {
		out[i] = Protocol{Name: p.Name, Metadata: bytes.Clone(p.Metadata)}
	}
	return out
}
