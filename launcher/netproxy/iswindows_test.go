package netproxy

import "runtime"

var isWindows = runtime.GOOS == "windows"
