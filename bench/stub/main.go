// stub is the benchmark's browser: it appends the wall-clock time (unix
// nanoseconds) and the URL it was given to $BENCH_BROWSER_LOG, then exits.
package main

import (
	"fmt"
	"os"
	"time"
)

func main() {
	now := time.Now().UnixNano()
	f, err := os.OpenFile(os.Getenv("BENCH_BROWSER_LOG"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		os.Exit(1)
	}
	defer f.Close()
	url := ""
	if len(os.Args) > 1 {
		url = os.Args[len(os.Args)-1]
	}
	fmt.Fprintf(f, "%d %s\n", now, url)
}
