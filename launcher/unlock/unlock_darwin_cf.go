//go:build darwin && cgo

package unlock

// The C side lives apart from unlock_darwin.go: a file with //export may
// only declare C functions in its preamble, not define them.

/*
#cgo LDFLAGS: -framework CoreFoundation
#include <CoreFoundation/CoreFoundation.h>

extern void heidiTrayScreenUnlocked(void);

// Its address identifies heidi-tray's observer to the notification center.
static const char heidiTrayUnlockObserver = 0;

static void heidiTrayUnlocked(CFNotificationCenterRef center, void *observer, CFStringRef name, const void *object, CFDictionaryRef info) {
	heidiTrayScreenUnlocked();
}

void heidiTrayObserveUnlock(void) {
	CFNotificationCenterAddObserver(CFNotificationCenterGetDistributedCenter(), &heidiTrayUnlockObserver,
		heidiTrayUnlocked, CFSTR("com.apple.screenIsUnlocked"), NULL,
		CFNotificationSuspensionBehaviorDeliverImmediately);
}

void heidiTrayIgnoreUnlock(void) {
	CFNotificationCenterRemoveObserver(CFNotificationCenterGetDistributedCenter(), &heidiTrayUnlockObserver,
		CFSTR("com.apple.screenIsUnlocked"), NULL);
}
*/
import "C"
