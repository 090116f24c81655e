package launcher

import "os"

func pid() int { return os.Getpid() }
