package tokenservice

import (
	"fmt"
	"net/http"
	"sort"
	"sync"
)

// metrics are counters in Prometheus' text format, written by hand: a
// dozen lines do not need a client library.
type metrics struct {
	mu      sync.Mutex
	mints   map[string]uint64 // by region
	refusal map[string]uint64 // by code
}

func newMetrics() *metrics {
	return &metrics{mints: map[string]uint64{}, refusal: map[string]uint64{}}
}

func (m *metrics) minted(region string) { m.mu.Lock(); m.mints[region]++; m.mu.Unlock() }
func (m *metrics) refused(code string)  { m.mu.Lock(); m.refusal[code]++; m.mu.Unlock() }

func (m *metrics) serve(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	fmt.Fprintln(w, "# HELP heidi_tokens_minted_total JWTs handed to workstations.")
	fmt.Fprintln(w, "# TYPE heidi_tokens_minted_total counter")
	for _, k := range sorted(m.mints) {
		fmt.Fprintf(w, "heidi_tokens_minted_total{region=%q} %d\n", k, m.mints[k])
	}
	fmt.Fprintln(w, "# HELP heidi_token_requests_refused_total Token requests refused, by reason.")
	fmt.Fprintln(w, "# TYPE heidi_token_requests_refused_total counter")
	for _, k := range sorted(m.refusal) {
		fmt.Fprintf(w, "heidi_token_requests_refused_total{reason=%q} %d\n", k, m.refusal[k])
	}
}

func sorted(m map[string]uint64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
