package tokens

import "github.com/heidi-tray/heidi-tray/launcher/secret"

func jwt(s string) secret.JWT { return secret.NewJWT(s) }
