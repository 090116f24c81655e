// Package logging writes heidi-tray's JSON log to a size-bounded, rotating
// file only the user can read. Secrets redact themselves (launcher/secret);
// emails are masked by request.Clinician's LogValue.
package logging

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
)

// Limits of the log files.
const (
	MaxSize    = 5 << 20 // bytes per file
	MaxBackups = 3       // heidi-tray.log.1 … .3
	FileName   = "heidi-tray.log"
)

// File is a rotating log file.
type File struct {
	mu   sync.Mutex
	path string
	f    *os.File
	size int64
}

// Open opens (or creates) dir/heidi-tray.log.
func Open(dir string) (*File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the log directory: %w", err)
	}
	lf := &File{path: filepath.Join(dir, FileName)}
	if err := lf.open(); err != nil {
		return nil, err
	}
	return lf, nil
}

func (l *File) open() error {
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("opening the log file: %w", err)
	}
	f.Chmod(0o600) // an older file may have looser permissions
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	l.f, l.size = f, fi.Size()
	return nil
}

func (l *File) rotate() error {
	l.f.Close()
	for i := MaxBackups - 1; i >= 1; i-- {
		os.Rename(fmt.Sprintf("%s.%d", l.path, i), fmt.Sprintf("%s.%d", l.path, i+1))
	}
	os.Rename(l.path, l.path+".1")
	return l.open()
}

// Write appends p, rotating first when the file would grow past MaxSize.
func (l *File) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return 0, os.ErrClosed
	}
	if l.size+int64(len(p)) > MaxSize && l.size > 0 {
		if err := l.rotate(); err != nil {
			return 0, err
		}
	}
	n, err := l.f.Write(p)
	l.size += int64(n)
	return n, err
}

// Close closes the file.
func (l *File) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// Path is the current log file.
func (l *File) Path() string { return l.path }

// New returns a JSON logger writing to w at level ("info" or "debug").
func New(w io.Writer, level string) *slog.Logger {
	lv := slog.LevelInfo
	if level == "debug" {
		lv = slog.LevelDebug
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: lv}))
}
