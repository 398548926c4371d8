package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func frame(body []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

func TestReadFrameBounds(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"oversized", binary.BigEndian.AppendUint32(nil, 101<<20), ErrFrameTooLarge},
		{"negative", binary.BigEndian.AppendUint32(nil, 0xFFFFFFFF), ErrFrameLength},
		{"too small", frame([]byte{1, 2, 3}), ErrFrameLength},
		{"truncated", binary.BigEndian.AppendUint32(nil, 20), io.ErrUnexpectedEOF},
		{"empty", nil, io.EOF},
	} {
		if _, err := ReadFrame(bytes.NewReader(tc.in), nil, DefaultMaxFrameBytes); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestHeaderRoundTrip(t *testing.T) {
	req := kmsg.NewPtrMetadataRequest()
	req.Version = 12
	client := "c1"
	body := []byte{0, 3, 0, 12, 0, 0, 0, 42, 0, 2, 'c', '1', 0}
	body = req.AppendTo(body)
	f, err := ReadFrame(bytes.NewReader(frame(body)), nil, DefaultMaxFrameBytes)
	if err != nil {
		t.Fatal(err)
	}
	h, err := ParseRequestHeader(f)
	if err != nil || h.Key != 3 || h.Version != 12 || h.CorrelationID != 42 || *h.ClientID != client {
		t.Fatalf("header %+v %v", h, err)
	}
	got := kmsg.NewPtrMetadataRequest()
	got.SetVersion(12)
	if err := h.SkipHeaderTags(got); err != nil {
		t.Fatal(err)
	}
	if err := got.ReadFrom(h.Body); err != nil {
		t.Fatalf("body after header: %v", err)
	}
}

// FuzzFrame feeds arbitrary bytes to the frame reader and the header
// parser: no panic, never more consumed than given, and a frame's body is
// exactly what its length says.
func FuzzFrame(f *testing.F) {
	f.Add([]byte{})
	f.Add(binary.BigEndian.AppendUint32(nil, 0xFFFFFFFF))
	f.Add(frame([]byte{0, 18, 0, 3, 0, 0, 0, 1, 0xff, 0xff, 0}))
	f.Add(append(frame([]byte{0, 3, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}), "garbage"...))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bytes.NewReader(in)
		body, err := ReadFrame(r, nil, 1<<16)
		if err != nil {
			return
		}
		if len(body)+4 > len(in) || int(binary.BigEndian.Uint32(in)) != len(body) {
			t.Fatalf("frame of %d bytes from %d input bytes", len(body), len(in))
		}
		h, err := ParseRequestHeader(body)
		if err != nil {
			return
		}
		if req := kmsg.RequestForKey(h.Key); req != nil && h.Version >= 0 && h.Version <= req.MaxVersion() {
			req.SetVersion(h.Version)
			if h.SkipHeaderTags(req) == nil {
				_ = req.ReadFrom(h.Body)
			}
		}
	})
}
