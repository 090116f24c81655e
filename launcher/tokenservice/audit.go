package tokenservice

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// auditRecord is one line of the audit log. It never holds a token or key.
type auditRecord struct {
	Time        string `json:"time"`
	Principal   string `json:"principal,omitempty"`
	Workstation string `json:"workstation,omitempty"`
	Remote      string `json:"remote,omitempty"`
	Email       string `json:"email,omitempty"`
	Region      string `json:"region,omitempty"`
	Result      string `json:"result"`
	Reason      string `json:"reason,omitempty"`
}

type auditLog struct {
	mu sync.Mutex
	f  *os.File
}

func openAudit(path string) (*auditLog, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the audit log: %w", err)
	}
	return &auditLog{f: f}, nil
}

// write appends one record; a failure is logged loudly (the mint has
// happened or been refused either way).
func (a *auditLog) write(now time.Time, r auditRecord, log *slog.Logger) {
	r.Time = now.UTC().Format(time.RFC3339Nano)
	b, _ := json.Marshal(r)
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, err := a.f.Write(append(b, '\n')); err != nil {
		log.Error("cannot write the audit log", "err", err)
	}
}

func (a *auditLog) close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.f.Close()
}
