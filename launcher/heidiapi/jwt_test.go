package heidiapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestJWTNeverPrints(t *testing.T) {
	v := NewJWT("eyJ-THE-REAL-VALUE")
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "v", v)
	js, _ := json.Marshal(map[string]any{"v": v})
	out := fmt.Sprintf("%v %+v %#v %s %q", v, v, v, v, v) + buf.String() + string(js)
	if strings.Contains(out, "REAL-VALUE") || !strings.Contains(out, "[redacted]") {
		t.Fatalf("JWT printed as: %s", out)
	}
}
