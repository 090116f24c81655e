package launcher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/heidi-tray/heidi-tray/launcher/internal/atomicfile"
	"github.com/heidi-tray/heidi-tray/launcher/internal/strictjson"
	"github.com/heidi-tray/heidi-tray/launcher/request"
)

// LastClinician remembers, in a file only this OS user can read, who last
// launched Heidi on this workstation, so their token can be fetched before
// their first launch of the day (the prefetch setting). Unlike the binding
// (a hash), it must be readable: it is written only while prefetch is on, and
// removed when it is turned off or the clinician signs out.
type LastClinician struct{ Path string }

const maxLastClinician = 4 << 10

// Get reads the record; ok is false when there is none (or it is not valid).
func (r LastClinician) Get() (c request.Clinician, ok bool, err error) {
	if r.Path == "" {
		return c, false, nil
	}
	data, err := os.ReadFile(r.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, false, nil
	}
	if err != nil {
		return c, false, err
	}
	if len(data) > maxLastClinician {
		return c, false, fmt.Errorf("%s is larger than %d bytes; delete it", r.Path, maxLastClinician)
	}
	if err := strictjson.Decode(data, &c); err != nil {
		return c, false, fmt.Errorf("%s is not a clinician record (%v); delete it", r.Path, err)
	}
	o := request.Open{Clinician: c}
	if err := o.Validate(); err != nil {
		return c, false, fmt.Errorf("%s names no valid clinician (%v); delete it", r.Path, err)
	}
	return c, true, nil
}

// Set records c.
func (r LastClinician) Set(c request.Clinician) error {
	if r.Path == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(r.Path), 0o700); err != nil {
		return err
	}
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(r.Path, data, 0o600)
}

// Forget removes the record.
func (r LastClinician) Forget() error {
	if r.Path == "" {
		return nil
	}
	if err := os.Remove(r.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Prefetch fetches the token of the clinician last launched here, with the
// region's key read into memory first, so their next launch costs no round
// trip. With the prefetch setting off it forgets the record instead. It
// returns the clinician it fetched for (ok false: none).
func (l *Launcher) Prefetch(ctx context.Context) (request.Clinician, bool, error) {
	if !l.d.Settings.Prefetch {
		if err := l.d.LastClinician.Forget(); err != nil {
			l.d.Log.Warn("could not remove the last clinician record", "err", err)
		}
		return request.Clinician{}, false, nil
	}
	c, ok, err := l.d.LastClinician.Get()
	if err != nil || !ok {
		return c, false, err
	}
	if p := l.Policy(); p.Disabled {
		return c, false, nil
	} else if !request.DomainAllowed(c.Email, p.AllowedEmailDomains) {
		return c, false, l.d.LastClinician.Forget() // the policy changed since
	}
	if err := l.cache.Prefetch(ctx, c); err != nil {
		return c, false, fmt.Errorf("prefetching the last clinician's token: %w", err)
	}
	l.d.Log.Info("token prefetched for the clinician last launched here", "clinician", c)
	return c, true, nil
}

// PreloadKey reads a region's API key into memory (start-up), so the first
// token fetch does not wait for the keychain.
func (l *Launcher) PreloadKey(ctx context.Context, region string) error {
	_, err := l.apiKey(ctx, region)
	return err
}

// LastClinician is the clinician last launched here, when prefetch is on.
func (l *Launcher) LastClinician() (request.Clinician, bool) {
	if !l.d.Settings.Prefetch {
		return request.Clinician{}, false
	}
	c, ok, _ := l.d.LastClinician.Get()
	return c, ok
}
