//go:build darwin && cgo

package notify

/*
#cgo CFLAGS: -x objective-c -fobjc-arc
#cgo LDFLAGS: -framework Foundation -framework UserNotifications
#import <Foundation/Foundation.h>
#import <UserNotifications/UserNotifications.h>
#include <stdlib.h>

// UNUserNotificationCenter needs an app bundle (it raises without one).
static int heidiTrayInBundle(void) {
	return [[NSBundle mainBundle] bundleIdentifier] != nil;
}

// heidiTrayNotify posts a notification from this app: 0 posted, 1 the user
// has not allowed heidi-tray's notifications, 2 failed, 3 no answer within
// 10 s (the first time, macOS asks the user, and the answer may take longer).
static int heidiTrayNotify(const char *title, const char *body) {
	@autoreleasepool {
		NSString *t = [NSString stringWithUTF8String:title];
		NSString *b = [NSString stringWithUTF8String:body];
		if (t == nil || b == nil) {
			return 2;
		}
		UNUserNotificationCenter *center = [UNUserNotificationCenter currentNotificationCenter];
		dispatch_semaphore_t done = dispatch_semaphore_create(0);
		__block int result = 2;
		[center requestAuthorizationWithOptions:(UNAuthorizationOptionAlert | UNAuthorizationOptionSound)
			completionHandler:^(BOOL granted, NSError *error) {
				if (!granted) {
					result = 1;
					dispatch_semaphore_signal(done);
					return;
				}
				UNMutableNotificationContent *content = [[UNMutableNotificationContent alloc] init];
				content.title = t;
				content.body = b;
				UNNotificationRequest *req = [UNNotificationRequest requestWithIdentifier:[[NSUUID UUID] UUIDString]
					content:content trigger:nil];
				[center addNotificationRequest:req withCompletionHandler:^(NSError *err) {
					result = (err == nil) ? 0 : 2;
					dispatch_semaphore_signal(done);
				}];
			}];
		if (dispatch_semaphore_wait(done, dispatch_time(DISPATCH_TIME_NOW, 10 * NSEC_PER_SEC)) != 0) {
			return 3;
		}
		return result;
	}
}
*/
import "C"

import (
	"errors"
	"unsafe"
)

func appNotification(title, body string) (bool, error) {
	if C.heidiTrayInBundle() == 0 {
		return false, nil
	}
	t, b := C.CString(title), C.CString(body)
	defer C.free(unsafe.Pointer(t))
	defer C.free(unsafe.Pointer(b))
	switch C.heidiTrayNotify(t, b) {
	case 0:
		return true, nil
	case 1:
		return true, errors.New("notifications from heidi-tray are turned off (System Settings → Notifications → heidi-tray)")
	case 3:
		return true, errors.New("macOS did not answer within 10 s (is it asking whether heidi-tray may notify?)")
	}
	return true, errors.New("macOS refused the notification")
}
