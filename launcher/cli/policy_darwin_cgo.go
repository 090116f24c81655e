//go:build darwin && cgo

package cli

/*
#cgo LDFLAGS: -framework CoreFoundation
#include <CoreFoundation/CoreFoundation.h>
#include <stdlib.h>
#include <string.h>

// heidiTrayPref looks key up in the app domain through CFPreferences (which
// includes managed preferences) and returns its value as an XML property
// list in *out (malloc'd; NULL when the key is not set) and whether an
// administrator forced it.
static void heidiTrayPref(const char *domain, const char *key, char **out, long *len, int *forced) {
	*out = NULL;
	*len = 0;
	*forced = 0;
	CFStringRef d = CFStringCreateWithCString(NULL, domain, kCFStringEncodingUTF8);
	CFStringRef k = CFStringCreateWithCString(NULL, key, kCFStringEncodingUTF8);
	if (d != NULL && k != NULL) {
		CFPropertyListRef v = CFPreferencesCopyAppValue(k, d);
		if (v != NULL) {
			*forced = CFPreferencesAppValueIsForced(k, d) ? 1 : 0;
			CFDataRef data = CFPropertyListCreateData(NULL, v, kCFPropertyListXMLFormat_v1_0, 0, NULL);
			if (data != NULL) {
				CFIndex n = CFDataGetLength(data);
				*out = malloc(n > 0 ? n : 1);
				if (*out != NULL) {
					memcpy(*out, CFDataGetBytePtr(data), n);
					*len = n;
				}
				CFRelease(data);
			}
			CFRelease(v);
		}
	}
	if (d != NULL) CFRelease(d);
	if (k != NULL) CFRelease(k);
}
*/
import "C"

import (
	"unsafe"

	"github.com/heidi-tray/heidi-tray/launcher/config"
	"github.com/heidi-tray/heidi-tray/launcher/install/plists"
)

// policySource: managed preferences (configuration profiles / MDM) for
// heidi-tray's domain, through CFPreferences; only forced values count
// (managedprefs.go).
func policySource() config.PolicySource {
	return forcedPrefs{domain: plists.BundleID, keys: config.Keys(), lookup: cfPreference}
}

func cfPreference(key string) ([]byte, bool) {
	d, k := C.CString(plists.BundleID), C.CString(key)
	defer C.free(unsafe.Pointer(d))
	defer C.free(unsafe.Pointer(k))
	var out *C.char
	var n C.long
	var forced C.int
	C.heidiTrayPref(d, k, &out, &n, &forced)
	if out == nil {
		return nil, false
	}
	defer C.free(unsafe.Pointer(out))
	return C.GoBytes(unsafe.Pointer(out), C.int(n)), forced != 0
}
