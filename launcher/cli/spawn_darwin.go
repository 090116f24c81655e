package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// spawnTray starts the tray: through LaunchServices when this is the app
// bundle (spawn_mac.go), else detached like on Linux. A tray started by
// LaunchServices does not inherit this process's environment.
func spawnTray(env Env) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	argv, viaLS := macSpawnArgv(exe)
	if viaLS {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		var stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("open -a %s: %w (%s)", argv[3], err, strings.TrimSpace(stderr.String()))
		}
		return nil
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env.Environ
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait()
	return nil
}
