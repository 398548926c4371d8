package recordbatch

import "testing"

// BenchmarkValidate100B is the produce path's check of an uncompressed
// batch of 1,000 records of 100 bytes: CRC and the walk over every record.
func BenchmarkValidate100B(b *testing.B) {
	recs := make([]Record, 1000)
	for i := range recs {
		recs[i].Value = make([]byte, 100)
	}
	batch := Build(nil, recs, 1, 0)
	b.SetBytes(int64(len(batch)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Validate(batch); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFrame is the log's own check of a batch of about 1 MiB (1,000
// records of 1 KiB) before it is written: with the CRC, as Append does,
// and without, as AppendVerified does for a batch the produce path has
// validated already.
func BenchmarkFrame(b *testing.B) {
	recs := make([]Record, 1000)
	for i := range recs {
		recs[i].Value = make([]byte, 1024)
	}
	batch := Build(nil, recs, 1, 0)
	for _, c := range []struct {
		name  string
		frame func([]byte) (Batch, error)
	}{{"crc", Frame}, {"skipping-crc", FrameSkippingCRC}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(batch)))
			for b.Loop() {
				if _, err := c.frame(batch); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
