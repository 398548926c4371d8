package commitlog

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// File name suffixes of a segment's files.
const (
	logSuffix       = ".log"
	indexSuffix     = ".index"
	timeIndexSuffix = ".timeindex"
	tmpSuffix       = ".tmp" // index files being written; see writeIndexFile
)

const baseDigits = 20

// fileName is the name of a segment's file: the base offset zero-padded to
// 20 digits, so that a sorted directory listing is in offset order.
func fileName(base int64, suffix string) string {
	return fmt.Sprintf("%020d%s", base, suffix)
}

func (l *Log) path(base int64, suffix string) string {
	return filepath.Join(l.dir, fileName(base, suffix))
}

// parseName splits a segment file name into base offset and suffix.
func parseName(name string) (base int64, suffix string, ok bool) {
	dot := strings.IndexByte(name, '.')
	if dot != baseDigits {
		return 0, "", false
	}
	digits, suffix := name[:dot], name[dot:]
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, "", false
		}
	}
	base, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, "", false
	}
	return base, suffix, true
}
