package cli

import (
	"testing"

	"golang.org/x/sys/windows/registry"

	"github.com/heidi-tray/heidi-tray/launcher/config"
)

// Group Policy values in the registry win over the environment, and HKLM
// over HKCU.
func TestRegistryPolicy(t *testing.T) {
	for _, root := range []registry.Key{registry.LOCAL_MACHINE, registry.CURRENT_USER} {
		k, _, err := registry.CreateKey(root, PolicyKey, registry.ALL_ACCESS)
		if err != nil {
			t.Fatalf("creating the policy key: %v", err)
		}
		defer registry.DeleteKey(root, PolicyKey)
		defer k.Close()
		if root == registry.LOCAL_MACHINE {
			k.SetStringValue("region", "UK")
			k.SetDWordValue("disabled", 1)
			k.SetDWordValue("port", 47001)
		} else {
			k.SetStringValue("region", "US")
			k.SetStringValue("allowed_email_domains", "clinic.example")
		}
	}
	c, err := config.Load("", []string{"HEIDI_TRAY_REGION=CA"}, policySource())
	if err != nil {
		t.Fatal(err)
	}
	if c.Region != "UK" || !c.Disabled || c.Port != 47001 || len(c.AllowedEmailDomains) != 1 {
		t.Fatalf("%+v", c.Settings)
	}
	if src := c.Sources["region"]; src.Kind != "policy" || src.Where != `HKCU\`+PolicyKey+`, HKLM\`+PolicyKey {
		t.Fatalf("provenance %+v", src)
	}
	if err := refuseIfDisabled(c); err == nil {
		t.Fatal("the kill switch did not refuse")
	}
}
