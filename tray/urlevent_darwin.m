//go:build darwin && cgo

// The kAEGetURL Apple Event handler: macOS delivers heidi-tray:// URLs to the
// running app this way, not in argv. (An //export file's preamble may only
// declare, so the Objective-C lives here.)
#import <Cocoa/Cocoa.h>
#include "_cgo_export.h"

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

void heidiTrayRegisterURLHandler(void) {
	handler = [HeidiTrayURLHandler new];
	[[NSAppleEventManager sharedAppleEventManager] setEventHandler:handler
		andSelector:@selector(handle:withReply:) forEventClass:kInternetEventClass andEventID:kAEGetURL];
}
