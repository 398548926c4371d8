package handler

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"

	"sluice/internal/topics"
)

// topicErrorCode maps the topic manager's errors to Kafka codes.
func topicErrorCode(err error) int16 {
	switch {
	case errors.Is(err, topics.ErrTopicExists):
		return kerr.TopicAlreadyExists.Code
	case errors.Is(err, topics.ErrUnknownTopic):
		return kerr.UnknownTopicOrPartition.Code
	case errors.Is(err, topics.ErrInvalidTopic):
		return kerr.InvalidTopicException.Code
	case errors.Is(err, topics.ErrInvalidPartitions):
		return kerr.InvalidPartitions.Code
	case errors.Is(err, topics.ErrInvalidReplicas):
		return kerr.InvalidReplicationFactor.Code
	case errors.Is(err, topics.ErrInvalidConfig):
		return kerr.InvalidConfig.Code
	}
	return kerr.KafkaStorageError.Code
}

// codedError is an error code with the message a response carries
// beside it.
type codedError struct {
	code int16
	msg  string
}
