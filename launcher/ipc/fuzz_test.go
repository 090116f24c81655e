package ipc

import (
	"slices"
	"testing"

	"github.com/heidi-tray/heidi-tray/launcher/heidiapi"
)

func FuzzDecodeOpen(f *testing.F) {
	f.Add([]byte(`{"email":"dr.a@clinic.example","user_id":"42"}`))
	f.Add([]byte(`{"email":"dr.a@clinic.example","user_id":"42","region":"uk","patient":{"id":"P1","name":"Zoë","dob":"1984-03-09","gender":"Female"},"encounter_id":"E","context":"a\nb"}`))
	f.Add([]byte(`{"email":"a@b.example","user_id":"1"}{"x":1}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		o, err := DecodeOpen(body, "AU")
		if err != nil {
			return
		}
		// Whatever the decoder accepts is a valid, normalized request.
		if err := o.Validate(); err != nil {
			t.Fatalf("accepted an invalid request: %v", err)
		}
		if o.Region == "" || !slices.Contains(heidiapi.Regions, o.Region) {
			t.Fatalf("region %q", o.Region)
		}
	})
}
