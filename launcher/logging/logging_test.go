package logging

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRotationKeepsSizeBoundedAndFilesPrivate(t *testing.T) {
	dir := t.TempDir()
	f, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	line := strings.Repeat("x", 1023) + "\n"
	for i := 0; i < (MaxSize/1024)*(MaxBackups+2); i++ { // enough for every backup and then some
		if _, err := f.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	ents, _ := os.ReadDir(dir)
	if len(ents) != MaxBackups+1 {
		t.Fatalf("%d files, want the log and %d backups", len(ents), MaxBackups)
	}
	for _, e := range ents {
		fi, _ := os.Stat(filepath.Join(dir, e.Name()))
		if fi.Size() > MaxSize {
			t.Fatalf("%s is %d bytes, over %d", e.Name(), fi.Size(), MaxSize)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Fatalf("%s is readable by others: %v", e.Name(), fi.Mode().Perm())
		}
	}
	// An existing log with loose permissions is tightened on open.
	os.Chmod(filepath.Join(dir, FileName), 0o644)
	f, _ = Open(dir)
	f.Close()
	if fi, _ := os.Stat(filepath.Join(dir, FileName)); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode().Perm())
	}
}
