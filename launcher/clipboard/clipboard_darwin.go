//go:build darwin && cgo

package clipboard

/*
#cgo CFLAGS: -x objective-c -fobjc-arc
#cgo LDFLAGS: -framework AppKit
#import <AppKit/AppKit.h>
#include <stdlib.h>

// heidiTrayCopy puts n bytes of UTF-8 text on the general pasteboard as
// plain text only (never parsed as RTF), for this Mac only (not Universal
// Clipboard), marked concealed and transient (nspasteboard.org) so that
// clipboard managers do not keep the note. 0: done; 2: not UTF-8; 1: refused.
static int heidiTrayCopy(const void *utf8, long n) {
	@autoreleasepool {
		NSString *s = [[NSString alloc] initWithBytes:utf8 length:n encoding:NSUTF8StringEncoding];
		if (s == nil) {
			return 2;
		}
		NSPasteboard *pb = [NSPasteboard generalPasteboard];
		[pb prepareForNewContentsWithOptions:NSPasteboardContentsCurrentHostOnly];
		NSPasteboardItem *item = [[NSPasteboardItem alloc] init];
		if (![item setString:s forType:NSPasteboardTypeString]) {
			return 1;
		}
		[item setString:@"" forType:@"org.nspasteboard.ConcealedType"];
		[item setString:@"" forType:@"org.nspasteboard.TransientType"];
		return [pb writeObjects:@[item]] ? 0 : 1;
	}
}
*/
import "C"

import (
	"errors"
	"unsafe"
)

// copyText writes through NSPasteboard, not pbcopy: pbcopy started without
// a UTF-8 locale mangles °, µ and é, treats text starting with {\rtf as
// RTF, and its text reaches the user's other devices.
func copyText(text string) error {
	p := C.CBytes([]byte(text))
	defer C.free(p)
	switch C.heidiTrayCopy(unsafe.Pointer(p), C.long(len(text))) {
	case 0:
		return nil
	case 2:
		return errors.New("the note is not UTF-8 text")
	}
	return errors.New("the macOS pasteboard refused the note")
}
