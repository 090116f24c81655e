package cli

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"howett.net/plist"
)

// macOS managed preferences (configuration profiles / MDM) for heidi-tray's
// domain carry the same keys as the Windows policy. On a Mac with cgo they
// are read through CFPreferences (policy_darwin_cgo.go), one key at a time,
// and a value counts as policy only when CFPreferencesAppValueIsForced says
// an administrator forced it: a value the user set with 'defaults write'
// lives in the same domain and must not pass for policy. The parsing and
// validation is here, platform-neutral, so it is tested on every OS.

// policyText turns one managed-preference value (as a property list decodes)
// into a setting's text: strings, booleans, integers, whole-number reals
// (a profile editor may write <real>47000</real> for a port) and arrays of
// those (joined with commas).
func policyText(val any) (string, error) {
	switch x := val.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case uint64:
		return strconv.FormatUint(x, 10), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return "", fmt.Errorf("%v is not a whole number", x)
		}
		return strconv.FormatInt(int64(x), 10), nil
	case []any:
		parts := make([]string, 0, len(x))
		for _, p := range x {
			if _, nested := p.([]any); nested {
				return "", errors.New("is a nested array")
			}
			s, err := policyText(p)
			if err != nil {
				return "", err
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, ","), nil
	}
	return "", fmt.Errorf("has an unsupported type (%T); use a string, number, boolean or array", val)
}

// profileKey: the Payload* keys (PayloadIdentifier, PayloadUUID,
// PayloadType, PayloadVersion, …) describe the profile, not heidi-tray.
func profileKey(k string) bool { return strings.HasPrefix(k, "Payload") }

// addPolicy puts one dictionary's settings into out; a value that cannot be
// used is left out and reported, and the others still apply.
func addPolicy(out map[string]string, where string, v map[string]any) error {
	var errs []error
	for k, val := range v {
		if profileKey(k) {
			continue
		}
		s, err := policyText(val)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %s %w", where, k, err))
			continue
		}
		out[k] = s
	}
	return errors.Join(errs...)
}

// forcedPrefs reads the administrator's values one key at a time. lookup
// returns the value as a property list (nil when the key is not set) and
// whether it is forced.
type forcedPrefs struct {
	domain string
	keys   []string
	lookup func(key string) (value []byte, forced bool)
}

func (f forcedPrefs) Policy() (map[string]string, string, error) {
	out := map[string]string{}
	v := map[string]any{}
	for _, k := range f.keys {
		data, forced := f.lookup(k)
		if data == nil || !forced {
			continue
		}
		var val any
		if _, err := plist.Unmarshal(data, &val); err != nil {
			return out, "managed preferences " + f.domain, fmt.Errorf("%s: reading %s: %w", f.domain, k, err)
		}
		v[k] = val
	}
	where := "managed preferences " + f.domain
	err := addPolicy(out, where, v)
	return out, where, err
}

// managedPrefs reads managed preferences from their files (a Mac build
// without cgo; tests). Later files win (the device file, then the user's).
type managedPrefs struct{ files []string }

func (m managedPrefs) Policy() (map[string]string, string, error) {
	out := map[string]string{}
	var where []string
	var errs []error
	for _, f := range m.files {
		data, err := os.ReadFile(f)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return out, strings.Join(append(where, f), ", "), err
		}
		var v map[string]any
		if _, err := plist.Unmarshal(data, &v); err != nil {
			return out, strings.Join(append(where, f), ", "), fmt.Errorf("%s is not a property list: %w", f, err)
		}
		errs = append(errs, addPolicy(out, f, v))
		where = append(where, f)
	}
	return out, strings.Join(where, ", "), errors.Join(errs...)
}
