package keystore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretsNeverPrint(t *testing.T) {
	const raw = "sk-live-THE-REAL-VALUE-1234"
	for _, v := range []any{NewAPIKey(raw), NewLaunchSecret([]byte(raw))} {
		var buf bytes.Buffer
		log := slog.New(slog.NewJSONHandler(&buf, nil))
		log.Info("x", "v", v)
		js, _ := json.Marshal(map[string]any{"v": v})
		out := strings.Join([]string{fmt.Sprint(v), fmt.Sprintf("%v %+v %#v %s %q", v, v, v, v, v), buf.String(), string(js)}, "\n")
		if strings.Contains(out, "REAL-VALUE") {
			t.Fatalf("%T leaked: %s", v, out)
		}
		if !strings.Contains(out, "[redacted]") {
			t.Fatalf("%T printed no redaction marker: %s", v, out)
		}
	}
	if got := NewAPIKey(raw).Masked(); got != "****1234" {
		t.Fatalf("Masked = %q", got)
	}
	if got := Mask("short"); got != "****" {
		t.Fatalf("short keys must not reveal characters, got %q", got)
	}
}
