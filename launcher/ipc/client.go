package ipc

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/heidi-tray/heidi-tray/launcher/request"
	"github.com/heidi-tray/heidi-tray/launcher/wire"
)

// Client talks to a running tray over its endpoint.
type Client struct {
	Path string
	hc   *http.Client
}

// NewClient returns a client for the endpoint at path.
func NewClient(path string) *Client {
	tr := &http.Transport{
		DialContext:       func(ctx context.Context, _, _ string) (net.Conn, error) { return Dial(ctx, path) },
		DisableKeepAlives: true,
	}
	return &Client{Path: path, hc: &http.Client{Transport: tr}}
}

// APIError is an error answer from the tray.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string { return e.Message }

// Do calls any endpoint: in (if not nil) is sent as JSON, the answer is
// decoded into out (if not nil); an error answer is an *APIError.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	return c.do(ctx, method, path, in, out)
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	// The host is a placeholder: the transport dials the endpoint.
	req, err := http.NewRequestWithContext(ctx, method, "http://heidi-tray"+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ue, ok := err.(*url.Error); ok {
			return ue.Err
		}
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("reading the tray's answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var eb wire.ErrorBody
		if json.Unmarshal(data, &eb) == nil && eb.Error.Message != "" {
			return &APIError{Status: resp.StatusCode, Code: eb.Error.Code, Message: eb.Error.Message}
		}
		return &APIError{Status: resp.StatusCode, Code: "http", Message: fmt.Sprintf("the tray answered HTTP %d", resp.StatusCode)}
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// Open asks the tray to open Heidi.
func (c *Client) Open(ctx context.Context, o request.Open) (wire.OpenResult, error) {
	var res wire.OpenResult
	return res, c.do(ctx, http.MethodPost, "/v1/open", o, &res)
}

// OpenWaitNote opens Heidi and waits for the clinician's pushed note; with
// timeout > 0 the tray gives up after it (code "timeout").
func (c *Client) OpenWaitNote(ctx context.Context, o request.Open, timeout time.Duration) (wire.WaitedNote, error) {
	var n wire.WaitedNote
	path := "/v1/open?wait=note"
	if timeout > 0 {
		path += "&timeout=" + strconv.Itoa(int((timeout+time.Second-1)/time.Second))
	}
	return n, c.do(ctx, http.MethodPost, path, o, &n)
}

// Window describes the Heidi window that follows the EMR.
func (c *Client) Window(ctx context.Context) (wire.WindowState, error) {
	var ws wire.WindowState
	return ws, c.do(ctx, http.MethodGet, "/v1/window", nil, &ws)
}

// OpenURL hands a heidi-tray:// URL to the tray, which decides whether to trust it.
func (c *Client) OpenURL(ctx context.Context, raw string) (wire.OpenResult, error) {
	var res wire.OpenResult
	return res, c.do(ctx, http.MethodPost, "/v1/url", map[string]string{"url": raw}, &res)
}

// Logout signs the clinician out everywhere.
func (c *Client) Logout(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/v1/logout", struct{}{}, nil)
}

// Status reads the tray's status.
func (c *Client) Status(ctx context.Context) (wire.Status, error) {
	var s wire.Status
	return s, c.do(ctx, http.MethodGet, "/v1/status", nil, &s)
}

// Setup opens the settings page.
func (c *Client) Setup(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/v1/setup", struct{}{}, nil)
}

// KeysChanged tells the tray to read the keychain again.
func (c *Client) KeysChanged(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/v1/keys-changed", struct{}{}, nil)
}

// Quit stops the tray.
func (c *Client) Quit(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/v1/quit", struct{}{}, nil)
}

// Notes lists unacknowledged notes after a cursor.
func (c *Client) Notes(ctx context.Context, after uint64) (wire.NotesPage, error) {
	var p wire.NotesPage
	return p, c.do(ctx, http.MethodGet, "/v1/notes?after="+strconv.FormatUint(after, 10), nil, &p)
}

// AckNote files a note as done; owner may be "".
func (c *Client) AckNote(ctx context.Context, id, owner string) (status string, err error) {
	var out struct{ Status string }
	var body any = struct{}{}
	if owner != "" {
		body = map[string]string{"owner": owner}
	}
	return out.Status, c.do(ctx, http.MethodPost, "/v1/notes/"+url.PathEscape(id)+"/ack", body, &out)
}

// Events streams events to fn until ctx ends or fn returns false.
func (c *Client) Events(ctx context.Context, fn func(wire.Event) bool) error {
	return c.EventsAfter(ctx, -1, fn)
}

// EventsAfter is Events with a cursor: after >= 0 first replays the pending
// notes after it.
func (c *Client) EventsAfter(ctx context.Context, after int64, fn func(wire.Event) bool) error {
	u := "http://heidi-tray/v1/events"
	if after >= 0 {
		u += "?after=" + strconv.FormatInt(after, 10)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 8<<20)
	for sc.Scan() {
		var ev wire.Event
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		if !fn(ev) {
			return nil
		}
	}
	return sc.Err()
}

// WaitReady polls until the tray answers or the timeout passes (a tray that
// was just started).
func (c *Client) WaitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	delay := 10 * time.Millisecond
	for {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := c.Status(cctx)
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, 200*time.Millisecond)
	}
}
