package ipc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/windows"

	"github.com/heidi-tray/heidi-tray/launcher/request"
	"github.com/heidi-tray/heidi-tray/launcher/wire"
)

type stub struct{}

func (stub) Open(_ context.Context, o request.Open, _ bool) (wire.OpenResult, error) {
	return wire.OpenResult{Status: "opened", LaunchID: o.Email}, nil
}
func (stub) OpenURL(context.Context, string) (wire.OpenResult, error)                     { return wire.OpenResult{}, nil }
func (stub) Logout(context.Context) error                                                 { return nil }
func (stub) Status(context.Context) wire.Status                                           { return wire.Status{State: "ready"} }
func (stub) DefaultRegion() string                                                        { return "AU" }
func (stub) WaitNote(context.Context, string) (*wire.Note, error)                         { return nil, nil }
func (stub) Subscribe(ctx context.Context) <-chan wire.Event                              { return make(chan wire.Event) }
func (stub) OpenSettings() error                                                          { return nil }
func (stub) KeysChanged()                                                                 {}
func (stub) ProvideToken(context.Context, request.Clinician, string, time.Duration) error { return nil }
func (stub) Window(context.Context) wire.WindowState                                      { return wire.WindowState{} }
func (stub) Notes(context.Context, uint64, int) ([]wire.Note, uint64, error)              { return nil, 0, nil }
func (stub) AckNote(context.Context, string, string) (bool, error)                        { return false, nil }
func (stub) ClaimNote(context.Context, string, string, time.Duration) error               { return nil }
func (stub) LastSeq() uint64                                                              { return 0 }
func (stub) Quit()                                                                        {}

func testEndpoint(t *testing.T) Endpoint {
	return Endpoint{Path: fmt.Sprintf(`\\.\pipe\heidi-tray-test-%d-%s`, os.Getpid(), strings.ReplaceAll(t.Name(), "/", "-"))}
}

func TestPipeRoundTripWithTheRealAPI(t *testing.T) {
	ep := testEndpoint(t)
	l, err := listen(ep.Path)
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(stub{}, slog.New(slog.DiscardHandler))
	go srv.Serve(l)
	defer srv.Shutdown(context.Background())
	c := NewClient(ep.Path)
	res, err := c.Open(context.Background(), request.Open{Clinician: request.Clinician{Email: "dr.a@clinic.example", UserID: "1"}})
	if err != nil || res.Status != "opened" || res.LaunchID != "dr.a@clinic.example" {
		t.Fatalf("open over the pipe: %+v %v", res, err)
	}
	// Validation happens on this side of the pipe too.
	if _, err := c.Open(context.Background(), request.Open{Clinician: request.Clinician{Email: "nope", UserID: "1"}}); err == nil || !strings.Contains(err.Error(), "email") {
		t.Fatalf("invalid request: %v", err)
	}
	// A pipe name that exists cannot be created again (no joining a
	// squatter's pipe). Wine does not enforce first-instance creation; there
	// the per-session mutex is what keeps a second tray out.
	if l2, err := listen(ep.Path); err == nil {
		l2.Close()
		if !underWine() {
			t.Fatal("a second listener joined the existing pipe")
		}
		t.Log("Wine: first-instance creation not enforced (real Windows refuses)")
	}
}

func TestNoPipeMeansNotRunning(t *testing.T) {
	_, err := NewClient(testEndpoint(t).Path).Status(context.Background())
	if !NotRunning(err) {
		t.Fatalf("dialing a missing pipe: %v should mean not running", err)
	}
}

func TestPipeGrantsOnlyThisUserAndSystem(t *testing.T) {
	sddl, err := PipeSDDL()
	if err != nil {
		t.Fatal(err)
	}
	sd, err := windows.SecurityDescriptorFromString(sddl)
	if err != nil {
		t.Fatalf("SDDL %q does not parse: %v", sddl, err)
	}
	dacl, _, err := sd.DACL()
	if err != nil || dacl == nil || dacl.AceCount != 2 {
		t.Fatalf("DACL of %q: %v", sddl, err)
	}
	u, _ := windows.GetCurrentProcessToken().GetTokenUser()
	if !strings.Contains(sddl, u.User.Sid.String()) || !strings.HasPrefix(sddl, "D:P(") || strings.Contains(sddl, ";;;WD)") || strings.Contains(sddl, ";;;AN)") {
		t.Fatalf("SDDL %q must protect the DACL and name only this user and SYSTEM", sddl)
	}
	// The pipe really carries it.
	ep := testEndpoint(t)
	l, err := listen(ep.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got, err := windows.GetNamedSecurityInfo(ep.Path, windows.SE_KERNEL_OBJECT, windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		t.Skipf("reading a pipe's security back is not supported here (Wine): %v", err)
	}
	if s := got.String(); strings.Contains(s, ";;;WD)") || strings.Contains(s, ";;;AN)") {
		t.Fatalf("the pipe admits Everyone or Anonymous: %s", s)
	}
}

func TestOneInstancePerSession(t *testing.T) {
	unlock, err := claimInstance("")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := claimInstance(""); !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("second claim: %v", err)
	}
	unlock()
	again, err := claimInstance("")
	if err != nil {
		t.Fatalf("claim after release: %v", err)
	}
	again()
}
