package outbox

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/heidi-tray/heidi-tray/launcher/wire"
)

func note(id, launch, text string) wire.Note {
	return wire.Note{ID: id, LaunchID: launch, Kind: "data", Text: text, ContentKey: ContentKey(launch, "data", []byte(text))}
}

func TestSequenceSurvivesRestartsAndRemoval(t *testing.T) {
	dir := t.TempDir()
	o, _ := Open(dir, 0)
	for i, id := range []string{"a", "b", "c"} {
		n, dup, err := o.Add(note(id, "L1", id))
		if err != nil || dup || n.Seq != uint64(i+1) || n.File != filepath.Join(dir, id+".json") {
			t.Fatalf("add %s: %+v %v %v", id, n, dup, err)
		}
	}
	// Acknowledged and deleted at once (retention 0): the next seq still grows.
	if already, err := o.Ack("c", ""); err != nil || already {
		t.Fatal(already, err)
	}
	o2, err := Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	n, _, _ := o2.Add(note("d", "L1", "d"))
	if n.Seq != 4 {
		t.Fatalf("after a restart the next seq is %d, want 4", n.Seq)
	}
	p, _ := o2.Pending(1, 0)
	if len(p) != 2 || p[0].ID != "b" || p[1].ID != "d" {
		t.Fatalf("pending after 1: %+v", p)
	}
	if p, _ := o2.Pending(0, 1); len(p) != 1 || p[0].ID != "a" {
		t.Fatalf("limit: %+v", p)
	}
}

func TestARepushIsTheSameNote(t *testing.T) {
	o, _ := Open(t.TempDir(), time.Hour)
	first, _, _ := o.Add(note("a", "L1", "same"))
	again, dup, err := o.Add(note("b", "L1", "same"))
	if err != nil || !dup || again.ID != "a" || again.Seq != first.Seq {
		t.Fatalf("re-push: %+v dup=%v %v", again, dup, err)
	}
	// The same text from another launch is another note.
	if other, dup, _ := o.Add(note("c", "L2", "same")); dup || other.Seq != 2 {
		t.Fatalf("another launch: %+v %v", other, dup)
	}
	// Still recognised after it was acknowledged.
	o.Ack("a", "")
	if _, dup, _ := o.Add(note("d", "L1", "same")); !dup {
		t.Fatal("a re-push after the ack made a second note")
	}
}

func TestClaimsAndAcks(t *testing.T) {
	o, _ := Open(t.TempDir(), time.Hour)
	now := time.Now()
	o.now = func() time.Time { return now }
	o.Add(note("a", "L1", "x"))
	if err := o.Claim("a", "emr-1", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := o.Claim("a", "emr-2", time.Minute); !errors.Is(err, ErrClaimed) {
		t.Fatalf("a second owner's claim: %v", err)
	}
	if _, err := o.Ack("a", "emr-2"); !errors.Is(err, ErrClaimed) {
		t.Fatalf("another owner's ack: %v", err)
	}
	now = now.Add(2 * time.Minute) // the lease ran out: anyone may
	if already, err := o.Ack("a", "emr-2"); err != nil || already {
		t.Fatal(already, err)
	}
	if already, err := o.Ack("a", "emr-1"); err != nil || !already {
		t.Fatalf("a second ack: %v %v", already, err)
	}
	if _, err := o.Ack("zzz", ""); !errors.Is(err, ErrUnknown) {
		t.Fatal(err)
	}
	if err := o.Claim("a", "emr-1", time.Minute); !errors.Is(err, ErrUnknown) {
		t.Fatalf("claiming an acknowledged note: %v", err)
	}
}

func TestRetentionSweepsAcknowledgedNotesOnly(t *testing.T) {
	dir := t.TempDir()
	o, _ := Open(dir, time.Hour)
	now := time.Now()
	o.now = func() time.Time { return now }
	o.Add(note("a", "L1", "x"))
	o.Add(note("b", "L1", "y"))
	o.Ack("a", "")
	if _, err := os.Stat(filepath.Join(dir, "acked", "a.json")); err != nil {
		t.Fatal("an acknowledged note is not kept for its retention:", err)
	}
	if o.Sweep() != 0 {
		t.Fatal("swept before the retention")
	}
	now = now.Add(2 * time.Hour)
	if o.Sweep() != 1 {
		t.Fatal("did not sweep after the retention")
	}
	if _, err := os.Stat(filepath.Join(dir, "acked", "a.json")); !os.IsNotExist(err) {
		t.Fatal("the file is still there")
	}
	if p, _ := o.Pending(0, 0); len(p) != 1 || p[0].ID != "b" {
		t.Fatalf("a pending note was swept: %+v", p)
	}
}

func TestOnlyNotesAreRead(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ".n.json.tmp-1"), []byte("{"), 0o600)
	os.WriteFile(filepath.Join(dir, "junk.json"), []byte("not json"), 0o600)
	os.WriteFile(filepath.Join(dir, "readme.txt"), []byte("x"), 0o600)
	o, err := Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := o.Pending(0, 0); len(p) != 0 {
		t.Fatalf("pending %+v", p)
	}
}
