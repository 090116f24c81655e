//go:build !windows

package ipc

import (
	"context"
	"testing"

	"github.com/heidi-tray/heidi-tray/launcher/request"
)

// BenchmarkOpenOverSocket is one EMR request over the real socket: HTTP,
// strict decoding, validation and the answer.
func BenchmarkOpenOverSocket(b *testing.B) {
	_, ep, _ := serve(b)
	c := NewClient(ep.Path)
	o := request.Open{Clinician: request.Clinician{Email: "dr.a@clinic.example", UserID: "42", Region: "AU"}, Patient: &request.Patient{ID: "P1", Name: "Jane Citizen"}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Open(ctx, o); err != nil {
			b.Fatal(err)
		}
	}
}
