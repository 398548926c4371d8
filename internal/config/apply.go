package config

import (
	"log/slog"
	"strconv"

	"sluice/internal/broker"
	"sluice/internal/handler"
)

// Broker returns the broker.Config the settings make. Logger is left for
// the caller (see LogLevel).
func (c *Config) Broker() broker.Config {
	var bc broker.Config
	for _, s := range settings {
		if s.apply != nil {
			s.apply(&bc, c.values[s.Name].Value)
		}
	}
	bc.Listeners, _ = c.listeners() // Load checked them
	bc.TopicDefaults = c.topicDefaults()
	for _, v := range c.Values() {
		bs := handler.BrokerConfig{Name: v.Setting.Name, Default: v.Source.Origin == FromDefault}
		if v.Value != "" {
			bs.Value = &v.Value
		}
		bc.Settings = append(bc.Settings, bs)
	}
	return bc
}

// LogLevel is the level of the broker's own log.
func (c *Config) LogLevel() slog.Level {
	var l slog.Level
	_ = l.UnmarshalText([]byte(c.values["log.level"].Value)) // checked: one of four names
	return l
}

// topicDefaults are the broker-wide defaults of topic configs that a source
// set. Defaults nobody set stay out, so that a topic's config reports them
// as Kafka's defaults, and the ones set as the broker's
// (DescribeConfigs' DEFAULT_CONFIG and STATIC_BROKER_CONFIG). Where
// settings in several units default one config (log.retention.ms,
// .minutes, .hours), the finest one set wins, as in Kafka.
func (c *Config) topicDefaults() map[string]string {
	out := map[string]string{}
	scale := map[string]int64{} // of the setting that gave out[topic]
	for _, s := range settings {
		v := c.values[s.Name]
		if s.topic == "" || v.Source.Origin == FromDefault || v.Value == "" {
			continue
		}
		if have, ok := scale[s.topic]; ok && have < s.scale {
			continue
		}
		n := v.Value
		if s.scale != 1 {
			n = strconv.FormatInt(num(n)*s.scale, 10)
			if num(v.Value) < 0 {
				n = "-1" // any negative retention is unlimited
			}
		}
		out[s.topic], scale[s.topic] = n, s.scale
	}
	return out
}
