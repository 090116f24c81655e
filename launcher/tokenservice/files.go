package tokenservice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/heidi-tray/heidi-tray/keystore"
	"github.com/heidi-tray/heidi-tray/launcher/heidiapi"
	"github.com/heidi-tray/heidi-tray/launcher/request"
)

// watched is a file re-read when it changes on disk, so a key or keytab is
// rotated by replacing the file: no restart, no signal. A bad new version is
// logged and the last good one kept, so a half-done edit cannot take the
// service down.
type watched[T any] struct {
	path  string
	parse func([]byte) (T, error)
	what  string

	mu      sync.Mutex
	val     T
	stamp   fileStamp
	checked time.Time
}

type fileStamp struct {
	mod  time.Time
	size int64
}

// recheck bounds how often the file is stat'ed.
var recheck = time.Second

func newWatched[T any](path, what string, parse func([]byte) (T, error)) (*watched[T], error) {
	w := &watched[T]{path: path, parse: parse, what: what}
	v, st, err := w.load()
	if err != nil {
		return nil, err
	}
	w.val, w.stamp, w.checked = v, st, time.Now()
	return w, nil
}

func (w *watched[T]) load() (T, fileStamp, error) {
	var zero T
	fi, err := os.Stat(w.path)
	if err != nil {
		return zero, fileStamp{}, fmt.Errorf("%s: %w", w.what, err)
	}
	if err := privateFile(w.path, fi); err != nil {
		return zero, fileStamp{}, fmt.Errorf("%s: %w", w.what, err)
	}
	if fi.Size() > 1<<20 {
		return zero, fileStamp{}, fmt.Errorf("%s %s is larger than 1 MiB", w.what, w.path)
	}
	b, err := os.ReadFile(w.path)
	if err != nil {
		return zero, fileStamp{}, fmt.Errorf("%s: %w", w.what, err)
	}
	v, err := w.parse(b)
	if err != nil {
		return zero, fileStamp{}, fmt.Errorf("%s %s: %w", w.what, w.path, err)
	}
	return v, fileStamp{fi.ModTime(), fi.Size()}, nil
}

// get returns the current value, re-reading the file if it changed.
func (w *watched[T]) get(log *slog.Logger) T {
	w.mu.Lock()
	defer w.mu.Unlock()
	if time.Since(w.checked) < recheck {
		return w.val
	}
	w.checked = time.Now()
	fi, err := os.Stat(w.path)
	if err != nil || (fileStamp{fi.ModTime(), fi.Size()}) == w.stamp {
		return w.val
	}
	v, st, err := w.load()
	if err != nil {
		log.Error("kept the previous version: the new one cannot be used", "file", w.what, "err", err)
		w.stamp = fileStamp{fi.ModTime(), fi.Size()} // do not log again until it changes
		return w.val
	}
	w.val, w.stamp = v, st
	log.Info("reloaded", "file", w.what, "path", w.path)
	return w.val
}

// keyFile holds the region keys: {"AU": "<key>", "UK": "<key>"}.
type keyFile struct {
	w *watched[map[string]apiKey]
}

func openKeyFile(path string) (*keyFile, error) {
	w, err := newWatched(path, "keys file", parseKeys)
	if err != nil {
		return nil, err
	}
	return &keyFile{w}, nil
}

func parseKeys(b []byte) (map[string]apiKey, error) {
	var raw map[string]string
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, errors.New(`is not JSON of the form {"AU": "<key>"}`) // the parse error could quote a key
	}
	out := map[string]apiKey{}
	for region, k := range raw {
		region = strings.ToUpper(region)
		if err := request.ValidateRegion(region); err != nil {
			return nil, err
		}
		k = strings.TrimSpace(k)
		if len(k) < 8 || len(k) > 512 || strings.ContainsFunc(k, func(r rune) bool { return r <= ' ' || r > '~' }) {
			return nil, fmt.Errorf("the key for %s is not a plausible Heidi API key", region)
		}
		out[region] = apiKey{k}
	}
	if len(out) == 0 {
		return nil, errors.New("holds no keys")
	}
	return out, nil
}

// keySource is where the region keys come from: the keys file or the
// service account's keychain.
type keySource interface {
	get(ctx context.Context, region string, log *slog.Logger) (heidiapi.APIKey, bool)
	regions(ctx context.Context, log *slog.Logger) []string
}

func (k *keyFile) get(_ context.Context, region string, log *slog.Logger) (heidiapi.APIKey, bool) {
	key, ok := k.w.get(log)[region]
	return key, ok
}

func (k *keyFile) regions(context.Context, *slog.Logger) []string {
	k.w.mu.Lock()
	defer k.w.mu.Unlock()
	var out []string
	for r := range k.w.val {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// keytabFile is the service principal's keytab; re-keying the principal and
// replacing the file makes every replica refuse tickets under the old key.
type keytabFile struct{ w *watched[*keytab.Keytab] }

func openKeytab(path string) (*keytabFile, error) {
	w, err := newWatched(path, "keytab", func(b []byte) (*keytab.Keytab, error) {
		kt := keytab.New()
		if err := kt.Unmarshal(b); err != nil {
			return nil, fmt.Errorf("is not a keytab: %w", err)
		}
		if len(kt.Entries) == 0 {
			return nil, errors.New("holds no keys")
		}
		return kt, nil
	})
	if err != nil {
		return nil, err
	}
	return &keytabFile{w}, nil
}

func (k *keytabFile) get(log *slog.Logger) *keytab.Keytab { return k.w.get(log) }

// apiKey is one region's Heidi key; it redacts itself in fmt, slog and JSON.
type apiKey struct{ v string }

func (k apiKey) Reveal() string               { return k.v }
func (k apiKey) String() string               { return "[redacted]" }
func (k apiKey) GoString() string             { return "[redacted]" }
func (k apiKey) LogValue() slog.Value         { return slog.StringValue("[redacted]") }
func (k apiKey) MarshalJSON() ([]byte, error) { return json.Marshal("[redacted]") }

// keychainKeys reads each region's key from the service account's keychain
// and keeps it for keychainTTL, so a key changed there ('heidi-tray key set'
// as the service account) is used within that time, without a restart.
type keychainKeys struct {
	kc Keychain
	mu sync.Mutex
	at map[string]time.Time
	k  map[string]heidiapi.APIKey // nil value: no key for the region
}

var keychainTTL = 30 * time.Second

func openKeychainKeys(kc Keychain) (*keychainKeys, error) {
	k := &keychainKeys{kc: kc, at: map[string]time.Time{}, k: map[string]heidiapi.APIKey{}}
	if len(k.regions(context.Background(), slog.New(slog.DiscardHandler))) == 0 {
		return nil, errors.New("keys_source is keychain, but the service account's keychain holds no Heidi API key; run 'heidi-tray key set --region R' as the service account")
	}
	return k, nil
}

func (k *keychainKeys) get(ctx context.Context, region string, log *slog.Logger) (heidiapi.APIKey, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if at, ok := k.at[region]; ok && time.Since(at) < keychainTTL {
		return k.k[region], k.k[region] != nil
	}
	key, err := k.kc.APIKey(ctx, region)
	switch {
	case err == nil:
		k.k[region] = key
	case errors.Is(err, keystore.ErrNotFound):
		k.k[region] = nil
	default: // keychain trouble: keep what we had, try again next time
		log.Error("cannot read the keychain; using the key read before, if any", "region", region, "err", err)
		return k.k[region], k.k[region] != nil
	}
	k.at[region] = time.Now()
	return k.k[region], k.k[region] != nil
}

func (k *keychainKeys) regions(ctx context.Context, log *slog.Logger) []string {
	var out []string
	for _, r := range heidiapi.Regions {
		if _, ok := k.get(ctx, r, log); ok {
			out = append(out, r)
		}
	}
	return out
}
