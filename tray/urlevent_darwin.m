//go:build darwin && cgo

// Apple Event handlers: macOS delivers heidi-tray:// URLs to the running app
// as kAEGetURL events, not in argv, and asks it to quit (logout, restart,
// Activity Monitor) with kAEQuitApplication. (An //export file's preamble may
// only declare, so the Objective-C lives here.)
#import <Cocoa/Cocoa.h>
#include "_cgo_export.h"

@interface HeidiTrayEvents : NSObject
@end

@implementation HeidiTrayEvents
- (void)handleURL:(NSAppleEventDescriptor *)event withReply:(NSAppleEventDescriptor *)reply {
	NSString *url = [[event paramDescriptorForKeyword:keyDirectObject] stringValue];
	if (url != nil) {
		heidiTrayURL((char *)[url UTF8String]);
	}
}

// Instead of AppKit's terminate:, which would exit() without Go's shutdown:
// Go stops the tray, which stops the run loop, and main returns.
- (void)handleQuit:(NSAppleEventDescriptor *)event withReply:(NSAppleEventDescriptor *)reply {
	heidiTrayQuit();
}

- (void)install {
	NSAppleEventManager *m = [NSAppleEventManager sharedAppleEventManager];
	[m setEventHandler:self andSelector:@selector(handleURL:withReply:)
		forEventClass:kInternetEventClass andEventID:kAEGetURL];
	[m setEventHandler:self andSelector:@selector(handleQuit:withReply:)
		forEventClass:kCoreEventClass andEventID:kAEQuitApplication];
}

- (void)willFinishLaunching:(NSNotification *)note {
	[self install];
}
@end

static HeidiTrayEvents *events;

void heidiTrayInstallEventHandlers(void) {
	events = [HeidiTrayEvents new];
	[events install];
	[[NSNotificationCenter defaultCenter] addObserver:events selector:@selector(willFinishLaunching:)
		name:NSApplicationWillFinishLaunchingNotification object:nil];
}

// heidiTrayPumpEvents runs the event loop by hand for up to seconds, for a
// process that will not start the tray: finishLaunching (once) makes AppKit
// deliver the events queued at launch, which nextEventMatchingMask then
// dispatches to the handlers above.
void heidiTrayPumpEvents(double seconds) {
	static BOOL launched = NO;
	@autoreleasepool {
		NSApplication *app = [NSApplication sharedApplication];
		if (!launched) {
			launched = YES;
			[app finishLaunching];
		}
		NSDate *until = [NSDate dateWithTimeIntervalSinceNow:seconds];
		for (;;) {
			NSEvent *e = [app nextEventMatchingMask:NSEventMaskAny untilDate:until
				inMode:NSDefaultRunLoopMode dequeue:YES];
			if (e == nil) {
				break;
			}
			[app sendEvent:e];
		}
	}
}
