package cli

import (
	"errors"
	"strconv"
	"strings"

	"golang.org/x/sys/windows/registry"

	"github.com/heidi-tray/heidi-tray/launcher/config"
)

// PolicyKey is where Group Policy (packaging/windows/heidi-tray.admx) puts
// the administrator's settings; HKLM wins over HKCU.
const PolicyKey = `Software\Policies\heidi-tray`

type registryPolicy struct{}

func policySource() config.PolicySource { return registryPolicy{} }

// policyFiles: Windows policy is in the registry, which the running tray
// watches through notifications (launcher/policywatch).
func policyFiles() []string { return nil }

func (registryPolicy) Policy() (map[string]string, string, error) {
	out := map[string]string{}
	var where []string
	for _, root := range []struct {
		key  registry.Key
		name string
	}{{registry.CURRENT_USER, `HKCU\`}, {registry.LOCAL_MACHINE, `HKLM\`}} {
		k, err := registry.OpenKey(root.key, PolicyKey, registry.QUERY_VALUE)
		if errors.Is(err, registry.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, "", err
		}
		names, err := k.ReadValueNames(0)
		if err != nil {
			k.Close()
			return nil, "", err
		}
		for _, n := range names {
			if s, _, err := k.GetStringValue(n); err == nil {
				out[n] = s
			} else if d, _, err := k.GetIntegerValue(n); err == nil {
				if n == "port" {
					out[n] = strconv.FormatUint(d, 10)
				} else {
					out[n] = strconv.FormatBool(d != 0)
				}
			}
		}
		k.Close()
		where = append(where, root.name+PolicyKey)
	}
	return out, strings.Join(where, ", "), nil
}
