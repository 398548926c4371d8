package producerstate

// DefaultExpirationMs is Kafka's default producer.id.expiration.ms (one day).
const DefaultExpirationMs int64 = 86_400_000

// Config holds the partition's producer-state settings.
type Config struct {
	// ExpirationMs is producer.id.expiration.ms: a producer idle this long or
	// longer (by the timestamp of its last batch vs now) is forgotten by Expire.
	// Zero or negative means DefaultExpirationMs.
	ExpirationMs int64
}

// expirationMs resolves the default so the rest of the package never sees 0.
func (c Config) expirationMs() int64 {
	if c.ExpirationMs <= 0 {
		return DefaultExpirationMs
	}
	return c.ExpirationMs
}
