// Package sessions remembers which Heidi session belongs to which encounter,
// so opening the same encounter again reopens its session. It stores ids
// only (no notes, no tokens) in a small JSON file in the state directory.
package sessions

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/heidi-tray/heidi-tray/launcher/internal/atomicfile"
)

// MaxEntries bounds the file; the oldest entries go first.
const MaxEntries = 5000

// Store is safe for concurrent use.
type Store struct {
	path string
	mu   sync.Mutex
	m    map[string]entry
}

type entry struct {
	SessionID string    `json:"session_id"`
	Updated   time.Time `json:"updated"`
}

// Open loads the store at path (a missing file is an empty store; a corrupt
// one is set aside, never fatal).
func Open(path string) (*Store, error) {
	s := &Store{path: path, m: map[string]entry{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if json.Unmarshal(data, &s.m) != nil {
		os.Rename(path, path+".corrupt")
		s.m = map[string]entry{}
	}
	return s, nil
}

// key hashes the identifiers so the file holds no emails or patient ids.
func key(region, email, userID, patientID, encounterID string) string {
	h := sha256.Sum256([]byte(region + "\x00" + email + "\x00" + userID + "\x00" + patientID + "\x00" + encounterID))
	return hex.EncodeToString(h[:16])
}

// Get returns the session id stored for the encounter.
func (s *Store) Get(region, email, userID, patientID, encounterID string) string {
	if encounterID == "" {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[key(region, email, userID, patientID, encounterID)].SessionID
}

// Put records the session id for the encounter and saves the file.
func (s *Store) Put(region, email, userID, patientID, encounterID, sessionID string) error {
	if encounterID == "" || sessionID == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key(region, email, userID, patientID, encounterID)] = entry{SessionID: sessionID, Updated: time.Now().UTC()}
	for len(s.m) > MaxEntries {
		var oldK string
		var oldT time.Time
		for k, e := range s.m {
			if oldK == "" || e.Updated.Before(oldT) {
				oldK, oldT = k, e.Updated
			}
		}
		delete(s.m, oldK)
	}
	data, err := json.Marshal(s.m)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(s.path, data, 0o600); err != nil {
		return fmt.Errorf("saving sessions: %w", err)
	}
	return nil
}
