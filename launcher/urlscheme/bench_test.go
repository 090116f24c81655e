package urlscheme

import (
	"testing"
	"time"
)

func BenchmarkParseAndVerify(b *testing.B) {
	raw := "heidi-tray://open?email=dr.b%40clinic.example&user_id=42&patient_id=P-1001&patient_name=Jane+Citizen&patient_dob=1984-03-09&ts=1764057600&nonce=n0nce-1764057600-abc123&sig=C2JkkbdWEMmhORf4s5Bf8Fp61OWo3WD782Oqp7IddJU"
	secret := []byte("clinic-launch-secret-0123456789abcdef")
	b.ReportAllocs()
	for b.Loop() {
		l, err := Parse(raw, "AU")
		if err != nil {
			b.Fatal(err)
		}
		if err := Verify(l, secret, time.Unix(1764057600, 0), &Nonces{}); err != nil {
			b.Fatal(err)
		}
	}
}
