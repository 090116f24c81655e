package keystore

import (
	"context"
	"errors"
	"testing"
	"time"
)

// failingSet is a native keychain that refuses writes (say, a denied prompt).
type failingSet struct{ *memory }

func (failingSet) Set(string, string, string) error { return errors.New("user canceled") }

func migratingStore(native Backend) (*Store, *memory) {
	legacy := &memory{m: map[string]string{}}
	s := &Store{backend: migrating{native: native, legacy: legacy, rename: func(s string) string { return "org.heidi-tray." + s }},
		service: Service, timeout: time.Second, check: func() error { return nil }}
	return s, legacy
}

func TestOldItemsMoveToTheNativeKeychainOnce(t *testing.T) {
	ctx := context.Background()
	native := &memory{m: map[string]string{}}
	s, legacy := migratingStore(native)
	legacy.Set(Service, apiKeyUser("AU"), "old-key-AU-0123456789")
	k, err := s.APIKey(ctx, "AU")
	if err != nil || k.Reveal() != "old-key-AU-0123456789" {
		t.Fatalf("the old key was not read: %v", err)
	}
	if v, _ := native.Get("org.heidi-tray.heidi-tray", apiKeyUser("AU")); v != "old-key-AU-0123456789" {
		t.Fatal("the old key was not copied to the native keychain")
	}
	if _, err := legacy.Get(Service, apiKeyUser("AU")); err == nil {
		t.Fatal("the old item is still where any process of the user can read it")
	}
	if k, err := s.APIKey(ctx, "AU"); err != nil || k.Reveal() != "old-key-AU-0123456789" {
		t.Fatalf("after the move: %v", err)
	}
	// Neither has it: not found, as before.
	if _, err := s.APIKey(ctx, "EU"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing key: %v", err)
	}
	// A new key replaces an old copy everywhere.
	legacy.Set(Service, apiKeyUser("UK"), "stale-UK-key")
	if err := s.SetAPIKey(ctx, "UK", NewAPIKey("new-UK-key")); err != nil {
		t.Fatal(err)
	}
	if _, err := legacy.Get(Service, apiKeyUser("UK")); err == nil {
		t.Fatal("the stale old key survived a new one")
	}
	// Delete removes both; deleting nothing is ErrNotFound.
	legacy.Set(Service, apiKeyUser("US"), "old-US-key")
	native.Set("org.heidi-tray.heidi-tray", apiKeyUser("US"), "new-US-key")
	if err := s.DeleteAPIKey(ctx, "US"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.APIKey(ctx, "US"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if err := s.DeleteAPIKey(ctx, "US"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleting nothing: %v", err)
	}
}

// A move that cannot write the native item loses nothing: the old item is
// used and kept, and the move is tried again next time.
func TestFailedMoveKeepsTheOldItem(t *testing.T) {
	s, legacy := migratingStore(failingSet{&memory{m: map[string]string{}}})
	legacy.Set(Service, launchSecretUser, "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA==")
	if _, err := s.get(context.Background(), launchSecretUser); err != nil {
		t.Fatal(err)
	}
	if _, err := legacy.Get(Service, launchSecretUser); err != nil {
		t.Fatal("the old item was deleted although the copy failed")
	}
}
