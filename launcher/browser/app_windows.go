package browser

import (
	"os"
	"os/exec"
	"path/filepath"
)

// appCommand finds Edge (present on every supported Windows) or Chrome.
func (o *Opener) appCommand(u string) (string, []string, bool) {
	var candidates []string
	for _, env := range []string{"ProgramFiles(x86)", "ProgramFiles", "LocalAppData"} {
		if base := os.Getenv(env); base != "" {
			candidates = append(candidates,
				filepath.Join(base, `Microsoft\Edge\Application\msedge.exe`),
				filepath.Join(base, `Google\Chrome\Application\chrome.exe`))
		}
	}
	for _, p := range candidates {
		if _, err := os.Stat(p); err == nil {
			return p, []string{"--app=" + u}, true
		}
	}
	return "", nil, false
}

func detach(*exec.Cmd) {}

func openFolder(dir string) error {
	cmd := exec.Command(filepath.Join(os.Getenv("SystemRoot"), "explorer.exe"), dir)
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait()
	return nil
}
