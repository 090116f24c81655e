// mkbundle writes the app bundle's Info.plist for a version:
// go run ./packaging/macos/mkbundle -version 1.2.3 -out Info.plist
package main

import (
	"flag"
	"fmt"
	"os"
	"regexp"

	"github.com/heidi-tray/heidi-tray/launcher/install/plists"
)

func main() {
	version := flag.String("version", "", "heidi-tray's version (as 'heidi-tray version' prints it)")
	out := flag.String("out", "Info.plist", "where to write")
	flag.Parse()
	if !regexp.MustCompile(`^[0-9]+(\.[0-9]+){0,2}([-+][0-9A-Za-z.-]+)?$`).MatchString(*version) {
		fmt.Fprintf(os.Stderr, "mkbundle: -version %q is not a version like 1.2.3\n", *version)
		os.Exit(2)
	}
	if err := os.WriteFile(*out, plists.InfoPlist(*version), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "mkbundle:", err)
		os.Exit(1)
	}
}
