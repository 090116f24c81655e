package tokens

import "github.com/heidi-tray/heidi-tray/launcher/heidiapi"

func jwt(s string) heidiapi.JWT { return heidiapi.NewJWT(s) }
