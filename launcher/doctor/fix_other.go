//go:build windows || darwin

package doctor

func keychainFix() string {
	return "sign in to the desktop as this user; the OS keychain must be unlocked"
}
