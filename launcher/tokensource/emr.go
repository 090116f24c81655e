package tokensource

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"time"

	"github.com/heidi-tray/heidi-tray/launcher/heidiapi"
	"github.com/heidi-tray/heidi-tray/launcher/request"
)

// EMR takes tokens from the EMR, whose own server holds the Heidi key. The
// EMR passes a token with each open request (Provide); when the widget
// needs a fresh one, EMR asks for it: by running TokenCommand, or by
// announcing a token_needed event on the EMR's event feed (Ask) and waiting
// for the EMR to Provide one. Every token is checked against the clinician
// it is for before it is used.
type EMR struct {
	// TokenCommand, if set, is run to get a fresh token: program and
	// arguments (never the clinician: that is in HEIDI_EMAIL, HEIDI_USER_ID
	// and HEIDI_REGION in its environment). It must print
	// {"token": "...", "expires_in": seconds} and exit 0 within CommandTimeout.
	TokenCommand   []string
	CommandTimeout time.Duration // default 10 s
	// Ask announces that a token is needed for c (the token_needed event);
	// nil when there is no event feed.
	Ask func(c request.Clinician)
	// AskTimeout bounds the wait for the EMR's answer (default 30 s).
	AskTimeout time.Duration

	mu      sync.Mutex
	pending map[request.Clinician]heidiapi.Token // provided, not yet taken by the cache
	waiters map[request.Clinician][]chan struct{}
}

// Provide hands the tray a token for c (from an open request or a token
// call), checked against c. expiresIn is the EMR's stated remaining life
// (0: take it from the token's exp claim).
func (e *EMR) Provide(c request.Clinician, jwt string, expiresIn time.Duration) error {
	tok, err := checkToken(jwt, c, expiresIn)
	if err != nil {
		return fmt.Errorf("the EMR's token was refused: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.pending == nil {
		e.pending = map[request.Clinician]heidiapi.Token{}
		e.waiters = map[request.Clinician][]chan struct{}{}
	}
	e.pending[c] = tok
	for _, w := range e.waiters[c] {
		close(w)
	}
	delete(e.waiters, c)
	return nil
}

// Fetch implements tokens.Fetcher: a provided token if there is a usable
// one, else the command, else ask the EMR and wait.
func (e *EMR) Fetch(ctx context.Context, c request.Clinician) (heidiapi.Token, error) {
	if tok, ok := e.take(c); ok {
		return tok, nil
	}
	if len(e.TokenCommand) > 0 {
		return e.runCommand(ctx, c)
	}
	if e.Ask == nil {
		return heidiapi.Token{}, errors.New("token_source is emr, and the EMR has not passed a token for this clinician; the EMR must send one in its open request (docs/ipc.md)")
	}
	wait := e.AskTimeout
	if wait <= 0 {
		wait = 30 * time.Second
	}
	ch := make(chan struct{})
	e.mu.Lock()
	if e.waiters == nil {
		e.pending = map[request.Clinician]heidiapi.Token{}
		e.waiters = map[request.Clinician][]chan struct{}{}
	}
	e.waiters[c] = append(e.waiters[c], ch)
	e.mu.Unlock()
	e.Ask(c)
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ch:
		if tok, ok := e.take(c); ok {
			return tok, nil
		}
		return heidiapi.Token{}, errors.New("the EMR's token expired before it could be used")
	case <-t.C:
		e.forget(c, ch)
		return heidiapi.Token{}, &retryableError{fmt.Errorf("the EMR did not answer the token_needed event within %s; check the EMR's event feed connection (docs/ipc.md)", wait)}
	case <-ctx.Done():
		e.forget(c, ch)
		return heidiapi.Token{}, ctx.Err()
	}
}

func (e *EMR) take(c request.Clinician) (heidiapi.Token, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	tok, ok := e.pending[c]
	delete(e.pending, c)
	// A token with under a minute left would be refreshed at once: useless.
	return tok, ok && time.Until(tok.Expires) > min(tok.Lifetime/5, time.Minute)
}

func (e *EMR) forget(c request.Clinician, ch chan struct{}) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ws := e.waiters[c]
	for i, w := range ws {
		if w == ch {
			e.waiters[c] = append(ws[:i:i], ws[i+1:]...)
			break
		}
	}
	if len(e.waiters[c]) == 0 {
		delete(e.waiters, c)
	}
}

// Waiting reports whether a token is awaited for c (tests, status).
func (e *EMR) Waiting(c request.Clinician) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.waiters[c]) > 0
}

// runCommand runs TokenCommand. Its output holds a token, so neither its
// stdout nor its stderr is ever logged or shown.
func (e *EMR) runCommand(ctx context.Context, c request.Clinician) (heidiapi.Token, error) {
	timeout := e.CommandTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.TokenCommand[0], e.TokenCommand[1:]...)
	cmd.Env = append(commandEnv(), "HEIDI_EMAIL="+c.Email, "HEIDI_USER_ID="+c.UserID, "HEIDI_REGION="+c.Region)
	cmd.WaitDelay = time.Second // a grandchild holding stdout open must not hang us
	var out limitedBuffer
	out.max = 64 << 10
	cmd.Stdout = &out
	cmd.Stderr = io.Discard
	err := cmd.Run()
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		return heidiapi.Token{}, &retryableError{fmt.Errorf("token_command did not finish within %s and was stopped", timeout)}
	case err != nil:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return heidiapi.Token{}, fmt.Errorf("token_command failed (exit status %d); its output is not shown because it may hold a token", ee.ExitCode())
		}
		return heidiapi.Token{}, fmt.Errorf("token_command could not run: %w", err)
	case out.over:
		return heidiapi.Token{}, errors.New("token_command printed more than 64 KiB")
	}
	var r struct {
		Token     *string  `json:"token"`
		ExpiresIn *float64 `json:"expires_in"`
	}
	dec := json.NewDecoder(bytes.NewReader(out.b.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil || r.Token == nil || r.ExpiresIn == nil || dec.More() {
		return heidiapi.Token{}, errors.New(`token_command must print one JSON object {"token": "...", "expires_in": seconds}`)
	}
	tok, err := checkToken(*r.Token, c, time.Duration(*r.ExpiresIn*float64(time.Second)))
	if err != nil {
		return heidiapi.Token{}, fmt.Errorf("token_command's token was refused: %w", err)
	}
	return tok, nil
}

type limitedBuffer struct {
	b    bytes.Buffer
	max  int
	over bool
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if l.b.Len()+len(p) > l.max {
		l.over = true
		return len(p), nil
	}
	return l.b.Write(p)
}

// retryableError: the same request may work later (the EMR was busy).
type retryableError struct{ error }

func (e *retryableError) Unwrap() error   { return e.error }
func (e *retryableError) Retryable() bool { return true }
