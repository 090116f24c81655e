//go:build !windows

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/heidi-tray/heidi-tray/launcher/ipc"
	"github.com/heidi-tray/heidi-tray/launcher/testrig"
)

// A second process hands the URLs macOS sent it to the running tray's
// /v1/url, each one unchanged, and says so when the tray refuses one.
func TestURLsForwardedToTheRunningTray(t *testing.T) {
	sock := filepath.Join(testrig.ShortTempDir(t), "ipc.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []string
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ URL string }
		json.NewDecoder(r.Body).Decode(&body)
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.Path+" "+body.URL)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if strings.Contains(body.URL, "bad") {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":{"code":"url_refused","message":"the URL is not signed"}}`))
			return
		}
		w.Write([]byte(`{"status":"logged_out","message":"Signed out of Heidi."}`))
	})}
	go srv.Serve(ln)
	defer srv.Close()

	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	urls := []string{"heidi-tray://logout", "heidi-tray://open?email=a%40b.example&user_id=1&bad=1"}
	err = forwardURLs(context.Background(), ipc.NewClient(sock), urls, log)
	if err == nil || !strings.Contains(err.Error(), "1 of 2 URLs failed") || !strings.Contains(err.Error(), "not signed") {
		t.Fatalf("error %v", err)
	}
	mu.Lock()
	defer mu.Unlock() // after the second call below, which the handler serves
	if len(got) != 2 || got[0] != "POST /v1/url "+urls[0] || got[1] != "POST /v1/url "+urls[1] {
		t.Fatalf("the tray got %q", got)
	}
	if strings.Contains(logs.String(), "a%40b") {
		t.Fatal("a forwarded URL (it names a clinician) reached the log")
	}
}

func TestEveryURLForwardedIsReported(t *testing.T) {
	sock := filepath.Join(testrig.ShortTempDir(t), "ipc.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"logged_out","message":"Signed out of Heidi."}`))
	})}
	go srv.Serve(ln)
	defer srv.Close()
	var logs bytes.Buffer
	if err := forwardURLs(context.Background(), ipc.NewClient(sock), []string{"heidi-tray://logout"}, slog.New(slog.NewTextHandler(&logs, nil))); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "URL forwarded to the running tray") {
		t.Fatalf("log %s", logs.String())
	}
}
