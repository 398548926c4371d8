// Package metadata is the broker's catalog: topics with their ids,
// partition counts and configs. It is kept as a log of versioned records
// applied by one function (Apply), so that the same records can later be
// replicated: the state is only ever what the records say.
package metadata

import (
	"encoding/hex"
	"fmt"

	"sluice/internal/acl"
)

// RecordType names a change to the catalog.
type RecordType string

const (
	RecCreateTopic      RecordType = "create_topic"
	RecDeleteTopic      RecordType = "delete_topic"
	RecCreatePartitions RecordType = "create_partitions"
	RecAlterConfigs     RecordType = "alter_configs"
	RecClusterID        RecordType = "cluster_id"
	RecProducerIDs      RecordType = "producer_ids"  // a block of producer ids was handed out
	RecScram            RecordType = "scram"         // a user's SCRAM credentials were set or deleted
	RecACLs             RecordType = "acls"          // access control bindings were added or removed
	RecQuotas           RecordType = "client_quotas" // client quotas were set or removed
)

// recordVersion is the newest record version this binary reads; Apply
// refuses records of a later version so an old binary never misreads a
// newer catalog. Each record is written at the lowest version that has its
// type (versionOf), so a catalog that holds no credentials still opens in a
// binary that predates them, and one that does is refused by such a binary
// with the version message rather than an unknown type.
const recordVersion = 4

// versionOf is the record version that introduced t.
func versionOf(t RecordType) int {
	switch t {
	case RecScram:
		return 2
	case RecACLs:
		return 3
	case RecQuotas:
		return 4
	}
	return 1
}

// Record is one change to the catalog. Fields unused by a type are empty.
type Record struct {
	Version    int                `json:"v"`
	Type       RecordType         `json:"type"`
	Topic      string             `json:"topic,omitempty"`
	TopicID    TopicID            `json:"topic_id,omitempty"`
	Partitions int32              `json:"partitions,omitempty"`
	Configs    map[string]*string `json:"configs,omitempty"` // nil value deletes the key
	ClusterID  string             `json:"cluster_id,omitempty"`
	// NextProducerID is, for RecProducerIDs, the first id not yet handed
	// out: ids below it were given to a broker and are never reused.
	NextProducerID int64 `json:"next_producer_id,omitempty"`
	// User and Scram are, for RecScram, the user and the credentials to
	// set, by mechanism; a nil credential deletes that mechanism's.
	User  string                      `json:"user,omitempty"`
	Scram map[string]*ScramCredential `json:"scram,omitempty"`
	// AddACLs and DeleteACLs are, for RecACLs, the bindings added and
	// the ones removed (removals first).
	AddACLs    []acl.Binding `json:"add_acls,omitempty"`
	DeleteACLs []acl.Binding `json:"delete_acls,omitempty"`
	// Quotas is, for RecQuotas, each entity's change of client quotas,
	// applied together.
	Quotas []QuotaChange `json:"quotas,omitempty"`
}

// TopicID is a topic's 16-byte UUID.
type TopicID [16]byte

// IsZero reports whether id is unset.
func (id TopicID) IsZero() bool { return id == TopicID{} }

func (id TopicID) String() string { return hex.EncodeToString(id[:]) }

// MarshalText encodes the id as hex.
func (id TopicID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText decodes a hex id.
func (id *TopicID) UnmarshalText(b []byte) error {
	if len(b) != 32 {
		return fmt.Errorf("metadata: topic id %q: want 32 hex digits", b)
	}
	_, err := hex.Decode(id[:], b)
	return err
}
