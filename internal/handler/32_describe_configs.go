package handler

// DescribeConfigs, v1-4.
//
// Topic resources list every topic config Sluice knows with its effective
// value and source (topic override, broker setting or default); a null
// name list means all keys. Broker resources (by this broker's id, or an
// empty name) list the broker's own read-only settings: those it was
// started with (DEFAULT_CONFIG where nobody set one, else
// STATIC_BROKER_CONFIG), and broker.id. v1 adds sources and
// synonyms; v3 config types and documentation (none given).

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/acl"
)

func init() { register(32, 1, 4, describeConfigs) }

const (
	resourceTopic  = 2
	resourceBroker = 4
)

func describeConfigs(h *Handler, ctx context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.DescribeConfigsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeConfigsResponse)
	for _, rr := range req.Resources {
		sr := kmsg.NewDescribeConfigsResponseResource()
		sr.ResourceType, sr.ResourceName = rr.ResourceType, rr.ResourceName
		if code := h.configDenied(ctx, acl.OpDescribeConfigs, int8(rr.ResourceType), rr.ResourceName); code != 0 {
			sr.ErrorCode = code
			resp.Resources = append(resp.Resources, sr)
			continue
		}
		switch kmsg.ConfigResourceType(rr.ResourceType) {
		case resourceTopic:
			h.describeTopicConfigs(rr, &sr)
		case resourceBroker:
			h.describeBrokerConfigs(rr, &sr)
		default:
			sr.ErrorCode = kerr.InvalidRequest.Code
		}
		resp.Resources = append(resp.Resources, sr)
	}
	return ready(resp)
}

func (h *Handler) describeTopicConfigs(rr kmsg.DescribeConfigsRequestResource, sr *kmsg.DescribeConfigsResponseResource) {
	t := h.env.Topics.Get(rr.ResourceName)
	if t == nil {
		sr.ErrorCode = kerr.UnknownTopicOrPartition.Code
		return
	}
	for _, e := range h.env.Topics.EffectiveConfig(t) {
		if rr.ConfigNames != nil && !slices.Contains(rr.ConfigNames, e.Name) {
			continue
		}
		c := kmsg.NewDescribeConfigsResponseResourceConfig()
		v := e.Value
		c.Name, c.Value, c.Source = e.Name, &v, kmsg.ConfigSource(configSource(e.Source))
		c.IsDefault = c.Source == kmsg.ConfigSourceDefaultConfig
		sr.Configs = append(sr.Configs, c)
	}
}

func (h *Handler) describeBrokerConfigs(rr kmsg.DescribeConfigsRequestResource, sr *kmsg.DescribeConfigsResponseResource) {
	self := strconv.Itoa(int(h.env.Cluster.Self().ID)) // a broker describes its own settings
	if rr.ResourceName != "" && rr.ResourceName != self {
		sr.ErrorCode = kerr.InvalidRequest.Code
		return
	}
	for _, s := range h.brokerConfigs(self) {
		if rr.ConfigNames != nil && !slices.Contains(rr.ConfigNames, s.Name) {
			continue
		}
		c := kmsg.NewDescribeConfigsResponseResourceConfig()
		c.Name, c.Value, c.ReadOnly, c.Source = s.Name, s.Value, true, kmsg.ConfigSourceStaticBrokerConfig
		if s.Default {
			c.Source, c.IsDefault = kmsg.ConfigSourceDefaultConfig, true
		}
		sr.Configs = append(sr.Configs, c)
	}
}

// brokerConfigs are the settings the broker was given, sorted by name,
// with broker.id (Kafka's older name of node.id), which tools ask for.
func (h *Handler) brokerConfigs(self string) []BrokerConfig {
	known := []BrokerConfig{
		{Name: "auto.create.topics.enable", Value: kmsg.StringPtr(strconv.FormatBool(h.env.AutoCreateTopics))},
		{Name: "broker.id", Value: kmsg.StringPtr(self)},
		{Name: "default.replication.factor", Value: kmsg.StringPtr("1")},
		{Name: "num.partitions", Value: kmsg.StringPtr(strconv.Itoa(int(h.env.Topics.DefaultPartitions())))},
	}
	if h.env.BrokerConfigs == nil {
		return known
	}
	out := slices.Clone(h.env.BrokerConfigs)
	for _, k := range known {
		if !slices.ContainsFunc(out, func(c BrokerConfig) bool { return c.Name == k.Name }) {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, func(a, b BrokerConfig) int { return strings.Compare(a.Name, b.Name) })
	return out
}
