package metadata

import (
	"fmt"
	"maps"
	"slices"
)

// The SCRAM mechanisms a credential may be for (KIP-554), by their SASL
// names.
const (
	ScramSHA256 = "SCRAM-SHA-256"
	ScramSHA512 = "SCRAM-SHA-512"
)

// ScramCredential is what the server side of SCRAM (RFC 5802) needs to
// check a user: the salt and iteration count the client derives its key
// with, and the stored and server keys derived from the salted password.
// Neither the password nor the salted password is kept: the salted
// password alone would let anyone who reads the catalog log in.
type ScramCredential struct {
	Salt       []byte `json:"salt"`
	Iterations int32  `json:"iterations"`
	StoredKey  []byte `json:"stored_key"`
	ServerKey  []byte `json:"server_key"`
}

func (s *State) applyScram(r Record) error {
	if r.User == "" || len(r.Scram) == 0 {
		return fmt.Errorf("metadata: SCRAM record needs a user and a change")
	}
	for mech, c := range r.Scram {
		if mech != ScramSHA256 && mech != ScramSHA512 {
			return fmt.Errorf("metadata: SCRAM record for %q: unknown mechanism %q", r.User, mech)
		}
		if c == nil {
			if _, ok := s.scram[r.User][mech]; !ok {
				return fmt.Errorf("metadata: delete of absent %s credential of %q", mech, r.User)
			}
			continue
		}
		if len(c.Salt) == 0 || c.Iterations <= 0 || len(c.StoredKey) == 0 || len(c.ServerKey) == 0 {
			return fmt.Errorf("metadata: %s credential of %q is incomplete", mech, r.User)
		}
	}
	creds := maps.Clone(s.scram[r.User])
	if creds == nil {
		creds = map[string]ScramCredential{}
	}
	for mech, c := range r.Scram {
		if c == nil {
			delete(creds, mech)
		} else {
			creds[mech] = *c
		}
	}
	if len(creds) == 0 {
		delete(s.scram, r.User)
	} else {
		s.scram[r.User] = creds
	}
	return nil
}

// Scram returns the user's credential for the mechanism.
func (s *State) Scram(user, mechanism string) (ScramCredential, bool) {
	c, ok := s.scram[user][mechanism]
	return c, ok
}

// ScramMechanisms returns the mechanisms the user has a credential for,
// sorted.
func (s *State) ScramMechanisms(user string) []string {
	return slices.Sorted(maps.Keys(s.scram[user]))
}

// ScramUsers returns every user with a SCRAM credential, sorted.
func (s *State) ScramUsers() []string {
	return slices.Sorted(maps.Keys(s.scram))
}
