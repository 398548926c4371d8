package metadata

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
)

// The catalog file is a file header followed by frames, one per record:
//
//	header  8 bytes   "SLCAT\x00\x00\x02" (format 2)
//	frame   4 bytes   payload length, big endian
//	        4 bytes   CRC-32C of the payload
//	        4 bytes   CRC-32C of the 8 bytes before it
//	        n bytes   payload: the record as JSON
//
// The header CRC is what lets recovery tell a torn tail from corruption.
// Every frame but the last was fsynced before the next was written, so only
// the last frame can be torn, and a torn frame is a prefix of a valid one:
// its header checks out and its length runs past the end of the file. A
// frame whose header does not check out, or that is complete but fails its
// CRC, decoding, version or apply check, was damaged after it was written,
// and nothing about it proves that it was never acknowledged.
//
// Format 1 (the files of earlier versions) had no file header and no
// header CRC; it is read, and rewritten as format 2, at start.
const (
	fileMagic       = "SLCAT\x00\x00\x02"
	frameHeaderSize = 12
	v1HeaderSize    = 8

	// maxRecordBytes bounds one record's payload. Commit refuses larger
	// records, so a longer length field is damage, never a record.
	maxRecordBytes = 1 << 20
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// appendFrame appends r's frame to dst.
func appendFrame(dst []byte, r Record) ([]byte, error) {
	payload, err := json.Marshal(r)
	if err != nil {
		return dst, err
	}
	if len(payload) > maxRecordBytes {
		return dst, fmt.Errorf("metadata: catalog record of %d bytes exceeds the %d-byte limit", len(payload), maxRecordBytes)
	}
	var h [frameHeaderSize]byte
	binary.BigEndian.PutUint32(h[0:], uint32(len(payload)))
	binary.BigEndian.PutUint32(h[4:], crc32.Checksum(payload, crcTable))
	binary.BigEndian.PutUint32(h[8:], crc32.Checksum(h[:8], crcTable))
	return append(append(dst, h[:]...), payload...), nil
}

// tornError says that the bytes from an offset to the end of the file are
// an unfinished write: they may be cut.
type tornError struct{ reason string }

func (e *tornError) Error() string { return e.reason }

// decodeFrame decodes the frame at the start of b, the rest of the file.
// It returns the record and the frame's size; a *tornError when b is an
// unfinished write; any other error when b is damaged.
func decodeFrame(b []byte) (Record, int, error) {
	var r Record
	if len(b) < frameHeaderSize {
		return r, 0, &tornError{fmt.Sprintf("%d bytes at the end of the file, shorter than a frame header", len(b))}
	}
	if crc32.Checksum(b[:8], crcTable) != binary.BigEndian.Uint32(b[8:]) {
		if isZero(b) {
			return r, 0, &tornError{fmt.Sprintf("%d zero bytes at the end of the file", len(b))}
		}
		return r, 0, errors.New("frame header CRC mismatch")
	}
	n := int(binary.BigEndian.Uint32(b))
	if n > maxRecordBytes {
		return r, 0, fmt.Errorf("frame length %d exceeds the %d-byte record limit", n, maxRecordBytes)
	}
	if n > len(b)-frameHeaderSize {
		return r, 0, &tornError{fmt.Sprintf("frame of %d bytes runs %d bytes past the end of the file", n, n-(len(b)-frameHeaderSize))}
	}
	payload := b[frameHeaderSize : frameHeaderSize+n]
	if crc32.Checksum(payload, crcTable) != binary.BigEndian.Uint32(b[4:]) {
		return r, 0, errors.New("record CRC mismatch")
	}
	if err := decodePayload(payload, &r); err != nil {
		return r, 0, err
	}
	return r, frameHeaderSize + n, nil
}

// decodeFrameV1 decodes a format-1 frame (length, CRC, payload). Without a
// header CRC a torn frame cannot be told from a damaged length field, so
// only a header cut short or a length within the record limit that runs
// past the end counts as torn.
func decodeFrameV1(b []byte) (Record, int, error) {
	var r Record
	if len(b) < v1HeaderSize {
		return r, 0, &tornError{fmt.Sprintf("%d bytes at the end of the file, shorter than a frame header", len(b))}
	}
	n := int(binary.BigEndian.Uint32(b))
	if n > maxRecordBytes {
		return r, 0, fmt.Errorf("frame length %d exceeds the %d-byte record limit", n, maxRecordBytes)
	}
	if n > len(b)-v1HeaderSize {
		return r, 0, &tornError{fmt.Sprintf("frame of %d bytes runs %d bytes past the end of the file", n, n-(len(b)-v1HeaderSize))}
	}
	payload := b[v1HeaderSize : v1HeaderSize+n]
	if crc32.Checksum(payload, crcTable) != binary.BigEndian.Uint32(b[4:]) {
		return r, 0, errors.New("record CRC mismatch")
	}
	if err := decodePayload(payload, &r); err != nil {
		return r, 0, err
	}
	return r, v1HeaderSize + n, nil
}

// decodePayload decodes a record strictly: unknown fields mean a record
// this binary does not understand.
func decodePayload(payload []byte, r *Record) error {
	var v struct {
		Version int `json:"v"`
	}
	if err := json.Unmarshal(payload, &v); err != nil {
		return fmt.Errorf("record does not decode: %v", err)
	}
	if v.Version > recordVersion {
		return fmt.Errorf("record version %d is newer than this binary's %d: a newer Sluice wrote this catalog, and downgrading is not supported", v.Version, recordVersion)
	}
	d := json.NewDecoder(bytes.NewReader(payload))
	d.DisallowUnknownFields()
	if err := d.Decode(r); err != nil {
		return fmt.Errorf("record does not decode: %v", err)
	}
	if d.More() {
		return errors.New("record does not decode: data after the record")
	}
	return nil
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// scanResult is what a pass over the catalog file found.
type scanResult struct {
	legacy bool  // format 1
	end    int64 // bytes of whole, applied frames (and the file header)
	frames int   // how many were applied
	torn   error // non-nil: the bytes from end on are an unfinished write
}

// CorruptError says why the catalog cannot be trusted: the file, the byte
// offset of the frame that failed, and the reason.
type CorruptError struct {
	File   string
	Offset int64
	Reason string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("catalog %s is damaged at byte offset %d: %s", e.File, e.Offset, e.Reason)
}

// scan decodes the frames of a catalog file and calls apply for each in
// order. It stops at a torn tail (reported in the result) or returns a
// *CorruptError for damage, a record apply refuses included.
func scan(name string, b []byte, apply func(Record) error) (scanResult, error) {
	res := scanResult{legacy: !bytes.HasPrefix(b, []byte(fileMagic))}
	decode := decodeFrameV1
	if !res.legacy {
		decode, res.end = decodeFrame, int64(len(fileMagic))
	} else if len(b) > 0 && len(b) < len(fileMagic) && bytes.HasPrefix([]byte(fileMagic), b) {
		// A new file whose header write was torn.
		res.legacy, res.torn = false, &tornError{"file header cut short"}
		return res, nil
	}
	for res.end < int64(len(b)) {
		r, n, err := decode(b[res.end:])
		if err == nil {
			err = apply(r)
		}
		var torn *tornError
		switch {
		case errors.As(err, &torn):
			res.torn = torn
			return res, nil
		case err != nil:
			return res, &CorruptError{File: name, Offset: res.end, Reason: err.Error()}
		}
		res.end += int64(n)
		res.frames++
	}
	return res, nil
}
