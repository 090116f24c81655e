//go:build darwin && cgo

package keystore

import (
	"errors"
	"fmt"

	"github.com/keybase/go-keychain"
	"github.com/zalando/go-keyring"
)

// osBackend: the Security framework, with a one-time move of items older
// versions wrote through /usr/bin/security (migrate.go).
func osBackend() Backend {
	return migrating{native: securityFramework{}, legacy: goKeyring{}, rename: nativeService}
}

// nativeService names native items apart from the old ones ("heidi-tray").
func nativeService(service string) string { return "org.heidi-tray." + service }

// securityFramework keeps generic passwords in the login keychain through
// SecItemAdd/SecItemCopyMatching/SecItemUpdate/SecItemDelete. An item added
// this way gets an access list naming the calling app, so another program
// of the user that asks for it makes macOS prompt. No synchronizable or
// accessibility attribute is set: on macOS either would move the item to the
// data protection keychain, which needs an entitlement this app lacks.
type securityFramework struct{}

const itemLabel = "heidi-tray"

func (securityFramework) Set(s, u, p string) error {
	err := keychain.AddItem(keychain.NewGenericPassword(s, u, itemLabel, []byte(p), ""))
	if errors.Is(err, keychain.ErrorDuplicateItem) {
		query := keychain.NewItem()
		query.SetSecClass(keychain.SecClassGenericPassword)
		query.SetService(s)
		query.SetAccount(u)
		update := keychain.NewItem()
		update.SetData([]byte(p))
		err = keychain.UpdateItem(query, update)
	}
	return securityErr(err)
}

func (securityFramework) Get(s, u string) (string, error) {
	b, err := keychain.GetGenericPassword(s, u, "", "")
	if err != nil {
		return "", securityErr(err)
	}
	if b == nil {
		return "", keyring.ErrNotFound
	}
	return string(b), nil
}

func (securityFramework) Delete(s, u string) error {
	return securityErr(keychain.DeleteGenericPasswordItem(s, u))
}

func securityErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, keychain.ErrorItemNotFound):
		return keyring.ErrNotFound
	case errors.Is(err, keychain.ErrorUserCanceled), errors.Is(err, keychain.ErrorAuthFailed):
		return fmt.Errorf("access to the keychain item was denied (%w); allow heidi-tray when macOS asks", err)
	case errors.Is(err, keychain.ErrorInteractionNotAllowed):
		return fmt.Errorf("the keychain is locked (%w)", err)
	}
	return fmt.Errorf("keychain: %w", err)
}
