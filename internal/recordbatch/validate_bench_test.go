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
