package loopback

import "testing"

func TestHost(t *testing.T) {
	for h, want := range map[string]bool{
		"localhost": true, "LOCALHOST": true, "localhost.": true, "127.0.0.1": true, "127.8.9.10": true, "::1": true,
		"127.0.0.1.evil.example": false, "localhost.evil.example": false, "10.0.0.1": false, "": false, "0.0.0.0": false,
	} {
		if Host(h) != want {
			t.Errorf("Host(%q) = %v", h, !want)
		}
	}
}

func TestHTTPURL(t *testing.T) {
	for u, want := range map[string]bool{
		"http://127.0.0.1:8080/x.js": true, "http://localhost/x": true, "http://[::1]:9/": true,
		"http://127.0.0.1.evil.example/": false, "https://127.0.0.1/": false, "http://user@127.0.0.1/": false,
		"http://localhost.evil.example/heidi.js": false, "/assets/x.js": false,
	} {
		if HTTPURL(u) != want {
			t.Errorf("HTTPURL(%q) = %v", u, !want)
		}
	}
}
