package notify

import "os/exec"

func send(title, body string) error { return run(macNotification(title, body)) }

func hideWindow(*exec.Cmd) {}
