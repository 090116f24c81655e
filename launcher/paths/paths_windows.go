//go:build windows

package paths

// RuntimeDir on Windows holds only the lock-free state; IPC is a named pipe.
func RuntimeDir() (string, error) {
	s, err := StateDir()
	if err != nil {
		return "", err
	}
	return s, EnsurePrivateDir(s)
}

// checkPrivate: %LocalAppData% is already private to the user.
func checkPrivate(string) error { return nil }
