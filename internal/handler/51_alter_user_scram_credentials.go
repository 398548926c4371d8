package handler

// AlterUserScramCredentials, v0 (KIP-554).
//
// Upsertions carry the salt, the iteration count and the salted password
// a client derived; the broker keeps only the salt, the count and the
// stored and server keys derived from the salted password. The answer has
// one result per user, in the order users first appear (deletions, then
// upsertions). A user's changes apply together or not at all; the first
// fault of a user is its result:
//
//   - an empty name: UNACCEPTABLE_CREDENTIAL;
//   - a mechanism other than SCRAM-SHA-256 (1) or SCRAM-SHA-512 (2):
//     UNSUPPORTED_SASL_MECHANISM;
//   - the same user and mechanism twice (two upsertions, two deletions or
//     one of each): DUPLICATE_RESOURCE;
//   - iterations outside 4096..16384, an empty salt or salted password:
//     UNACCEPTABLE_CREDENTIAL;
//   - a deletion of a credential that does not exist: RESOURCE_NOT_FOUND.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/acl"
	"sluice/internal/metadata"
	"sluice/internal/sasl"
)

func init() { register(51, 0, 0, alterUserScramCredentials) }

// scramFault is why a user's changes are refused.
type scramFault struct {
	code int16
	msg  string
}

func (f *scramFault) Error() string { return f.msg }

type scramChange struct {
	changes map[string]*metadata.ScramCredential
	deletes []string // mechanisms deleted, checked against the catalog
	fault   *scramFault
}

func alterUserScramCredentials(h *Handler, ctx context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.AlterUserSCRAMCredentialsRequest)
	resp := req.ResponseKind().(*kmsg.AlterUserSCRAMCredentialsResponse)
	if !h.authorizedCluster(ctx, acl.OpAlter) {
		// Every user named is answered, none changed.
		seen := map[string]bool{}
		deny := func(name string) {
			if !seen[name] {
				seen[name] = true
				res := kmsg.NewAlterUserSCRAMCredentialsResponseResult()
				res.User, res.ErrorCode = name, kerr.ClusterAuthorizationFailed.Code
				res.ErrorMessage = kmsg.StringPtr("altering SCRAM credentials needs Alter on the cluster")
				resp.Results = append(resp.Results, res)
			}
		}
		for _, d := range req.Deletions {
			deny(d.Name)
		}
		for _, u := range req.Upsertions {
			deny(u.Name)
		}
		return ready(resp)
	}
	var order []string
	users := map[string]*scramChange{}
	user := func(name string) *scramChange {
		u, ok := users[name]
		if !ok {
			u = &scramChange{changes: map[string]*metadata.ScramCredential{}}
			users[name] = u
			order = append(order, name)
		}
		return u
	}
	// add records one change of a user, or its first fault.
	add := func(name string, mech int8, cred *metadata.ScramCredential, bad *scramFault) {
		u := user(name)
		if u.fault != nil {
			return
		}
		m, known := scramMechanisms[mech]
		_, twice := u.changes[m]
		switch {
		case name == "":
			u.fault = &scramFault{kerr.UnacceptableCredential.Code, "the user name is empty"}
		case !known:
			u.fault = &scramFault{kerr.UnsupportedSaslMechanism.Code, fmt.Sprintf("unknown SCRAM mechanism %d", mech)}
		case twice:
			u.fault = &scramFault{kerr.DuplicateResource.Code, fmt.Sprintf("the %s credential of the user is changed twice in the request", m)}
		case bad != nil:
			u.fault = bad
		default:
			u.changes[m] = cred
			if cred == nil {
				u.deletes = append(u.deletes, m)
			}
		}
	}
	for _, d := range req.Deletions {
		add(d.Name, d.Mechanism, nil, nil)
	}
	for _, up := range req.Upsertions {
		cred, bad := upsertion(up)
		add(up.Name, up.Mechanism, cred, bad)
	}
	for _, name := range order {
		u := users[name]
		res := kmsg.NewAlterUserSCRAMCredentialsResponseResult()
		res.User = name
		err := error(u.fault)
		if u.fault == nil {
			err = h.env.Topics.AlterScram(name, func(st *metadata.State) error {
				for _, m := range u.deletes {
					if _, ok := st.Scram(name, m); !ok {
						return &scramFault{kerr.ResourceNotFound.Code, fmt.Sprintf("the user has no %s credential to delete", m)}
					}
				}
				return nil
			}, maps.Clone(u.changes))
		}
		var fault *scramFault
		switch {
		case errors.As(err, &fault):
			res.ErrorCode, res.ErrorMessage = fault.code, kmsg.StringPtr(fault.msg)
		case err != nil:
			h.env.Logger.Error("handler: commit SCRAM credentials", "err", err)
			res.ErrorCode, res.ErrorMessage = kerr.KafkaStorageError.Code, kmsg.StringPtr("the catalog could not be written")
		}
		resp.Results = append(resp.Results, res)
	}
	return ready(resp)
}

// upsertion checks one upsertion and derives the credential to keep.
func upsertion(up kmsg.AlterUserSCRAMCredentialsRequestUpsertion) (*metadata.ScramCredential, *scramFault) {
	bad := func(why string) (*metadata.ScramCredential, *scramFault) {
		return nil, &scramFault{kerr.UnacceptableCredential.Code, why}
	}
	switch {
	case up.Iterations < sasl.MinIterations:
		return bad(fmt.Sprintf("%d iterations are too few: at least %d", up.Iterations, sasl.MinIterations))
	case up.Iterations > sasl.MaxIterations:
		return bad(fmt.Sprintf("%d iterations are too many: at most %d", up.Iterations, sasl.MaxIterations))
	case len(up.Salt) == 0:
		return bad("the salt is empty")
	case len(up.SaltedPassword) == 0:
		return bad("the salted password is empty")
	}
	stored, server, ok := sasl.ScramKeys(scramMechanisms[up.Mechanism], up.SaltedPassword)
	if !ok {
		return nil, nil // an unknown mechanism: add reports it
	}
	// The salt is kept: it must not alias the request's frame, which the
	// connection reuses.
	return &metadata.ScramCredential{Salt: bytes.Clone(up.Salt), Iterations: up.Iterations, StoredKey: stored, ServerKey: server}, nil
}
