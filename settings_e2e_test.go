//go:build linux

package main

import (
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

func TestSettingsPageStoresKeysInTheKeychain(t *testing.T) {
	w, ctx := pageWorld(t) // AU key already set
	w.cli("", "key", "delete", "--region", "EU")
	t.Cleanup(func() { w.cli("", "key", "delete", "--region", "EU") })
	if r := w.cli("", "setup"); r.code != 0 {
		t.Fatal(r)
	}
	w.waitBrowser(1)
	navigateRedirectTo(t, ctx, w.browserArgs()[0], "/settings") // through the redirect file, as a browser does
	if loc := get(t, ctx, chromedp.Location()); !strings.HasSuffix(loc, "/settings") {
		t.Fatalf("settings page at %s", loc)
	}
	waitText := func(sel, want string) {
		for i := 0; !strings.Contains(text(t, ctx, sel), want); i++ {
			if i > 200 {
				t.Fatalf("%s shows %q, want %q", sel, text(t, ctx, sel), want)
			}
			time.Sleep(25 * time.Millisecond)
		}
	}
	waitText("#keys", "AU****3a9c")
	const euKey = "hk_eu_PASTED_IN_THE_PAGE_9876"
	w.extraSecrets = append(w.extraSecrets, euKey)
	w.fake.SetKeys(e2eKey, euKey)
	run(t, ctx,
		chromedp.SetValue(chromedp.CSS("#key-region"), "EU"),
		chromedp.SendKeys(chromedp.CSS("#key-value"), euKey),
		chromedp.Click(chromedp.CSS("#key-form button")),
	)
	waitText("#notice", "Saved the EU key")
	waitText("#keys", "EU****9876")
	// It is in the real keychain, and only there.
	out, err := exec.Command("secret-tool", "lookup", "service", "heidi-tray", "username", "api-key-EU").Output()
	if err != nil || string(out) != euKey {
		t.Fatalf("keychain holds %q (%v)", out, err)
	}
	html := get(t, ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	if strings.Contains(html, euKey) || strings.Contains(html, e2eKey) {
		t.Fatal("a key is in the settings page's HTML")
	}
	// Test the connection with the new key: a real request for the test identity.
	run(t, ctx, chromedp.SetValue(chromedp.CSS("#test-region"), "EU"), chromedp.Click(chromedp.CSS("#test-form button")))
	waitText("#test-result", "Heidi accepted the EU key")
	calls := w.fake.Calls()
	if last := calls[len(calls)-1]; last.APIKey != euKey || last.Email != "test@heidihealth.com" {
		t.Fatalf("test connection call: %+v", last)
	}
	// A wrong key is reported plainly.
	w.fake.SetKeys(e2eKey)
	run(t, ctx, chromedp.Click(chromedp.CSS("#test-form button")))
	waitText("#test-result", "✗ Heidi rejected the EU API key")
	// No answer the settings page can get afterwards carries a key.
	for _, call := range []string{
		`fetch("/api/settings/state", {method: "POST", headers: {"Content-Type": "application/json"}, body: "{}"}).then(r => r.text())`,
		`fetch("/settings").then(r => r.text())`,
		`fetch("/api/settings/test", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({region: "AU"})}).then(r => r.text())`,
	} {
		body := get(t, ctx, chromedp.Evaluate[string](call, chromedp.EvalAwaitPromise))
		if body == "" || strings.Contains(body, euKey) || strings.Contains(body, e2eKey) {
			t.Fatalf("%.40s answered %q", call, body)
		}
	}
}

func TestSettingsAPINeedsTheSettingsSession(t *testing.T) {
	w, ctx := pageWorld(t)
	openPage(t, w, ctx, drA...) // a widget session is not a settings session
	res := get(t, ctx, chromedp.Evaluate[float64](`fetch("/api/settings/key", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({region: "UK", key: "stolen-key-123"})}).then(r => r.status)`, chromedp.EvalAwaitPromise))
	if res != 401 {
		t.Fatalf("widget page could call the settings API: %v", res)
	}
	origin := get(t, ctx, chromedp.Evaluate[string](`location.origin`))
	for _, hdr := range []map[string]string{{"Host": "attacker.example"}, {"Origin": "http://evil.example"}} {
		req, _ := http.NewRequest("POST", origin+"/api/settings/key", strings.NewReader(`{"region":"UK","key":"x-key-123"}`))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range hdr {
			if k == "Host" {
				req.Host = v
			} else {
				req.Header.Set(k, v)
			}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 421 && resp.StatusCode != 403 {
			t.Fatalf("%v: %d", hdr, resp.StatusCode)
		}
	}
	if out, _ := exec.Command("secret-tool", "lookup", "service", "heidi-tray", "username", "api-key-UK").Output(); len(out) != 0 {
		t.Fatal("a key was stored without the settings session")
	}
}
