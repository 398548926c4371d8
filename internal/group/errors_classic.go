package group

// errNone is Kafka's NONE error code; the others come from kerr.
const errNone int16 = 0
