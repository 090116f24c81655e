//go:build !windows && !darwin

package doctor

func keychainFix() string {
	return "run heidi-tray in a desktop session with a Secret Service (gnome-keyring or KeePassXC) and unlock it"
}
