package keystore

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// Windows Credential Manager through go-keyring's wincred backend.
func TestCredentialManagerRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := OS().WithService("heidi-tray-test")
	const key = "hk_win_0123456789abcdefWXYZ"
	if err := s.SetAPIKey(ctx, "US", NewAPIKey(key)); err != nil {
		t.Fatal(err)
	}
	got, err := s.APIKey(ctx, "US")
	if err != nil || got.Reveal() != key {
		t.Fatalf("%v %q", err, got.Reveal())
	}
	st, err := s.Status(ctx, []string{"AU", "EU", "UK", "US", "CA"})
	if err != nil || len(st) != 1 || st[0].Masked != "****WXYZ" {
		t.Fatalf("status %+v %v", st, err)
	}
	// The 2048-byte bound fits Credential Manager's 2560-byte blob.
	long := strings.Repeat("k", MaxKeyLen)
	if err := s.SetAPIKey(ctx, "CA", NewAPIKey(long)); err != nil {
		t.Fatalf("a %d-byte key: %v", MaxKeyLen, err)
	}
	if got, _ := s.APIKey(ctx, "CA"); got.Reveal() != long {
		t.Fatal("long key did not round-trip")
	}
	if err := s.SetAPIKey(ctx, "CA", NewAPIKey(long+"k")); err == nil {
		t.Fatal("a key over the bound was accepted")
	}
	for _, r := range []string{"US", "CA"} {
		if err := s.DeleteAPIKey(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.APIKey(ctx, "US"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}
