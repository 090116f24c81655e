//go:build windows

package ipc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/Microsoft/go-winio"
	"golang.org/x/sys/windows"
)

// The endpoint is a named pipe per user *and* logon session, so two
// clinicians on one terminal server never meet: \\.\pipe\heidi-tray-<SID>-<session>.
func endpointPath(string) string {
	sid, session, err := identity()
	if err != nil {
		return `\\.\pipe\heidi-tray-unknown`
	}
	return fmt.Sprintf(`\\.\pipe\heidi-tray-%s-%d`, sid, session)
}

func identity() (sid string, session uint32, err error) {
	u, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return "", 0, err
	}
	if err := windows.ProcessIdToSessionId(windows.GetCurrentProcessId(), &session); err != nil {
		return "", 0, err
	}
	return u.User.Sid.String(), session, nil
}

// PipeSDDL grants the pipe to this user and SYSTEM only: the default DACL
// would let Everyone read it.
func PipeSDDL() (string, error) {
	sid, _, err := identity()
	if err != nil {
		return "", err
	}
	return "D:P(A;;GA;;;" + sid + ")(A;;GA;;;SY)", nil
}

// listen creates the pipe as its first instance (a squatter's pipe makes this
// fail rather than be joined); remote clients are always refused by go-winio.
func listen(path string) (net.Listener, error) {
	sddl, err := PipeSDDL()
	if err != nil {
		return nil, fmt.Errorf("reading this user's SID: %w", err)
	}
	l, err := winio.ListenPipe(path, &winio.PipeConfig{SecurityDescriptor: sddl, InputBufferSize: 64 << 10, OutputBufferSize: 64 << 10})
	if err != nil {
		return nil, fmt.Errorf("creating the pipe %s: %w", path, err)
	}
	if underWine() {
		// Wine hands the first client to go-winio's dormant first instance,
		// which nobody serves; one throwaway connection takes it.
		to := time.Second
		if dummy, err := winio.DialPipe(path, &to); err == nil {
			return &wineListener{Listener: l, dummy: dummy}, nil
		}
	}
	return l, nil
}

type wineListener struct {
	net.Listener
	dummy net.Conn
}

func (w *wineListener) Close() error { w.dummy.Close(); return w.Listener.Close() }

func underWine() bool {
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}

// Dial connects to the endpoint.
func Dial(ctx context.Context, path string) (net.Conn, error) {
	return winio.DialPipeContext(ctx, path)
}

// NotRunning reports whether a dial error means no tray is listening.
func NotRunning(err error) bool {
	return errors.Is(err, os.ErrNotExist) || errors.Is(err, windows.ERROR_FILE_NOT_FOUND) ||
		strings.Contains(fmt.Sprint(err), "cannot find the file")
}

// peerUID: the pipe's DACL admits only this user; there is no uid to compare.
func peerUID(net.Conn) (int, error) { return -1, nil }

// claimInstance takes the per-session named mutex; its handle is held for
// the tray's life (Windows releases it if the tray dies).
func claimInstance(string) (func(), error) {
	sid, _, err := identity()
	if err != nil {
		return nil, err
	}
	name, _ := windows.UTF16PtrFromString(`Local\heidi-tray-` + sid)
	h, err := windows.CreateMutex(nil, false, name)
	if errors.Is(err, windows.ERROR_ALREADY_EXISTS) {
		if h != 0 {
			windows.CloseHandle(h)
		}
		return nil, ErrAlreadyRunning
	}
	if err != nil {
		return nil, fmt.Errorf("creating the instance mutex: %w", err)
	}
	return func() { windows.CloseHandle(h) }, nil
}
