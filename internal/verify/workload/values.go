package workload

import (
	"fmt"
	"hash/fnv"
)

// Values are unique per record a run sends: "p<process>-<n>", and a
// replacement process has a new id. Keys cycle through a few dozen names
// so that each partition holds records of several keys; a key's
// partition is its hash, as a default partitioner would choose (FNV-1a,
// not Kafka's murmur2: only stability matters). The workload picks the
// partition itself so that a send's partition is known even when the
// send fails before the client would have chosen one.
const keys = 48

func valueOf(proc, n int) string { return fmt.Sprintf("p%d-%d", proc, n) }

func keyOf(n int) string { return fmt.Sprintf("k%d", n%keys) }

func partitionOf(key string, partitions int32) int32 {
	h := fnv.New32a()
	h.Write([]byte(key))
	return int32(h.Sum32() % uint32(partitions))
}
