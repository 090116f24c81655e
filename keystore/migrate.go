package keystore

import (
	"errors"

	"github.com/zalando/go-keyring"
)

// migrating keeps items in native and moves an item it finds only in legacy
// into native, once. On macOS native is the Security framework (items whose
// access list names the signed heidi-tray app) and legacy is what older
// versions wrote through go-keyring's /usr/bin/security, which that tool
// can read (and delete) without a prompt. Native items live under another
// service name (rename), so a query for one never matches, and prompts for,
// an old item. Platform-neutral, so the moves are tested everywhere.
type migrating struct {
	native, legacy Backend
	rename         func(service string) string
}

func (m migrating) Get(s, u string) (string, error) {
	v, err := m.native.Get(m.rename(s), u)
	if !errors.Is(err, keyring.ErrNotFound) {
		return v, err
	}
	old, lerr := m.legacy.Get(s, u)
	if errors.Is(lerr, keyring.ErrNotFound) {
		return "", err
	}
	if lerr != nil {
		return "", lerr
	}
	// Copy first, delete after: a failure on the way loses nothing (the
	// old item is used, and the move tried again, next time).
	if m.native.Set(m.rename(s), u, old) == nil {
		_ = m.legacy.Delete(s, u)
	}
	return old, nil
}

// Set writes the native item and removes an old copy, so a replaced key
// does not linger where any process of the user can read it.
func (m migrating) Set(s, u, p string) error {
	if err := m.native.Set(m.rename(s), u, p); err != nil {
		return err
	}
	_ = m.legacy.Delete(s, u)
	return nil
}

// Delete removes both; ErrNotFound only when neither existed.
func (m migrating) Delete(s, u string) error {
	nerr := m.native.Delete(m.rename(s), u)
	lerr := m.legacy.Delete(s, u)
	switch {
	case nerr != nil && !errors.Is(nerr, keyring.ErrNotFound):
		return nerr
	case lerr != nil && !errors.Is(lerr, keyring.ErrNotFound):
		return lerr
	case nerr != nil && lerr != nil:
		return keyring.ErrNotFound
	}
	return nil
}
