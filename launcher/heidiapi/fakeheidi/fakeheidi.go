// Package fakeheidi is a faithful stand-in for Heidi's JWT endpoint, used by
// the tests and by 'heidi-tray sandbox'. It follows the documented contract
// (GET …/open-api/jwt, header Heidi-Api-Key, query email and
// third_party_internal_id, 200 {token, expiration_time}) and FastAPI-style
// error bodies, with switches for every failure heidi-tray must survive.
package fakeheidi

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Path is where the JWT endpoint lives on the fake, as on Heidi.
const (
	BasePath = "/api/v2/ml-scribe/open-api"
	Path     = BasePath + "/jwt"
)

// Fault is a scripted answer for one upcoming call.
type Fault struct {
	Status     int           // HTTP status to answer with (0: normal 200)
	Body       string        // raw body; default is a FastAPI detail for Status
	RetryAfter string        // Retry-After header value
	Delay      time.Duration // extra delay before answering (timeouts)
	Trickle    bool          // send the body one byte at a time, slowly
	Expired    bool          // a 200 whose token is already expired
}

// Call is one request the fake saw, for tests to assert on.
type Call struct {
	Time        time.Time
	Method      string
	Path        string
	Host        string
	APIKey      string
	Email       string
	UserID      string
	RawQuery    string
	ExtraParams []string
	Status      int    // 0 while the answer is still being sent
	Proto       string // HTTP/1.1 or HTTP/2.0
}

// Server is the fake. Its zero value is not usable; call New.
type Server struct {
	mu       sync.Mutex
	keys     map[string]bool
	latency  time.Duration
	lifetime time.Duration
	clock    time.Duration // offset of the fake's clock (Date header, expiry) from real time
	faults   []Fault
	calls    []Call
	issued   map[string]bool
}

// New returns a fake that accepts the given API keys.
func New(keys ...string) *Server {
	s := &Server{keys: map[string]bool{}, lifetime: time.Hour, issued: map[string]bool{}}
	for _, k := range keys {
		s.keys[k] = true
	}
	return s
}

// SetLatency adds a delay to every answer (a clinic-to-cloud round trip).
func (s *Server) SetLatency(d time.Duration) { s.mu.Lock(); s.latency = d; s.mu.Unlock() }

// SetLifetime sets how long issued tokens live.
func (s *Server) SetLifetime(d time.Duration) { s.mu.Lock(); s.lifetime = d; s.mu.Unlock() }

// SetClockOffset makes the fake's clock (Date header and expiration_time) run
// ahead (or behind) real time, as if the workstation's clock were wrong.
func (s *Server) SetClockOffset(d time.Duration) { s.mu.Lock(); s.clock = d; s.mu.Unlock() }

// SetKeys replaces the accepted keys (a key revoked mid-day).
func (s *Server) SetKeys(keys ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = map[string]bool{}
	for _, k := range keys {
		s.keys[k] = true
	}
}

// Queue scripts the next calls' answers, in order.
func (s *Server) Queue(f ...Fault) { s.mu.Lock(); s.faults = append(s.faults, f...); s.mu.Unlock() }

// Calls returns a copy of the call log.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// IssuedTokens lists every token handed out (for leak sweeps).
func (s *Server) IssuedTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.issued))
	for t := range s.issued {
		out = append(out, t)
	}
	return out
}

// Issued reports whether tok is a token this fake handed out.
func (s *Server) Issued(tok string) bool { s.mu.Lock(); defer s.mu.Unlock(); return s.issued[tok] }

// ServeHTTP implements the endpoint.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	latency, lifetime, offset := s.latency, s.lifetime, s.clock
	var f Fault
	if len(s.faults) > 0 {
		f, s.faults = s.faults[0], s.faults[1:]
	}
	q := r.URL.Query()
	call := Call{Time: time.Now(), Method: r.Method, Path: r.URL.Path, Host: r.Host, APIKey: r.Header.Get("Heidi-Api-Key"),
		Email: q.Get("email"), UserID: q.Get("third_party_internal_id"), RawQuery: r.URL.RawQuery, Proto: r.Proto}
	for k := range q {
		if k != "email" && k != "third_party_internal_id" {
			call.ExtraParams = append(call.ExtraParams, k)
		}
	}
	keyOK := s.keys[call.APIKey]
	// Logged on arrival, so a call whose client already gave up is counted.
	idx := len(s.calls)
	s.calls = append(s.calls, call)
	s.mu.Unlock()

	status := s.answer(w, r, call, f, keyOK, latency+f.Delay, lifetime, offset)
	s.mu.Lock()
	s.calls[idx].Status = status
	s.mu.Unlock()
}

func (s *Server) answer(w http.ResponseWriter, r *http.Request, c Call, f Fault, keyOK bool, delay, lifetime, offset time.Duration) int {
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return 0
		}
	}
	now := time.Now().Add(offset)
	w.Header().Set("Date", now.UTC().Format(http.TimeFormat))
	if r.URL.Path != Path {
		return detailErr(w, 404, "Not Found", "NotFoundError")
	}
	if r.Method != http.MethodGet {
		return detailErr(w, 405, "Method Not Allowed", "MethodNotAllowedError")
	}
	if f.Status != 0 && f.Status != 200 {
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		if f.Body != "" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(f.Status)
			writeMaybeTrickle(w, r, f.Body, f.Trickle)
			return f.Status
		}
		return detailErr(w, f.Status, http.StatusText(f.Status), "FakeInjectedError")
	}
	if c.APIKey == "" || !keyOK {
		return detailErr(w, 401, "Invalid or missing Heidi-Api-Key", "InvalidApiKeyError")
	}
	// FastAPI answers missing query parameters with 422 and a detail array.
	var missing []string
	if c.Email == "" {
		missing = append(missing, "email")
	}
	if c.UserID == "" {
		missing = append(missing, "third_party_internal_id")
	}
	if len(missing) > 0 {
		items := make([]map[string]any, 0, len(missing))
		for _, m := range missing {
			items = append(items, map[string]any{"loc": []string{"query", m}, "msg": "Field required", "type": "missing"})
		}
		writeJSON(w, 422, map[string]any{"detail": items})
		return 422
	}
	if !strings.Contains(c.Email, "@") {
		return detailErr(w, 400, "Invalid email address", "InvalidEmailError")
	}
	exp := now.Add(lifetime)
	if f.Expired {
		exp = now.Add(-time.Minute)
	}
	tok := makeJWT(c.Email, c.UserID, exp)
	s.mu.Lock()
	s.issued[tok] = true
	s.mu.Unlock()
	body, _ := json.Marshal(map[string]string{"token": tok, "expiration_time": exp.UTC().Format("2006-01-02T15:04:05.000Z")})
	if f.Body != "" { // a 200 with a scripted (e.g. invalid) body
		body = []byte(f.Body)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(200)
	writeMaybeTrickle(w, r, string(body), f.Trickle)
	return 200
}

func writeMaybeTrickle(w http.ResponseWriter, r *http.Request, body string, trickle bool) {
	if !trickle {
		fmt.Fprint(w, body)
		return
	}
	fl, _ := w.(http.Flusher)
	for i := 0; i < len(body); i++ {
		w.Write([]byte{body[i]})
		if fl != nil {
			fl.Flush()
		}
		select {
		case <-r.Context().Done(): // the client gave up
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func detailErr(w http.ResponseWriter, status int, msg, typ string) int {
	writeJSON(w, status, map[string]any{"detail": map[string]string{"msg": msg, "type": typ}})
	return status
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// makeJWT builds an unsigned-looking but well-formed JWT (header.payload.sig).
func makeJWT(email, userID string, exp time.Time) string {
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	payload, _ := json.Marshal(map[string]any{"sub": userID, "email": email, "exp": exp.Unix(), "iss": "fake-heidi"})
	sig := make([]byte, 32)
	rand.Read(sig)
	return header + "." + enc.EncodeToString(payload) + "." + enc.EncodeToString(sig)
}

// TLSServer is the fake served over TLS (HTTP/2 and HTTP/1.1) on loopback
// with a fresh test CA, counting TLS handshakes: each is a new connection a
// client had to set up.
type TLSServer struct {
	URL        string // https://127.0.0.1:port
	srv        *http.Server
	ln         net.Listener
	caPEM      []byte
	handshakes atomic.Int64
	done       chan struct{}
	mu         sync.Mutex
	conns      map[net.Conn]bool
}

// StartTLS serves s over TLS on 127.0.0.1. idle is how long the server keeps
// an idle connection open (0: no limit).
func (s *Server) StartTLS(idle time.Duration) (*TLSServer, error) {
	cert, caPEM, err := testCert()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	ts := &TLSServer{URL: "https://" + ln.Addr().String(), ln: ln, caPEM: caPEM, done: make(chan struct{}), conns: map[net.Conn]bool{}}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}}
	cfg.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		ts.handshakes.Add(1)
		return nil, nil
	}
	ts.srv = &http.Server{Handler: s, IdleTimeout: idle, ReadHeaderTimeout: 10 * time.Second, TLSConfig: cfg,
		ErrorLog: log.New(io.Discard, "", 0), ConnState: ts.track}
	go func() { defer close(ts.done); ts.srv.ServeTLS(ln, "", "") }()
	return ts, nil
}

// Handshakes is the number of TLS handshakes the server has seen.
func (ts *TLSServer) Handshakes() int { return int(ts.handshakes.Load()) }

// CAPEM is the test CA's certificate in PEM, for a client's trust roots.
func (ts *TLSServer) CAPEM() []byte { return ts.caPEM }

// Addr is the listener's host:port.
func (ts *TLSServer) Addr() string { return ts.ln.Addr().String() }

// CloseClientConnections drops every connection at once, as a server (or a
// middlebox) that closes idle connections does.
func (ts *TLSServer) CloseClientConnections() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for c := range ts.conns {
		c.Close()
	}
}

func (ts *TLSServer) track(c net.Conn, st http.ConnState) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	switch st {
	case http.StateNew:
		ts.conns[c] = true
	case http.StateClosed, http.StateHijacked:
		delete(ts.conns, c)
	}
}

// Close stops the server and every connection.
func (ts *TLSServer) Close() {
	ts.srv.Close()
	<-ts.done
}

// testCert makes a self-signed CA certificate for 127.0.0.1 and localhost.
func testCert() (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "fake Heidi test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}
