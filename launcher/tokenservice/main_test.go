package tokenservice

import (
	"testing"

	"github.com/heidi-tray/heidi-tray/launcher/testrig"
)

func TestMain(m *testing.M) { testrig.Main(m) }
