//go:build darwin && cgo

package tray

/*
#cgo CFLAGS: -x objective-c -fobjc-arc
#cgo LDFLAGS: -framework Cocoa
#import <Cocoa/Cocoa.h>

extern void heidiTrayURL(char *url);

@interface HeidiTrayURLHandler : NSObject
@end

@implementation HeidiTrayURLHandler
- (void)handle:(NSAppleEventDescriptor *)event withReply:(NSAppleEventDescriptor *)reply {
	NSString *url = [[event paramDescriptorForKeyword:keyDirectObject] stringValue];
	if (url != nil) {
		heidiTrayURL((char *)[url UTF8String]);
	}
}
@end

static HeidiTrayURLHandler *handler;

// Registered before the run loop starts, so the URL that launched the app
// is not lost.
static void registerURLHandler(void) {
	handler = [HeidiTrayURLHandler new];
	[[NSAppleEventManager sharedAppleEventManager] setEventHandler:handler
		andSelector:@selector(handle:withReply:) forEventClass:kInternetEventClass andEventID:kAEGetURL];
}
*/
import "C"

//export heidiTrayURL
func heidiTrayURL(u *C.char) { DeliverURL(C.GoString(u)) }

func init() { C.registerURLHandler() }
