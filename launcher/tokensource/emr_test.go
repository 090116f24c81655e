//go:build !windows

package tokensource

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heidi-tray/heidi-tray/launcher/request"
	"github.com/heidi-tray/heidi-tray/launcher/tokens"
)

var alice = request.Clinician{Email: "alice@clinic.example", UserID: "emr-1", Region: "AU"}

func script(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "token-cmd")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTokenCommand(t *testing.T) {
	good := jwtWith(map[string]any{"email": "alice@clinic.example", "exp": time.Now().Add(time.Hour).Unix()})
	bob := jwtWith(map[string]any{"email": "bob@clinic.example", "exp": time.Now().Add(time.Hour).Unix()})
	// The command sees the clinician in its environment, never in argv.
	ok := script(t, `[ "$HEIDI_EMAIL" = alice@clinic.example ] && [ "$HEIDI_USER_ID" = emr-1 ] && [ "$HEIDI_REGION" = AU ] || exit 9
printf '{"token": "%s", "expires_in": 3600}' "$1"`)
	e := &EMR{TokenCommand: []string{ok, good}}
	tok, err := e.Fetch(context.Background(), alice)
	if err != nil || tok.JWT.Reveal() != good || time.Until(tok.Expires) < 59*time.Minute {
		t.Fatalf("good command: %v %v", tok.Expires, err)
	}
	cases := []struct {
		name    string
		cmd     []string
		timeout time.Duration
		want    string
	}{
		{"another clinician's token", []string{ok, bob}, 0, "not the launch's clinician"},
		{"fails, token on stderr", []string{script(t, "echo "+good+" >&2; exit 3")}, 0, "exit status 3"},
		{"hangs", []string{script(t, "sleep 30")}, 300 * time.Millisecond, "did not finish within 300ms"},
		{"garbage", []string{script(t, "echo hello")}, 0, "must print one JSON object"},
		{"extra field", []string{script(t, `printf '{"token":"%s","expires_in":60,"x":1}' `+good)}, 0, "must print one JSON object"},
		{"huge", []string{script(t, "head -c 100000 /dev/zero")}, 0, "more than 64 KiB"},
		{"missing program", []string{filepath.Join(t.TempDir(), "nope")}, 0, "could not run"},
	}
	for _, tc := range cases {
		start := time.Now()
		_, err := (&EMR{TokenCommand: tc.cmd, CommandTimeout: tc.timeout}).Fetch(context.Background(), alice)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		} else if strings.Contains(err.Error(), good) || strings.Contains(err.Error(), bob) {
			t.Errorf("%s: the error shows a token", tc.name)
		}
		if time.Since(start) > 5*time.Second {
			t.Errorf("%s: took %s", tc.name, time.Since(start))
		}
	}
}

// The open request's token is used first; when the widget finds it expired,
// the tray asks the EMR (token_needed) and uses its answer.
func TestAskTheEMR(t *testing.T) {
	mk := func(n int) string {
		return jwtWith(map[string]any{"email": "alice@clinic.example", "exp": time.Now().Add(time.Hour).Unix(), "n": n})
	}
	first, second := mk(1), mk(2)
	e := &EMR{AskTimeout: 2 * time.Second}
	asked := make(chan request.Clinician, 4)
	e.Ask = func(c request.Clinician) { asked <- c }
	cache := tokens.New(e, tokens.Options{})
	defer cache.Close()

	if err := e.Provide(alice, first, time.Hour); err != nil {
		t.Fatal(err)
	}
	tok, err := cache.Get(context.Background(), alice)
	if err != nil || tok.JWT.Reveal() != first {
		t.Fatalf("the open request's token: %v", err)
	}
	// The EMR answers the event with a token call.
	go func() {
		c := <-asked
		for !e.Waiting(c) {
			time.Sleep(time.Millisecond)
		}
		if err := e.Provide(c, jwtWith(map[string]any{"email": "bob@clinic.example", "exp": time.Now().Add(time.Hour).Unix()}), time.Hour); err == nil {
			panic("another clinician's token was accepted")
		}
		if err := e.Provide(c, second, time.Hour); err != nil {
			panic(err)
		}
	}()
	tok, err = cache.Refresh(context.Background(), alice, tok.JWT)
	if err != nil || tok.JWT.Reveal() != second {
		t.Fatalf("refresh through the EMR: %v", err)
	}
	// No answer: a clear error in bounded time, and no waiter left behind.
	e.AskTimeout = 200 * time.Millisecond
	_, err = cache.Refresh(context.Background(), alice, tok.JWT)
	if err == nil || !strings.Contains(err.Error(), "did not answer the token_needed event") {
		t.Fatalf("unanswered: %v", err)
	}
	if e.Waiting(alice) {
		t.Fatal("a waiter was left behind")
	}
	<-asked
	// No feed and no command: say what the EMR must do.
	_, err = (&EMR{}).Fetch(context.Background(), alice)
	if err == nil || !strings.Contains(err.Error(), "must send one in its open request") {
		t.Fatalf("nothing configured: %v", err)
	}
	// An expired token from the EMR is refused at once.
	old := jwtWith(map[string]any{"email": "alice@clinic.example", "exp": time.Now().Add(-time.Minute).Unix()})
	if err := e.Provide(alice, old, time.Hour); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired: %v", err)
	}
}
