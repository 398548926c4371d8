package handler

// IncrementalAlterConfigs, v0-1 (KIP-339).
//
// Topic configs only: SET and DELETE for any known key, APPEND and
// SUBTRACT for the list-valued cleanup.policy. Every change of a resource is
// validated before any is applied; an unknown key or bad value gets
// INVALID_CONFIG, an unknown topic UNKNOWN_TOPIC_OR_PARTITION. Broker
// settings are read-only here (INVALID_REQUEST). v1 is flexible.

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/acl"
	"sluice/internal/metadata"
)

func init() { register(44, 0, 1, incrementalAlterConfigs) }

const (
	opSet      = 0
	opDelete   = 1
	opAppend   = 2
	opSubtract = 3
)

func incrementalAlterConfigs(h *Handler, ctx context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.IncrementalAlterConfigsRequest)
	resp := req.ResponseKind().(*kmsg.IncrementalAlterConfigsResponse)
	for _, rr := range req.Resources {
		sr := kmsg.NewIncrementalAlterConfigsResponseResource()
		sr.ResourceType, sr.ResourceName = rr.ResourceType, rr.ResourceName
		if code := h.configDenied(ctx, acl.OpAlterConfigs, int8(rr.ResourceType), rr.ResourceName); code != 0 {
			sr.ErrorCode = code
		} else if err := h.alterTopicConfigs(rr, req.ValidateOnly); err != nil {
			sr.ErrorCode = err.code
			sr.ErrorMessage = &err.msg
		}
		resp.Resources = append(resp.Resources, sr)
	}
	return ready(resp)
}

func (h *Handler) alterTopicConfigs(rr kmsg.IncrementalAlterConfigsRequestResource, validateOnly bool) *codedError {
	t, cerr := h.alterableTopic(rr.ResourceType, rr.ResourceName)
	if cerr != nil {
		return cerr
	}
	changes := map[string]*string{}
	for _, c := range rr.Configs {
		v, err := applyOp(t.Configs, c)
		if err != nil {
			return &codedError{kerr.InvalidConfig.Code, err.Error()}
		}
		changes[c.Name] = v
	}
	if err := h.env.Topics.AlterConfigs(rr.ResourceName, changes, validateOnly); err != nil {
		return &codedError{topicErrorCode(err), err.Error()}
	}
	return nil
}

// applyOp returns the new value of a key (nil: back to the default).
func applyOp(current map[string]string, c kmsg.IncrementalAlterConfigsRequestResourceConfig) (*string, error) {
	switch c.Op {
	case opSet:
		if c.Value == nil {
			return nil, fmt.Errorf("null value for %s", c.Name)
		}
		return c.Value, nil
	case opDelete:
		return nil, nil
	case opAppend, opSubtract:
		if c.Name != metadata.CfgCleanupPolicy || c.Value == nil {
			return nil, fmt.Errorf("%s is not a list config", c.Name)
		}
		return listOp(current[c.Name], *c.Value, c.Op == opAppend), nil
	}
	return nil, fmt.Errorf("unknown operation %d", c.Op)
}

func listOp(current, value string, add bool) *string {
	var items []string
	if current != "" {
		items = strings.Split(current, ",")
	}
	for _, v := range strings.Split(value, ",") {
		i := slices.Index(items, v)
		if add && i < 0 {
			items = append(items, v)
		} else if !add && i >= 0 {
			items = slices.Delete(items, i, i+1)
		}
	}
	out := strings.Join(items, ",")
	return &out
}
