// Package wire reads and writes Kafka frames and request/response headers.
//
// A frame is a 4-byte big-endian length followed by that many bytes. The
// length is checked against a limit before anything is allocated, so a
// garbled or hostile length costs nothing but the connection.
package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxFrameBytes is Kafka's socket.request.max.bytes default: 100 MiB.
const DefaultMaxFrameBytes = 100 << 20

// ErrFrameTooLarge is returned for a frame whose length exceeds the limit.
var ErrFrameTooLarge = errors.New("wire: frame exceeds socket.request.max.bytes")

// ErrFrameLength is returned for a negative or too-small frame length.
var ErrFrameLength = errors.New("wire: invalid frame length")

// minRequestFrame is the smallest valid request: api key, version,
// correlation id and a client id length.
const minRequestFrame = 2 + 2 + 4 + 2

// ReadFrame reads one length-prefixed frame from r into buf (grown if
// needed) and returns the frame body. It allocates only when buf is too
// small for a frame within the limit.
func ReadFrame(r io.Reader, buf []byte, maxBytes int32) ([]byte, error) {
	return ReadFrameAlloc(r, buf, maxBytes, func(n int) []byte { return make([]byte, n) })
}

// ReadFrameAlloc is ReadFrame taking the buffer for a frame larger than
// buf from alloc, which must return n bytes.
func ReadFrameAlloc(r io.Reader, buf []byte, maxBytes int32, alloc func(n int) []byte) ([]byte, error) {
	var lenBuf [4]byte
	if _, err := io.ReadFull(r, lenBuf[:]); err != nil {
		return nil, err
	}
	n := int32(binary.BigEndian.Uint32(lenBuf[:]))
	if n < minRequestFrame {
		return nil, fmt.Errorf("%w: %d", ErrFrameLength, n)
	}
	if n > maxBytes {
		return nil, fmt.Errorf("%w: %d > %d", ErrFrameTooLarge, n, maxBytes)
	}
	if cap(buf) < int(n) {
		buf = alloc(int(n))
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf, nil
}
