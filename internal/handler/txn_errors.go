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

// First request versions whose clients know TRANSACTION_ABORTABLE
// (KIP-890): the partition-side checks of a transaction answer it to these
// and INVALID_TXN_STATE to older ones, as Kafka's AddPartitionsToTxnManager
// does. Kafka's coordinator answers it only to verifications, so the other
// APIs whose versions announce it (InitProducerId v5, AddPartitionsToTxn v5,
// AddOffsetsToTxn v4, EndTxn v4) never receive it.
const (
	abortableProduceVersion         = 11
	abortableTxnOffsetCommitVersion = 4
)

// verifyErrorCode is the code of a failed check that a partition is in
// the producer's transaction (KIP-890 part 1), as a Produce or a
// TxnOffsetCommit of the given version answers it. PRODUCER_FENCED is
// INVALID_PRODUCER_EPOCH at every version: these requests have never
// answered the former, and clients abort on the latter (KIP-588).
func verifyErrorCode(err *kerr.Error, version, abortableSince int16) int16 {
	switch {
	case err == nil:
		return 0
	case err == kerr.ProducerFenced:
		return kerr.InvalidProducerEpoch.Code
	case err == kerr.TransactionAbortable && version < abortableSince:
		return kerr.InvalidTxnState.Code
	}
	return err.Code
}
