package handler

// AlterConfigs, v0-2 (the non-incremental form, superseded by
// IncrementalAlterConfigs in KIP-339 but still what kafkajs and older
// sarama send).
//
// A topic resource's config set is replaced as a whole: the keys given
// are set, every other key goes back to its default. Keys are validated
// before anything changes (INVALID_CONFIG). Broker settings are
// read-only here (INVALID_REQUEST).

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/acl"
)

func init() { register(33, 0, 2, alterConfigs) }

func alterConfigs(h *Handler, ctx context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.AlterConfigsRequest)
	resp := req.ResponseKind().(*kmsg.AlterConfigsResponse)
	for _, rr := range req.Resources {
		sr := kmsg.NewAlterConfigsResponseResource()
		sr.ResourceType, sr.ResourceName = rr.ResourceType, rr.ResourceName
		if code := h.configDenied(ctx, acl.OpAlterConfigs, int8(rr.ResourceType), rr.ResourceName); code != 0 {
			sr.ErrorCode = code
		} else if err := h.replaceTopicConfigs(rr, req.ValidateOnly); err != nil {
			sr.ErrorCode, sr.ErrorMessage = err.code, &err.msg
		}
		resp.Resources = append(resp.Resources, sr)
	}
	return ready(resp)
}

func (h *Handler) replaceTopicConfigs(rr kmsg.AlterConfigsRequestResource, validateOnly bool) *codedError {
	t, cerr := h.alterableTopic(rr.ResourceType, rr.ResourceName)
	if cerr != nil {
		return cerr
	}
	changes := map[string]*string{}
	for k := range t.Configs {
		changes[k] = nil // back to the default unless given below
	}
	for _, c := range rr.Configs {
		if c.Value == nil {
			return &codedError{kerr.InvalidConfig.Code, "null value for " + c.Name}
		}
		changes[c.Name] = c.Value
	}
	if err := h.env.Topics.AlterConfigs(rr.ResourceName, changes, validateOnly); err != nil {
		return &codedError{topicErrorCode(err), err.Error()}
	}
	return nil
}
