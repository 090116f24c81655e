package tokenservice

import "os"

// privateFile: on Windows the file's ACL is the control (docs/token-service.md
// shows the icacls line); mode bits say nothing about it.
func privateFile(path string, fi os.FileInfo) error { return nil }
