package testrig

import (
	"crypto/rand"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// OtherUser is a throwaway OS user, created for one test, that plays the
// neighbour on a shared host (a terminal server): its processes run with its
// own uid and gid and no supplementary groups.
type OtherUser struct {
	Name     string
	UID, GID int
	t        testing.TB
}

// NewOtherUser creates a user with useradd and deletes it when the test
// ends. It needs root (CI runs as root); otherwise the test is skipped, or
// fails under CI=true.
func NewOtherUser(t testing.TB) *OtherUser {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the second-OS-user rig is Linux-only")
	}
	if os.Getuid() != 0 {
		Missing(t, "root, to create a second OS user (useradd, setpriv)", "running as uid "+strconv.Itoa(os.Getuid()))
	}
	Need(t, "useradd", "passwd")
	Need(t, "setpriv", "util-linux")
	b := make([]byte, 4)
	rand.Read(b)
	name := "htpeer" + hex.EncodeToString(b)
	var out []byte
	var err error
	for i := 0; i < 20; i++ { // useradd fails while another one holds /etc/passwd's lock
		out, err = exec.Command("useradd", "--no-create-home", "--user-group", "--shell", "/usr/sbin/nologin", name).CombinedOutput()
		if err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("useradd %s: %v: %s", name, err, out)
	}
	u := &OtherUser{Name: name, t: t}
	t.Cleanup(func() {
		for i := 0; i < 20; i++ {
			if exec.Command("userdel", name).Run() == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Errorf("userdel %s failed; remove the user by hand", name)
	})
	pu, err := user.Lookup(name)
	if err != nil {
		t.Fatalf("looking up %s: %v", name, err)
	}
	u.UID, _ = strconv.Atoi(pu.Uid)
	u.GID, _ = strconv.Atoi(pu.Gid)
	return u
}

// Command runs a program as the other user (setpriv --reuid --regid
// --clear-groups). The caller starts it; the test's cleanup kills it by pid.
func (u *OtherUser) Command(program string, args ...string) *exec.Cmd {
	cmd := exec.Command("setpriv", append([]string{"--reuid=" + strconv.Itoa(u.UID), "--regid=" + strconv.Itoa(u.GID), "--clear-groups", "--", program}, args...)...)
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/nonexistent", "LANG=C.UTF-8"}
	u.t.Cleanup(func() {
		if cmd.Process != nil && cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd
}

// Dir is a fresh directory the other user owns and may write in (for its
// own files: a browser profile, a server's logs).
func (u *OtherUser) Dir() string {
	d := SharedDir(u.t)
	sub := filepath.Join(d, u.Name)
	if err := os.Mkdir(sub, 0o700); err != nil {
		u.t.Fatal(err)
	}
	if err := os.Chown(sub, u.UID, u.GID); err != nil {
		u.t.Fatal(err)
	}
	return sub
}

// SharedDir is a temp directory every user can enter and read (not write),
// for programs the other user runs.
func SharedDir(t testing.TB) string {
	d, err := os.MkdirTemp("", "htshared")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(d, 0o755)
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// Share copies this test binary where the other user can run it, and
// returns its path. Run it with HelperEnv to pick the helper's role.
func (u *OtherUser) ShareTestBinary() string {
	self, err := os.Executable()
	if err != nil {
		u.t.Fatal(err)
	}
	dst := filepath.Join(SharedDir(u.t), "helper")
	in, err := os.Open(self)
	if err != nil {
		u.t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		u.t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		u.t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		u.t.Fatal(err)
	}
	return dst
}

// Output runs cmd and returns its trimmed standard output, failing the test
// with standard error when it fails.
func Output(t testing.TB, cmd *exec.Cmd) string {
	t.Helper()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}
