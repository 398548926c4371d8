package group

import (
	"errors"
	"time"
)

// Config holds the broker settings the classic protocol obeys.
type Config struct {
	MinSessionTimeout time.Duration // group.min.session.timeout.ms; 0 => 6s
	MaxSessionTimeout time.Duration // group.max.session.timeout.ms; 0 => 30m
	// InitialRebalanceDelay is group.initial.rebalance.delay.ms. 0 means no
	// delay here (the broker passes Kafka's 3s explicitly, so tests can use
	// 0); negative is treated as 0.
	InitialRebalanceDelay time.Duration
	MaxSize               int // group.max.size; 0 => unlimited
}

const (
	defaultMinSessionTimeout = 6 * time.Second
	defaultMaxSessionTimeout = 30 * time.Minute
	// newMemberJoinTimeout bounds how long a member that has never
	// completed a join may wait in a rebalance. It cannot heartbeat yet and
	// its socket is muted while it waits, so without this bound a client that
	// disconnected and retried would leave defunct members behind (Kafka's
	// group.classic new-member join timeout, 5 minutes).
	newMemberJoinTimeout = 5 * time.Minute
)

// Validate reports settings that cannot work together.
func (c Config) Validate() error {
	if c.MinSessionTimeout < 0 || c.MaxSessionTimeout < 0 {
		return errors.New("group: session timeouts must not be negative")
	}
	if c.MaxSize < 0 {
		return errors.New("group: max size must not be negative")
	}
	d := c.withDefaults()
	if d.MinSessionTimeout > d.MaxSessionTimeout {
		return errors.New("group: min session timeout is above max session timeout")
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.MinSessionTimeout == 0 {
		c.MinSessionTimeout = defaultMinSessionTimeout
	}
	if c.MaxSessionTimeout == 0 {
		c.MaxSessionTimeout = defaultMaxSessionTimeout
	}
	if c.InitialRebalanceDelay < 0 {
		c.InitialRebalanceDelay = 0
	}
	return c
}
