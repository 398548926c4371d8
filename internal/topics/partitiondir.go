package topics

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"sluice/internal/metadata"
	"sluice/internal/vfs"
)

// A partition's directory is "<topic>-<partition>" in the data dir. It
// holds a small file, partition.metadata, naming the topic id it belongs
// to: that is how start-up tells the directory of a live topic from one a
// deleted topic of the same name left behind, and it is what
// --recover-catalog re-registers a topic from.
//
// A deleted topic's directories are renamed "<dir>.<topic id>-delete"
// before the delete is answered, so a topic created again under the same
// name starts from an empty directory; only directories so marked, whose
// id the catalog records as deleted, are ever removed.
const (
	partitionMetaFile = "partition.metadata"
	deleteSuffix      = "-delete"
)

// partitionMeta is the content of partition.metadata.
type partitionMeta struct {
	Version   int              `json:"version"`
	Topic     string           `json:"topic"`
	TopicID   metadata.TopicID `json:"topic_id"`
	Partition int32            `json:"partition"`
}

func partitionDirName(topic string, i int32) string {
	return topic + "-" + strconv.Itoa(int(i))
}

// parsePartitionDir splits "<topic>-<partition>".
func parsePartitionDir(name string) (topic string, i int32, ok bool) {
	dash := strings.LastIndexByte(name, '-')
	if dash <= 0 {
		return "", 0, false
	}
	n, err := strconv.ParseInt(name[dash+1:], 10, 32)
	if err != nil || n < 0 || strconv.Itoa(int(n)) != name[dash+1:] {
		return "", 0, false
	}
	return name[:dash], int32(n), true
}

// deletionDirName is the name a deleted topic's partition directory is
// renamed to.
func deletionDirName(dir string, id metadata.TopicID) string {
	return dir + "." + id.String() + deleteSuffix
}

// parseDeletionDir returns the topic id of a directory marked for deletion.
func parseDeletionDir(name string) (metadata.TopicID, bool) {
	var id metadata.TopicID
	rest, ok := strings.CutSuffix(name, deleteSuffix)
	dot := strings.LastIndexByte(rest, '.')
	if !ok || dot < 0 || id.UnmarshalText([]byte(rest[dot+1:])) != nil {
		return id, false
	}
	return id, true
}

// readPartitionMeta reads a partition directory's metadata file; ok is
// false when there is none (a directory from before the file existed, or
// one a crash caught between its creation and the file's).
func readPartitionMeta(fsys vfs.FS, dir string) (partitionMeta, bool, error) {
	var pm partitionMeta
	f, err := fsys.Open(path.Join(dir, partitionMetaFile))
	if errors.Is(err, fs.ErrNotExist) {
		return pm, false, nil
	}
	if err != nil {
		return pm, false, err
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return pm, false, err
	}
	if size > 4096 {
		return pm, false, fmt.Errorf("%s/%s: %d bytes, not a partition metadata file", dir, partitionMetaFile, size)
	}
	buf := make([]byte, size)
	if n, err := f.ReadAt(buf, 0); n != len(buf) {
		return pm, false, fmt.Errorf("read %s/%s: %w", dir, partitionMetaFile, err)
	}
	if err := json.Unmarshal(buf, &pm); err != nil || pm.TopicID.IsZero() {
		return pm, false, fmt.Errorf("%s/%s does not decode: %v", dir, partitionMetaFile, err)
	}
	return pm, true, nil
}

// writePartitionMeta writes the metadata file crash-safely: a file under
// the final name is always whole.
func writePartitionMeta(fsys vfs.FS, dir string, pm partitionMeta) error {
	pm.Version = 1
	data, err := json.Marshal(pm)
	if err != nil {
		return err
	}
	if err := vfs.ReplaceFile(fsys, path.Join(dir, partitionMetaFile), data); err != nil {
		return err
	}
	return fsys.SyncDir(dir)
}
