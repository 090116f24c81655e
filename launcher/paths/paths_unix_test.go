//go:build !windows

package paths

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/heidi-tray/heidi-tray/launcher/testrig"
)

// Another user creating /tmp/heidi-tray-<uid> first cannot stop the tray:
// it (and its clients) move to the user's own cache directory.
func TestRuntimeDirCannotBeBlockedByAnotherUser(t *testing.T) {
	other := testrig.NewOtherUser(t)
	tmp := t.TempDir()
	os.Chmod(tmp, 0o1777) // a shared temp dir, like /tmp
	t.Setenv("TMPDIR", tmp)
	t.Setenv("XDG_RUNTIME_DIR", "")
	cache := filepath.Join(t.TempDir(), "cache")
	t.Setenv("XDG_CACHE_HOME", cache)

	squatted := filepath.Join(tmp, "heidi-tray-"+strconv.Itoa(os.Getuid()))
	if err := os.Mkdir(squatted, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(squatted, other.UID, other.GID); err != nil {
		t.Fatal(err)
	}
	dir, err := RuntimeDir()
	if err != nil {
		t.Fatalf("RuntimeDir with the temp dir taken: %v", err)
	}
	if dir != filepath.Join(cache, "heidi-tray", "run") {
		t.Fatalf("RuntimeDir = %s, want the cache fallback", dir)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("fallback dir: %v %v", fi, err)
	}
	// Without a squatter, the temp dir is used (and made private).
	os.Remove(squatted)
	if dir, err := RuntimeDir(); err != nil || dir != squatted {
		t.Fatalf("RuntimeDir = %s, %v; want %s", dir, err, squatted)
	}
}
