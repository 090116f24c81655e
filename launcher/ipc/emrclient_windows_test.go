package ipc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/heidi-tray/heidi-tray/launcher/request"
)

// TestEMRPipeClient is not a test of its own: windows_e2e_test.go runs this
// test binary under Wine as an EMR would talk to the tray, straight over the
// named pipe with no heidi-tray code of the client side's policy checks, and
// reads the outcome it prints. Without HEIDI_TRAY_EMR_EMAIL it is skipped.
func TestEMRPipeClient(t *testing.T) {
	email := os.Getenv("HEIDI_TRAY_EMR_EMAIL")
	if email == "" {
		t.Skip("a helper for windows_e2e_test.go (set HEIDI_TRAY_EMR_EMAIL)")
	}
	ep, err := DefaultEndpoint()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := NewClient(ep.Path).Open(ctx, request.Open{Clinician: request.Clinician{Email: email, UserID: "7", Region: "AU"}})
	out := map[string]string{"status": res.Status}
	var ae *APIError
	if errors.As(err, &ae) {
		out["code"], out["message"] = ae.Code, ae.Message
	} else if err != nil {
		out["code"], out["message"] = "transport", err.Error()
	}
	b, _ := json.Marshal(out)
	fmt.Printf("EMR-RESULT %s\n", b)
}
