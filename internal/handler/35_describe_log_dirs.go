package handler

// DescribeLogDirs, v1-4.
//
// One log dir, the data dir, holding every partition; a null topic list
// means all. Sizes are the bytes of each partition's segments. v4 adds the
// file system's total and usable bytes (KIP-827).

import (
	"context"
	"syscall"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/internal/acl"
	"sluice/internal/topics"
)

func init() { register(35, 1, 4, describeLogDirs) }

func describeLogDirs(h *Handler, ctx context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.DescribeLogDirsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeLogDirsResponse)
	if !h.authorizedCluster(ctx, acl.OpDescribe) {
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code // v3+; older versions are answered with no directories
		return ready(resp)
	}
	dir := kmsg.NewDescribeLogDirsResponseDir()
	dir.Dir = h.env.DataDir
	dir.TotalBytes, dir.UsableBytes = diskSpace(h.env.DataDir)
	all := h.env.Topics.All()
	if req.Topics == nil {
		for _, t := range sortedTopics(all) {
			dir.Topics = append(dir.Topics, logDirTopic(t, nil))
		}
	} else {
		for _, rt := range req.Topics {
			if t := all[rt.Topic]; t != nil {
				dir.Topics = append(dir.Topics, logDirTopic(t, rt.Partitions))
			}
		}
	}
	resp.Dirs = append(resp.Dirs, dir)
	return ready(resp)
}

func logDirTopic(t *topics.Topic, only []int32) kmsg.DescribeLogDirsResponseDirTopic {
	st := kmsg.NewDescribeLogDirsResponseDirTopic()
	st.Topic = t.Name
	add := func(i int32) {
		if i < 0 || int(i) >= len(t.Partitions) {
			return
		}
		sp := kmsg.NewDescribeLogDirsResponseDirTopicPartition()
		sp.Partition, sp.Size = i, t.Partitions[i].Size()
		st.Partitions = append(st.Partitions, sp)
	}
	if only == nil {
		for i := range t.Partitions {
			add(int32(i))
		}
	}
	for _, i := range only {
		add(i)
	}
	return st
}

// diskSpace returns the total and usable bytes of the file system holding
// dir, or -1, -1 when they cannot be read.
func diskSpace(dir string) (int64, int64) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return -1, -1
	}
	return int64(st.Blocks) * st.Bsize, int64(st.Bavail) * st.Bsize
}
