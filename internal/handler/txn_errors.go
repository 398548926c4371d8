package handler

import "github.com/twmb/franz-go/pkg/kerr"

// txnErrorCode is the code of a transaction coordinator error for a
// request version. PRODUCER_FENCED (KIP-588) is answered as
// INVALID_PRODUCER_EPOCH to versions below fencedSince, the first version
// whose clients know it, as Kafka does.
func txnErrorCode(err *kerr.Error, version, fencedSince int16) int16 {
	if err == nil {
		return 0
	}
	if err == kerr.ProducerFenced && version < fencedSince {
		return kerr.InvalidProducerEpoch.Code
	}
	return err.Code
}
