package faultproxy

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/wire"
)

// Keeping clients on the proxy. A broker tells clients where to connect
// in Metadata, FindCoordinator and DescribeCluster responses; forwarded
// as they are, they would send a client to the broker's own address
// after its first request, past every fault. A Pool rewrites each
// address in them to the proxy of that broker.

const (
	metadataKey        int16 = 3
	findCoordinatorKey int16 = 10
	describeClusterKey int16 = 60
)

// addrMapper gives the address clients should use for a broker's.
type addrMapper func(host string, port int32) (string, int32, error)

// rewriteAddrs returns frame, the response to req, with every broker
// address in it mapped by m; responses that name no broker come back
// unchanged.
func rewriteAddrs(req Request, frame []byte, m addrMapper) ([]byte, error) {
	switch req.APIKey {
	case metadataKey, findCoordinatorKey, describeClusterKey:
	default:
		return frame, nil
	}
	resp := kmsg.ResponseForKey(req.APIKey)
	resp.SetVersion(req.Version)
	r := kbin.Reader{Src: frame[4:]}
	if resp.IsFlexible() {
		kmsg.SkipTags(&r)
	}
	if !r.Ok() {
		return nil, errors.New("faultproxy: bad response header")
	}
	if err := resp.ReadFrom(r.Src); err != nil {
		return nil, fmt.Errorf("faultproxy: decode response to api %d v%d: %w", req.APIKey, req.Version, err)
	}
	if err := mapBrokers(resp, m); err != nil {
		return nil, err
	}
	corr := int32(binary.BigEndian.Uint32(frame))
	return wire.AppendResponse(nil, corr, resp)[4:], nil // the length is written by writeFrame
}

// mapBrokers maps the addresses of every broker a response names.
func mapBrokers(resp kmsg.Response, m addrMapper) error {
	var err error
	mapOne := func(host *string, port *int32) {
		if err != nil || *host == "" || *port <= 0 { // an error reply names no broker
			return
		}
		*host, *port, err = m(*host, *port)
	}
	switch resp := resp.(type) {
	case *kmsg.MetadataResponse:
		for i := range resp.Brokers {
			mapOne(&resp.Brokers[i].Host, &resp.Brokers[i].Port)
		}
	case *kmsg.FindCoordinatorResponse:
		mapOne(&resp.Host, &resp.Port) // v0-3
		for i := range resp.Coordinators {
			mapOne(&resp.Coordinators[i].Host, &resp.Coordinators[i].Port)
		}
	case *kmsg.DescribeClusterResponse:
		for i := range resp.Brokers {
			mapOne(&resp.Brokers[i].Host, &resp.Brokers[i].Port)
		}
	}
	return err
}
