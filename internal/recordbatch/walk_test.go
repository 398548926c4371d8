package recordbatch

import (
	"encoding/binary"
	"math"
	"testing"
)

// varintAt reads exactly what encoding/binary reads, and refuses what it
// refuses: cut-off varints and ones over 64 bits.
func TestVarintAtMatchesBinary(t *testing.T) {
	inputs := [][]byte{{}, {0x80}, {0xff, 0xff}, {0x01}, {0x7f}, {0x80, 0x01},
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02},
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}}
	for _, v := range []int64{0, -1, 1, 63, -64, 64, 300, -300, math.MaxInt64, math.MinInt64} {
		inputs = append(inputs, binary.AppendVarint(nil, v))
	}
	for _, in := range inputs {
		want, n := binary.Varint(in)
		got, p := varintAt(in, 0)
		if (n <= 0) != (p < 0) || (n > 0 && (got != want || p != n)) {
			t.Errorf("% x: varintAt = %d, %d; binary.Varint = %d, %d", in, got, p, want, n)
		}
	}
}
