//go:build !linux

package notify

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"time"
)

// run starts a notification helper and waits for it, bounded: a toast that
// cannot be shown must not hold anything up.
func run(c command) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.name, c.args...)
	cmd.Env = append(os.Environ(), c.env...)
	if c.stdin != "" {
		cmd.Stdin = strings.NewReader(c.stdin)
	}
	hideWindow(cmd)
	return cmd.Run()
}
