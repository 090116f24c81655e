package cli

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"howett.net/plist"
)

// managedPrefs reads macOS managed preferences (configuration profiles /
// MDM) for heidi-tray's domain: the same keys as the Windows policy. Later
// files win (the device file, then the user's). Platform-neutral so that it
// is tested everywhere; policy_darwin.go points it at the real files.
type managedPrefs struct{ files []string }

func (m managedPrefs) Policy() (map[string]string, string, error) {
	out := map[string]string{}
	var where []string
	for _, f := range m.files {
		data, err := os.ReadFile(f)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, "", err
		}
		var v map[string]any
		if _, err := plist.Unmarshal(data, &v); err != nil {
			return nil, "", fmt.Errorf("%s is not a property list: %w", f, err)
		}
		for k, val := range v {
			if strings.HasPrefix(k, "PayloadIdentifier") || strings.HasPrefix(k, "PayloadUUID") {
				continue
			}
			switch x := val.(type) {
			case string:
				out[k] = x
			case bool:
				out[k] = strconv.FormatBool(x)
			case uint64:
				out[k] = strconv.FormatUint(x, 10)
			case int64:
				out[k] = strconv.FormatInt(x, 10)
			case []any:
				var parts []string
				for _, p := range x {
					parts = append(parts, fmt.Sprint(p))
				}
				out[k] = strings.Join(parts, ",")
			default:
				return nil, "", fmt.Errorf("%s: %s has an unsupported type", f, k)
			}
		}
		where = append(where, f)
	}
	return out, strings.Join(where, ", "), nil
}
