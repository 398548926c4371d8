package tests

// The idempotence tests put internal/verify/faultproxy between the clients
// and the broker: it swallows the broker's response to a chosen request
// and closes the client's connection, so the client sees exactly the
// "ack lost" case of shared/seeds. These are the tests' handles on it.

import (
	"testing"
	"time"

	"sluice/internal/verify/faultproxy"
)

// Kafka API keys the tests name.
const apiProduce = faultproxy.ProduceKey

type (
	droppedResponse = faultproxy.Drop
	producedBatch   = faultproxy.Batch
)

var nthRequest = faultproxy.NthRequest

// faultProxy is a faultproxy.Proxy that fails its test on a protocol
// surprise and closes when the test ends.
type faultProxy struct {
	*faultproxy.Proxy
	t testing.TB
}

// newFaultProxy listens on 127.0.0.1:0 and forwards nowhere until
// SetTarget.
func newFaultProxy(t testing.TB) *faultProxy {
	t.Helper()
	p, err := faultproxy.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("proxy: %v", err)
		}
	})
	return &faultProxy{Proxy: p, t: t}
}

// waitDrop waits for the next dropped response.
func (p *faultProxy) waitDrop(d time.Duration) droppedResponse {
	p.t.Helper()
	select {
	case dr := <-p.Drops():
		return dr
	case <-time.After(d):
		p.t.Fatalf("the proxy dropped no response within %v (requests seen: %v)", d, p.Counts())
		return droppedResponse{}
	}
}

// storedDrop checks that the broker accepted every batch of a dropped
// Produce request (so the data is stored and only the ack was lost) and
// returns its batches.
func storedDrop(t testing.TB, d droppedResponse) []producedBatch {
	t.Helper()
	bs, err := faultproxy.StoredProduce(d)
	if err != nil {
		t.Fatal(err)
	}
	return bs
}
