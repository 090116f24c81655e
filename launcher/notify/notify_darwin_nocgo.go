//go:build darwin && !cgo

package notify

func appNotification(string, string) (bool, error) { return false, nil }
