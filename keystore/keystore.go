// Package keystore keeps the clinic's Heidi API keys (one per region) and the
// launch secret in the OS keychain: Secret Service on Linux and Credential
// Manager on Windows through github.com/zalando/go-keyring; on macOS the
// login keychain through the Security framework (github.com/keybase/go-keychain,
// backend_darwin.go), so that an item's access list names heidi-tray.app.
//
// Every call has a timeout (a Secret Service prompt can block forever), and on
// Linux no call is made without a session bus: godbus would otherwise spawn a
// dbus-daemon as a side effect.
package keystore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/zalando/go-keyring"
)

// Service is the keychain service name all items live under.
const Service = "heidi-tray"

// MaxKeyLen bounds an API key: Windows Credential Manager stores at most 2560 bytes.
const MaxKeyLen = 2048

// ErrNotFound: no key stored for that region.
var ErrNotFound = errors.New("not found in the keychain")

// UnavailableError: the keychain cannot be used; Reason names what is missing.
type UnavailableError struct {
	Reason string
	Err    error
}

func (e *UnavailableError) Error() string {
	return "the OS keychain is not available: " + e.Reason
}
func (e *UnavailableError) Unwrap() error { return e.Err }

// Backend is the raw keychain; go-keyring in production.
type Backend interface {
	Set(service, user, password string) error
	Get(service, user string) (string, error)
	Delete(service, user string) error
}

// Store is the typed keychain API heidi-tray uses.
type Store struct {
	backend Backend
	service string
	timeout time.Duration
	check   func() error // pre-flight: is there a keychain to talk to at all?
}

// OS returns the store backed by the operating system's keychain.
func OS() *Store {
	return &Store{backend: osBackend(), service: Service, timeout: 5 * time.Second, check: precheck}
}

// Memory returns a store that keeps secrets in this process only (sandbox).
func Memory() *Store {
	return &Store{backend: &memory{m: map[string]string{}}, service: Service, timeout: time.Second, check: func() error { return nil }}
}

// WithService returns a copy that uses another service name (tests).
func (s *Store) WithService(name string) *Store { c := *s; c.service = name; return &c }

func apiKeyUser(region string) string { return "api-key-" + region }

const launchSecretUser = "launch-secret"

// checkRegion guards the keychain's account names; which regions exist is
// the Heidi client's business.
func checkRegion(r string) error {
	if len(r) < 2 || len(r) > 8 || strings.ToUpper(r) != r || strings.ContainsFunc(r, func(c rune) bool { return c < 'A' || c > 'Z' }) {
		return fmt.Errorf("%q is not a region code (two to eight capital letters)", r)
	}
	return nil
}

// ValidateKey checks an API key's form before it is stored or sent.
func ValidateKey(k string) error {
	if k == "" {
		return errors.New("the API key is empty")
	}
	if len(k) > MaxKeyLen {
		return fmt.Errorf("the API key is %d bytes; keys are at most %d bytes — check you pasted only the key", len(k), MaxKeyLen)
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return fmt.Errorf("the API key contains a character at position %d that is not printable ASCII (spaces and line breaks included); paste only the key", i+1)
		}
	}
	return nil
}

// APIKey returns the key stored for region.
func (s *Store) APIKey(ctx context.Context, region string) (APIKey, error) {
	if err := checkRegion(region); err != nil {
		return APIKey{}, err
	}
	v, err := s.get(ctx, apiKeyUser(region))
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return APIKey{}, fmt.Errorf("no Heidi API key for region %s: %w; add it with 'heidi-tray key set --region %s'", region, err, region)
		}
		return APIKey{}, err
	}
	if err := ValidateKey(v); err != nil {
		return APIKey{}, fmt.Errorf("the stored key for region %s is unusable (%v); set it again", region, err)
	}
	return NewAPIKey(v), nil
}

// SetAPIKey validates and stores the key for region.
func (s *Store) SetAPIKey(ctx context.Context, region string, key APIKey) error {
	if err := checkRegion(region); err != nil {
		return err
	}
	if err := ValidateKey(key.Reveal()); err != nil {
		return err
	}
	return s.call(ctx, func() error { return s.backend.Set(s.service, apiKeyUser(region), key.Reveal()) })
}

// DeleteAPIKey removes the key for region; ErrNotFound if there was none.
func (s *Store) DeleteAPIKey(ctx context.Context, region string) error {
	if err := checkRegion(region); err != nil {
		return err
	}
	return s.call(ctx, func() error { return s.backend.Delete(s.service, apiKeyUser(region)) })
}

// RegionKey is one line of 'key status'.
type RegionKey struct {
	Region string `json:"region"`
	Masked string `json:"masked"`
}

// Status lists which of regions have a key, masked.
func (s *Store) Status(ctx context.Context, regions []string) ([]RegionKey, error) {
	var out []RegionKey
	for _, r := range regions {
		k, err := s.get(ctx, apiKeyUser(r))
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, RegionKey{Region: r, Masked: Mask(k)})
	}
	return out, nil
}

// LaunchSecret returns the secret that signs heidi-tray:// URLs (ErrNotFound if unset).
func (s *Store) LaunchSecret(ctx context.Context) (LaunchSecret, error) {
	v, err := s.get(ctx, launchSecretUser)
	if err != nil {
		return LaunchSecret{}, err
	}
	return NewLaunchSecret([]byte(v)), nil
}

// SetLaunchSecret stores the launch secret.
func (s *Store) SetLaunchSecret(ctx context.Context, v LaunchSecret) error {
	if err := ValidateKey(string(v.Reveal())); err != nil {
		return fmt.Errorf("launch secret: %s", strings.TrimPrefix(err.Error(), "the API key "))
	}
	if len(v.Reveal()) < 16 {
		return errors.New("the launch secret must be at least 16 characters; generate one with 'openssl rand -base64 32'")
	}
	return s.call(ctx, func() error { return s.backend.Set(s.service, launchSecretUser, string(v.Reveal())) })
}

// DeleteLaunchSecret removes the launch secret.
func (s *Store) DeleteLaunchSecret(ctx context.Context) error {
	return s.call(ctx, func() error { return s.backend.Delete(s.service, launchSecretUser) })
}

// Probe checks that the keychain answers (doctor, status).
func (s *Store) Probe(ctx context.Context) error {
	_, err := s.get(ctx, "probe")
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

func (s *Store) get(ctx context.Context, user string) (string, error) {
	return callFor(ctx, s, func() (string, error) { return s.backend.Get(s.service, user) })
}

// call runs one keychain operation with the pre-flight check and a timeout.
func (s *Store) call(ctx context.Context, fn func() error) error {
	_, err := callFor(ctx, s, func() (struct{}, error) { return struct{}{}, fn() })
	return err
}

// callFor runs fn with the pre-flight check and a timeout. A call that times
// out (or whose ctx ends) is abandoned — go-keyring offers no cancellation —
// and its goroutine ends when the keychain finally answers; its result goes
// only into the channel, so nothing it writes is shared with the caller.
func callFor[T any](ctx context.Context, s *Store, fn func() (T, error)) (T, error) {
	var zero T
	if err := s.check(); err != nil {
		return zero, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() { v, err := fn(); done <- result{v, err} }()
	select {
	case r := <-done:
		return r.v, classify(r.err)
	case <-ctx.Done():
		return zero, &UnavailableError{Reason: fmt.Sprintf("the keychain did not answer within %s (is it waiting for an unlock prompt?)", s.timeout), Err: ctx.Err()}
	}
}

func classify(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, keyring.ErrNotFound) {
		return ErrNotFound
	}
	if errors.Is(err, keyring.ErrSetDataTooBig) {
		return fmt.Errorf("the keychain refused the value as too large: %w", err)
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "org.freedesktop.secrets was not provided"), strings.Contains(msg, "ServiceUnknown"):
		return &UnavailableError{Reason: "no Secret Service is running on the session bus (install and start gnome-keyring or KeePassXC's Secret Service)", Err: err}
	case strings.Contains(msg, "failed to unlock"), strings.Contains(msg, "locked"):
		return &UnavailableError{Reason: "the keyring is locked; unlock it (log in to the desktop, or open your keyring app) and try again", Err: err}
	case errors.Is(err, keyring.ErrUnsupportedPlatform):
		return &UnavailableError{Reason: "this platform has no supported keychain", Err: err}
	}
	return &UnavailableError{Reason: msg, Err: err}
}

type goKeyring struct{}

func (goKeyring) Set(s, u, p string) error        { return keyring.Set(s, u, p) }
func (goKeyring) Get(s, u string) (string, error) { return keyring.Get(s, u) }
func (goKeyring) Delete(s, u string) error        { return keyring.Delete(s, u) }

type memory struct {
	mu sync.Mutex
	m  map[string]string
}

func (m *memory) Set(s, u, p string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m[s+"\x00"+u] = p
	return nil
}
func (m *memory) Get(s, u string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.m[s+"\x00"+u]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}
func (m *memory) Delete(s, u string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.m[s+"\x00"+u]; !ok {
		return keyring.ErrNotFound
	}
	delete(m.m, s+"\x00"+u)
	return nil
}
