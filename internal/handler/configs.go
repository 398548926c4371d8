package handler

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/topics"
)

// configSource maps a config's origin to DescribeConfigs' source enum:
// 1 topic, 4 static broker, 5 default.
func configSource(s topics.ConfigSource) int8 {
	switch s {
	case topics.SourceTopic:
		return 1
	case topics.SourceBroker:
		return 4
	}
	return 5
}

// BrokerConfig is one of the broker's settings as DescribeConfigs lists it.
type BrokerConfig struct {
	Name  string
	Value *string // nil: not set
	// Default: nobody set it (DEFAULT_CONFIG); else a file, variable or
	// flag did (STATIC_BROKER_CONFIG).
	Default bool
}

// alterableTopic resolves the resource of a config change: only topics'
// configs change over the wire; broker settings are read-only.
func (h *Handler) alterableTopic(resourceType kmsg.ConfigResourceType, name string) (*topics.Topic, *codedError) {
	if resourceType != resourceTopic {
		return nil, &codedError{kerr.InvalidRequest.Code, "only topic configs can be altered"}
	}
	t := h.env.Topics.Get(name)
	if t == nil {
		return nil, &codedError{kerr.UnknownTopicOrPartition.Code, "unknown topic " + name}
	}
	return t, nil
}
