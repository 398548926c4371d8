package wire

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ErrHeader is returned for a request header that does not decode.
var ErrHeader = errors.New("wire: malformed request header")

// ApiVersionsKey is special in the protocol: its response header never has
// tagged fields, and an unsupported version is still answered (KIP-511).
const ApiVersionsKey = 18

// RequestHeader is the decoded request header (v1, or v2 for flexible
// versions). Body is the request body after the header.
type RequestHeader struct {
	Key           int16
	Version       int16
	CorrelationID int32
	ClientID      *string
	Body          []byte
}

// ParseRequestHeader decodes the fixed part of the header: key, version,
// correlation id and client id. The tagged fields of a v2 header are not
// read here, since whether they are present depends on the request version;
// SkipHeaderTags does that once the version is known to be supported.
func ParseRequestHeader(frame []byte) (RequestHeader, error) {
	r := kbin.Reader{Src: frame}
	h := RequestHeader{
		Key:           r.Int16(),
		Version:       r.Int16(),
		CorrelationID: r.Int32(),
	}
	h.ClientID = r.NullableString()
	if !r.Ok() {
		return h, ErrHeader
	}
	h.Body = r.Src
	return h, nil
}

// SkipHeaderTags drops the header's tagged fields from Body when req, at
// the header's version, uses flexible encoding (request header v2).
func (h *RequestHeader) SkipHeaderTags(req kmsg.Request) error {
	if !req.IsFlexible() {
		return nil
	}
	r := kbin.Reader{Src: h.Body}
	kmsg.SkipTags(&r)
	if !r.Ok() {
		return ErrHeader
	}
	h.Body = r.Src
	return nil
}

// AppendResponse appends a whole response frame to dst: the length, the
// correlation id, the response header's tagged fields when the response is
// flexible (never for ApiVersions), and the body.
func AppendResponse(dst []byte, correlationID int32, resp kmsg.Response) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = kbin.AppendInt32(dst, correlationID)
	if resp.IsFlexible() && resp.Key() != ApiVersionsKey {
		dst = append(dst, 0) // no tagged fields
	}
	dst = resp.AppendTo(dst)
	n := uint32(len(dst) - start - 4)
	dst[start], dst[start+1], dst[start+2], dst[start+3] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
	return dst
}
