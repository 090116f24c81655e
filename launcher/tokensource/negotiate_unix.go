//go:build !windows

package tokensource

import (
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"strings"

	"github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/credentials"
	"github.com/jcmturner/gokrb5/v8/spnego"
)

// CCache negotiates with the user's Kerberos credential cache (kinit, or the
// desktop's sign-in): KRB5CCNAME, else FILE:/tmp/krb5cc_<uid>; the realm's
// KDCs come from KRB5_CONFIG, else /etc/krb5.conf.
type CCache struct {
	Path   string // FILE: cache; empty means KRB5CCNAME or the default
	Config string // krb5.conf; empty means KRB5_CONFIG or /etc/krb5.conf
}

// SystemNegotiator is the platform's way to sign in to the token service.
func SystemNegotiator() Negotiator { return CCache{} }

func (c CCache) paths() (cache, conf string, err error) {
	cache, conf = c.Path, c.Config
	if cache == "" {
		cache = os.Getenv("KRB5CCNAME")
	}
	if cache == "" {
		cache = fmt.Sprintf("/tmp/krb5cc_%d", os.Getuid())
	}
	if kind, rest, ok := strings.Cut(cache, ":"); ok && !strings.HasPrefix(cache, "/") {
		if kind != "FILE" {
			return "", "", fmt.Errorf("the Kerberos credential cache %s is not a FILE: cache; set KRB5CCNAME=FILE:/path and run kinit", cache)
		}
		cache = rest
	}
	if conf == "" {
		conf = os.Getenv("KRB5_CONFIG")
	}
	if conf == "" {
		conf = "/etc/krb5.conf"
	}
	if i := strings.IndexByte(conf, ':'); i >= 0 { // MIT allows a list; the first file is the main one
		conf = conf[:i]
	}
	return cache, conf, nil
}

// Negotiate implements Negotiator.
func (c CCache) Negotiate(spn string) ([]byte, error) {
	if err := validSPN(spn); err != nil {
		return nil, err
	}
	cachePath, confPath, err := c.paths()
	if err != nil {
		return nil, err
	}
	cfg, err := config.Load(confPath)
	if err != nil {
		return nil, fmt.Errorf("reading the Kerberos config %s: %w", confPath, err)
	}
	cc, err := credentials.LoadCCache(cachePath)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no Kerberos tickets (no credential cache at %s); sign in to the clinic domain or run kinit", cachePath)
		}
		return nil, fmt.Errorf("reading the Kerberos credential cache %s: %w", cachePath, err)
	}
	cl, err := client.NewFromCCache(cc, cfg, client.DisablePAFXFAST(true), client.Logger(log.New(io.Discard, "", 0)))
	if err != nil {
		return nil, fmt.Errorf("the Kerberos tickets in %s cannot be used (%v); sign in again or run kinit", cachePath, err)
	}
	defer cl.Destroy()
	s := spnego.SPNEGOClient(cl, spn)
	if err := s.AcquireCred(); err != nil {
		return nil, fmt.Errorf("cannot get a Kerberos ticket for %s (%v); has your sign-in expired? run kinit or sign in again", spn, err)
	}
	st, err := s.InitSecContext()
	if err != nil {
		return nil, fmt.Errorf("cannot get a Kerberos ticket for %s (%v); has your sign-in expired? run kinit or sign in again", spn, err)
	}
	return st.Marshal()
}
