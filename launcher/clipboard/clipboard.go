// Package clipboard puts a pushed note's text on the clipboard, so a
// clinician can paste it into an EMR that cannot receive it any other way.
package clipboard

import "errors"

// MaxText bounds what is copied.
const MaxText = 1 << 20

// ErrUnavailable: there is no clipboard to write to (no desktop session, or
// no clipboard tool installed).
var ErrUnavailable = errors.New("no clipboard is available")

// Copy puts text on the clipboard.
func Copy(text string) error {
	if len(text) > MaxText {
		return errors.New("the note is too large for the clipboard")
	}
	return copyText(text)
}
