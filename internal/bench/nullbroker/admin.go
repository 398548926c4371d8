package nullbroker

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// api is one request the null broker answers, at the versions it speaks.
// The ranges are Sluice's (docs/architecture.md), so a client takes the
// same code paths against both.
type api struct {
	min, max int16
	fn       func(*Server, kmsg.Request) kmsg.Response
}

var apis map[int16]api

func init() {
	apis = map[int16]api{
		0:  {3, 12, (*Server).produce},
		1:  {4, 16, (*Server).fetch},
		2:  {1, 8, (*Server).listOffsets},
		3:  {1, 12, (*Server).metadata},
		18: {0, 4, (*Server).apiVersions},
		19: {2, 7, (*Server).createTopics},
		20: {1, 6, (*Server).deleteTopics},
		22: {0, 4, (*Server).initProducerID},
	}
}

func (s *Server) apiVersions(r kmsg.Request) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.ApiVersionsResponse)
	for key, a := range apis {
		k := kmsg.NewApiVersionsResponseApiKey()
		k.ApiKey, k.MinVersion, k.MaxVersion = key, a.min, a.max
		resp.ApiKeys = append(resp.ApiKeys, k)
	}
	return resp
}

// unsupportedApiVersions answers an ApiVersions newer than the broker's
// at v0, with the versions it does speak (KIP-511), as Kafka does.
func (s *Server) unsupportedApiVersions() kmsg.Response {
	req := kmsg.NewPtrApiVersionsRequest()
	resp := s.apiVersions(req).(*kmsg.ApiVersionsResponse)
	resp.ErrorCode = kerr.UnsupportedVersion.Code
	return resp
}

func (s *Server) metadata(r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.MetadataRequest)
	resp := req.ResponseKind().(*kmsg.MetadataResponse)
	b := kmsg.NewMetadataResponseBroker()
	b.NodeID, b.Host, b.Port = 0, s.state.host, s.state.port
	resp.Brokers = []kmsg.MetadataResponseBroker{b}
	resp.ControllerID = 0
	if req.Topics == nil {
		for _, t := range s.state.all() {
			resp.Topics = append(resp.Topics, topicMetadata(t, t.name))
		}
		return resp
	}
	for _, rt := range req.Topics {
		var t *topic
		name := ""
		if rt.Topic != nil {
			name = *rt.Topic
			t = s.state.topic(name)
		} else {
			t = s.state.topicByID(rt.TopicID)
		}
		resp.Topics = append(resp.Topics, topicMetadata(t, name))
	}
	return resp
}

func topicMetadata(t *topic, name string) kmsg.MetadataResponseTopic {
	mt := kmsg.NewMetadataResponseTopic()
	mt.Topic = kmsg.StringPtr(name)
	if t == nil {
		mt.ErrorCode = kerr.UnknownTopicOrPartition.Code
		return mt
	}
	mt.TopicID = t.id
	for i := range t.parts {
		p := kmsg.NewMetadataResponseTopicPartition()
		p.Partition, p.Leader, p.LeaderEpoch = int32(i), 0, 0
		p.Replicas, p.ISR = []int32{0}, []int32{0}
		mt.Partitions = append(mt.Partitions, p)
	}
	return mt
}

func (s *Server) createTopics(r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.CreateTopicsRequest)
	resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
	for _, rt := range req.Topics {
		st := kmsg.NewCreateTopicsResponseTopic()
		st.Topic, st.NumPartitions, st.ReplicationFactor = rt.Topic, rt.NumPartitions, 1
		switch {
		case rt.NumPartitions <= 0:
			st.ErrorCode = kerr.InvalidPartitions.Code
		case req.ValidateOnly:
		case !s.state.create(rt.Topic, rt.NumPartitions):
			st.ErrorCode = kerr.TopicAlreadyExists.Code
		default:
			st.TopicID = s.state.topic(rt.Topic).id
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}

func (s *Server) deleteTopics(r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.DeleteTopicsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteTopicsResponse)
	names := req.TopicNames
	for _, t := range req.Topics {
		if t.Topic != nil {
			names = append(names, *t.Topic)
		}
	}
	for _, name := range names {
		st := kmsg.NewDeleteTopicsResponseTopic()
		st.Topic = kmsg.StringPtr(name)
		if !s.state.remove(name) {
			st.ErrorCode = kerr.UnknownTopicOrPartition.Code
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}

// listOffsets answers 0 for the earliest offset and the high watermark
// for everything else: nothing is stored, so no timestamp is known.
func (s *Server) listOffsets(r kmsg.Request) kmsg.Response {
	req := r.(*kmsg.ListOffsetsRequest)
	resp := req.ResponseKind().(*kmsg.ListOffsetsResponse)
	for _, rt := range req.Topics {
		t := s.state.topic(rt.Topic)
		st := kmsg.NewListOffsetsResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewListOffsetsResponseTopicPartition()
			sp.Partition, sp.Timestamp, sp.LeaderEpoch = rp.Partition, -1, 0
			switch p := t.partition(rp.Partition); {
			case p == nil:
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			case rp.Timestamp == -2:
				sp.Offset = 0
			default:
				sp.Offset = p.hw.Load()
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}

func (s *Server) initProducerID(r kmsg.Request) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = s.state.producerIDs.Add(1), 0
	return resp
}
