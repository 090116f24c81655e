//go:build !windows

package tokenservice

import (
	"fmt"
	"os"
)

// privateFile refuses a secret file others can read: the keys must stay the
// service account's alone.
func privateFile(path string, fi os.FileInfo) error {
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%s is readable by others (mode %o); run: chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	return nil
}
