package faultproxy

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/wire"
)

// Decoding what a drop swallowed: a checker needs to know which records
// were stored although their producer never heard so.

// ProduceKey is the Produce request's API key.
const ProduceKey int16 = 0

// DecodeProduceRequest decodes a Produce request frame (without its length
// prefix).
func DecodeProduceRequest(frame []byte) (*kmsg.ProduceRequest, error) {
	h, err := wire.ParseRequestHeader(frame)
	if err != nil {
		return nil, err
	}
	if h.Key != ProduceKey {
		return nil, fmt.Errorf("faultproxy: api key %d is not Produce", h.Key)
	}
	req := kmsg.NewPtrProduceRequest()
	req.Version = h.Version
	if err := h.SkipHeaderTags(req); err != nil {
		return nil, err
	}
	if err := req.ReadFrom(h.Body); err != nil {
		return nil, err
	}
	return req, nil
}

// DecodeProduceResponse decodes a Produce response frame (without its
// length prefix) of request version v: correlation id, the header's
// tagged fields when flexible, then the body.
func DecodeProduceResponse(frame []byte, v int16) (*kmsg.ProduceResponse, error) {
	resp := kmsg.NewPtrProduceResponse()
	resp.Version = v
	r := kbin.Reader{Src: frame[4:]}
	if resp.IsFlexible() {
		kmsg.SkipTags(&r)
	}
	if !r.Ok() {
		return nil, errors.New("faultproxy: bad response header")
	}
	if err := resp.ReadFrom(r.Src); err != nil {
		return nil, err
	}
	return resp, nil
}

// produceWantsResponse reports whether a Produce request frame expects an
// answer: with acks=0 the broker sends none. A frame that does not decode
// is assumed to want one; the broker will close the connection on it.
func produceWantsResponse(frame []byte) bool {
	h, err := wire.ParseRequestHeader(frame)
	if err != nil {
		return true
	}
	req := kmsg.NewPtrProduceRequest()
	req.Version = h.Version
	if err := h.SkipHeaderTags(req); err != nil {
		return true
	}
	// The body opens with the transactional id, then acks.
	r := kbin.Reader{Src: h.Body}
	if req.IsFlexible() {
		r.CompactNullableString()
	} else {
		r.NullableString()
	}
	acks := r.Int16()
	return !r.Ok() || acks != 0
}

// Batch is one record batch inside a Produce request.
type Batch struct {
	Topic        string
	Partition    int32
	ProducerID   int64
	BaseSequence int32
	Values       [][]byte // only for uncompressed batches; nil otherwise
	NumRecords   int
}

// ProduceBatches lists the record batches in a Produce request, with
// their values when they are uncompressed.
func ProduceBatches(req *kmsg.ProduceRequest) ([]Batch, error) {
	var out []Batch
	for _, tp := range req.Topics {
		for _, pp := range tp.Partitions {
			recs := pp.Records
			for len(recs) > 0 {
				var rb kmsg.RecordBatch
				if err := rb.ReadFrom(recs); err != nil {
					return nil, err
				}
				recs = recs[12+int(rb.Length):]
				b := Batch{Topic: tp.Topic, Partition: pp.Partition, ProducerID: rb.ProducerID,
					BaseSequence: rb.FirstSequence, NumRecords: int(rb.NumRecords)}
				if rb.Attributes&0x07 == 0 {
					vals, err := recordValues(rb.Records, int(rb.NumRecords))
					if err != nil {
						return nil, err
					}
					b.Values = vals
				}
				out = append(out, b)
			}
		}
	}
	return out, nil
}

func recordValues(raw []byte, n int) ([][]byte, error) {
	var vals [][]byte
	for range n {
		l, sz := binary.Varint(raw)
		if sz <= 0 || l < 0 || int64(len(raw)-sz) < l {
			return nil, errors.New("faultproxy: bad record length")
		}
		var r kmsg.Record
		if err := r.ReadFrom(raw[:sz+int(l)]); err != nil {
			return nil, err
		}
		vals = append(vals, r.Value)
		raw = raw[sz+int(l):]
	}
	return vals, nil
}

// StoredProduce checks that the broker accepted every batch of a dropped
// Produce request (so the data is stored and only the acknowledgement was
// lost) and returns its batches.
func StoredProduce(d Drop) ([]Batch, error) {
	req, err := DecodeProduceRequest(d.Request)
	if err != nil {
		return nil, fmt.Errorf("decode dropped produce request: %w", err)
	}
	resp, err := DecodeProduceResponse(d.Response, d.Req.Version)
	if err != nil {
		return nil, fmt.Errorf("decode dropped produce response: %w", err)
	}
	for _, tp := range resp.Topics {
		for _, pp := range tp.Partitions {
			if pp.ErrorCode != 0 {
				return nil, fmt.Errorf("the dropped produce (v%d) was refused by the broker: %s/%d error %d", d.Req.Version, tp.Topic, pp.Partition, pp.ErrorCode)
			}
		}
	}
	bs, err := ProduceBatches(req)
	if err != nil {
		return nil, fmt.Errorf("decode dropped batches: %w", err)
	}
	if len(bs) == 0 {
		return nil, errors.New("the dropped produce request held no batch")
	}
	return bs, nil
}
