package testrig

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// KDC is a throwaway MIT Kerberos realm (Debian's krb5-kdc) on loopback,
// with its database, config and logs under the test's temp dir. Nothing
// system-wide is read or written: KRB5_CONFIG and KRB5_KDC_PROFILE point
// every MIT tool at the files here.
type KDC struct {
	Realm  string
	Dir    string
	Port   int
	Config string // krb5.conf for clients (and gokrb5)
	env    []string
	cmd    *exec.Cmd
}

// StartKDC creates a realm and starts krb5kdc for it; the test's cleanup
// stops it. Missing packages skip the test (fail under CI=true).
func StartKDC(t testing.TB) *KDC {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the Kerberos KDC rig is Linux-only")
	}
	for _, p := range [][2]string{{"krb5kdc", "krb5-kdc"}, {"kdb5_util", "krb5-kdc"}, {"kadmin.local", "krb5-admin-server"}, {"kinit", "krb5-user"}, {"klist", "krb5-user"}} {
		if _, err := exec.LookPath(p[0]); err != nil {
			if _, err2 := os.Stat("/usr/sbin/" + p[0]); err2 != nil {
				Missing(t, "MIT Kerberos "+p[0]+" (Debian package "+p[1]+")", "not installed")
			}
		}
	}
	dir := ShortTempDir(t)
	k := &KDC{Realm: "HEIDI.TEST", Dir: dir, Port: freePort(t)}
	k.Config = filepath.Join(dir, "krb5.conf")
	kdcConf := filepath.Join(dir, "kdc.conf")
	write := func(name, body string) {
		if err := os.WriteFile(name, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(k.Config, fmt.Sprintf(`[libdefaults]
	default_realm = %[1]s
	dns_lookup_kdc = false
	dns_lookup_realm = false
	rdns = false
	udp_preference_limit = 1
	default_ccache_name = FILE:%[2]s/ccache-default
	default_tkt_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96
	default_tgs_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96
	permitted_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96
[realms]
	%[1]s = {
		kdc = 127.0.0.1:%[3]d
	}
[domain_realm]
	localhost = %[1]s
`, k.Realm, dir, k.Port))
	write(kdcConf, fmt.Sprintf(`[kdcdefaults]
	kdc_listen = 127.0.0.1:%[3]d
	kdc_tcp_listen = 127.0.0.1:%[3]d
[realms]
	%[1]s = {
		database_name = %[2]s/principal
		key_stash_file = %[2]s/stash
		acl_file = %[2]s/kadm5.acl
		max_life = 10h
		max_renewable_life = 0
		supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
	}
[logging]
	kdc = FILE:%[2]s/kdc.log
	admin_server = FILE:%[2]s/kadmin.log
	default = FILE:%[2]s/krb5lib.log
`, k.Realm, dir, k.Port))
	write(filepath.Join(dir, "kadm5.acl"), "")
	k.env = SetEnv(os.Environ(), "KRB5_CONFIG="+k.Config, "KRB5_KDC_PROFILE="+kdcConf, "KRB5CCNAME=FILE:"+filepath.Join(dir, "ccache-default"),
		"PATH="+os.Getenv("PATH")+":/usr/sbin")
	k.run(t, "", "kdb5_util", "-r", k.Realm, "create", "-s", "-P", "rig-master-password")
	cmd := exec.Command("krb5kdc", "-n", "-r", k.Realm)
	cmd.Env = k.env
	if path, err := exec.LookPath("krb5kdc"); err != nil {
		cmd.Path = "/usr/sbin/krb5kdc"
	} else {
		cmd.Path = path
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting krb5kdc: %v", err)
	}
	Own(cmd)
	k.cmd = cmd
	t.Cleanup(func() { stop(cmd) })
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(k.Port), time.Second)
		if err == nil {
			c.Close()
			break
		}
		if i > 200 {
			log, _ := os.ReadFile(filepath.Join(dir, "kdc.log"))
			t.Fatalf("krb5kdc did not listen on port %d: %v\n%s", k.Port, err, log)
		}
		time.Sleep(25 * time.Millisecond)
	}
	return k
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (k *KDC) run(t testing.TB, stdin, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = k.env
	if path, err := exec.LookPath(name); err != nil {
		cmd.Path = "/usr/sbin/" + name
	} else {
		cmd.Path = path
	}
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Admin runs one kadmin.local query (addprinc, modprinc, ktadd, …).
func (k *KDC) Admin(t testing.TB, query string) string {
	t.Helper()
	return k.run(t, "", "kadmin.local", "-r", k.Realm, "-q", query)
}

// AddUser creates a user principal with a password.
func (k *KDC) AddUser(t testing.TB, name, password string) {
	t.Helper()
	k.Admin(t, fmt.Sprintf("addprinc -pw %s %s", password, name))
}

// ServiceKeytab creates (or re-keys) a service principal and writes its keys
// to a keytab file readable only by this process's user.
func (k *KDC) ServiceKeytab(t testing.TB, spn, path string) {
	t.Helper()
	if !strings.Contains(k.Admin(t, "getprinc "+spn), "Principal: ") {
		k.Admin(t, "addprinc -randkey "+spn)
	}
	k.Admin(t, fmt.Sprintf("ktadd -k %s %s", path, spn))
}

// Kinit logs a user in, writing a ticket cache (FILE:path) with the given
// ticket lifetime ("" for the realm's default).
func (k *KDC) Kinit(t testing.TB, user, password, ccache, lifetime string) {
	t.Helper()
	args := []string{"-c", "FILE:" + ccache}
	if lifetime != "" {
		args = append(args, "-l", lifetime)
	}
	k.run(t, password+"\n", "kinit", append(args, user+"@"+k.Realm)...)
}

// Env is the environment for MIT tools and clients of this realm.
func (k *KDC) Env() []string { return append([]string(nil), k.env...) }
