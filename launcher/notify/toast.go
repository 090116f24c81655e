package notify

import "strings"

// command is a notification helper process: the text travels in its
// environment, never in its arguments or script, so no escaping can turn a
// message into code and nothing shows in a process list.
type command struct {
	name  string
	args  []string
	env   []string
	stdin string
}

// maxText bounds what a notification shows.
const maxText = 400

func clip(s string) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) > maxText {
		s = strings.ToValidUTF8(s[:maxText], "") + "…" // not half a character
	}
	return s
}

// toastScript shows a Windows 10/11 toast through the WinRT API from
// PowerShell, under PowerShell's registered app id (an unregistered id shows
// nothing). It reads the text from the environment.
const toastScript = `$ErrorActionPreference = 'Stop'
[Windows.UI.Notifications.ToastNotificationManager, Windows.UI.Notifications, ContentType = WindowsRuntime] > $null
$xml = [Windows.UI.Notifications.ToastNotificationManager]::GetTemplateContent([Windows.UI.Notifications.ToastTemplateType]::ToastText02)
$t = $xml.GetElementsByTagName('text')
$t.Item(0).AppendChild($xml.CreateTextNode($env:HEIDI_TRAY_TOAST_TITLE)) > $null
$t.Item(1).AppendChild($xml.CreateTextNode($env:HEIDI_TRAY_TOAST_BODY)) > $null
$n = [Windows.UI.Notifications.ToastNotification]::new($xml)
[Windows.UI.Notifications.ToastNotificationManager]::CreateToastNotifier('{1AC14E77-02E7-4E5D-B744-2EB1AE5198B7}\WindowsPowerShell\v1.0\powershell.exe').Show($n)
`

func windowsToast(title, body string) command {
	return command{
		name:  "powershell.exe",
		args:  []string{"-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-WindowStyle", "Hidden", "-Command", "-"},
		env:   []string{"HEIDI_TRAY_TOAST_TITLE=" + clip(title), "HEIDI_TRAY_TOAST_BODY=" + clip(body)},
		stdin: toastScript,
	}
}

// macNotification uses Notification Center through osascript.
func macNotification(title, body string) command {
	return command{
		name: "/usr/bin/osascript",
		args: []string{"-e", `display notification (system attribute "HEIDI_TRAY_TOAST_BODY") with title (system attribute "HEIDI_TRAY_TOAST_TITLE")`},
		env:  []string{"HEIDI_TRAY_TOAST_TITLE=" + clip(title), "HEIDI_TRAY_TOAST_BODY=" + clip(body)},
	}
}
