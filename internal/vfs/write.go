package vfs

// WriteFile creates name (truncating it) with data and fsyncs it. The
// caller makes the name itself durable (SyncDir) when it must be.
func WriteFile(fsys FS, name string, data []byte) error {
	f, err := fsys.Create(name)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// ReplaceFile writes data under name crash-safely: to name+".tmp", synced,
// then renamed over name, so a file under the final name is always whole.
// On failure the temporary file is removed. The caller syncs the
// directory to make the rename durable.
func ReplaceFile(fsys FS, name string, data []byte) error {
	tmp := name + ".tmp"
	err := WriteFile(fsys, tmp, data)
	if err == nil {
		err = fsys.Rename(tmp, name)
	}
	if err != nil {
		fsys.Remove(tmp)
	}
	return err
}

// zeros is the source of WriteZeros; never written to.
var zeros = make([]byte, 64<<10)

// WriteZeros writes zeros to f from byte from up to byte to.
func WriteZeros(f File, from, to int64) error {
	for pos := from; pos < to; {
		n := min(int64(len(zeros)), to-pos)
		if _, err := f.WriteAt(zeros[:n], pos); err != nil {
			return err
		}
		pos += n
	}
	return nil
}
