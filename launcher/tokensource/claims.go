package tokensource

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/heidi-tray/heidi-tray/launcher/heidiapi"
	"github.com/heidi-tray/heidi-tray/launcher/request"
)

// maxToken bounds a JWT from outside (Heidi's are about 1 KiB).
const maxToken = 16 << 10

// Claims are what can be read from a JWT without its signing key. They are
// not proof of anything; they catch a token that was meant for someone
// else (a mix-up, or a caller passing another clinician's token).
type Claims struct {
	Email   string `json:"email"`
	Subject string `json:"sub"`
	Expiry  int64  `json:"exp"`
}

// ReadClaims decodes a JWT's payload, refusing anything that is not
// header.payload.signature in base64url with a JSON object in the middle.
func ReadClaims(tok string) (Claims, error) {
	if tok == "" || len(tok) > maxToken {
		return Claims{}, errors.New("the token is empty or longer than 16 KiB")
	}
	for _, r := range tok {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return Claims{}, errors.New("the token has characters a JWT cannot have")
		}
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return Claims{}, errors.New("the token is not a JWT (header.payload.signature)")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return Claims{}, errors.New("the token's payload is not base64url")
	}
	var c Claims
	if err := json.Unmarshal(raw, &c); err != nil {
		return Claims{}, errors.New("the token's payload is not a JSON object with string email/sub and numeric exp")
	}
	return c, nil
}

// checkToken refuses a token that names another clinician or has expired:
// the email claim (when present) must be the launch's email, otherwise the
// subject must be the launch's EMR user id; exp (when present) must be in
// the future and bounds the stated lifetime.
func checkToken(tok string, c request.Clinician, life time.Duration) (heidiapi.Token, error) {
	return checkClaims(tok, c, life, true)
}

// checkServiceToken checks what the clinic token service sent: it has
// already decided whose token this is, so a token without identity claims
// passes (Heidi's claim names are not documented); one that names another
// clinician, or has expired, does not.
func checkServiceToken(tok string, c request.Clinician, life time.Duration) (heidiapi.Token, error) {
	return checkClaims(tok, c, life, false)
}

func checkClaims(tok string, c request.Clinician, life time.Duration, requireIdentity bool) (heidiapi.Token, error) {
	cl, err := ReadClaims(tok)
	if err != nil {
		return heidiapi.Token{}, err
	}
	switch {
	case cl.Email != "":
		if !strings.EqualFold(cl.Email, c.Email) {
			return heidiapi.Token{}, fmt.Errorf("the token is for %s, not the launch's clinician %s", request.MaskEmail(cl.Email), request.MaskEmail(c.Email))
		}
	case cl.Subject != "" && requireIdentity:
		if cl.Subject != c.UserID {
			return heidiapi.Token{}, errors.New("the token's subject is not the launch's EMR user id")
		}
	case requireIdentity:
		return heidiapi.Token{}, errors.New("the token names no clinician (no email or sub claim), so it cannot be checked against the launch")
	}
	now := time.Now()
	if cl.Expiry != 0 {
		exp := time.Unix(cl.Expiry, 0)
		if !exp.After(now) {
			return heidiapi.Token{}, errors.New("the token has expired (its exp claim is in the past)")
		}
		if life <= 0 || exp.Sub(now) < life {
			life = exp.Sub(now)
		}
	}
	if life <= 0 {
		return heidiapi.Token{}, errors.New("the token's expiry is missing or already past")
	}
	if life > 31*24*time.Hour {
		return heidiapi.Token{}, errors.New("the token's expiry is implausibly far in the future")
	}
	return heidiapi.Token{JWT: heidiapi.NewJWT(tok), Expires: now.Add(life), Lifetime: life}, nil
}
