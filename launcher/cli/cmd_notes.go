package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/heidi-tray/heidi-tray/launcher/wire"
)

const notesUsage = `  heidi-tray notes list [--after SEQ] [--json]   notes pushed from Heidi that the EMR has not acknowledged
  heidi-tray notes ack ID [--owner NAME]         file a note as done (it leaves the pending list)
  heidi-tray notes watch [--after SEQ]           print pending notes after SEQ, then new ones, as JSON lines`

var notesCommand = command{name: "notes", usage: notesUsage, run: notesCmd}

func notesCmd(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(env.Stdout, "Usage:\n"+notesUsage+"\n\nExit codes: 0 done, 1 failed (e.g. no such note), 3 no tray running; watch: 5 when the tray stops.\nDocs: docs/ipc.md (Following the note feed)")
		if len(args) == 0 {
			return &UserError{Code: ExitUsage}
		}
		return nil
	}
	sub, args := args[0], args[1:]
	fs := flags("notes " + sub)
	after := fs.Uint64("after", 0, "only notes with a sequence number above this")
	asJSON := fs.Bool("json", false, "print as JSON")
	owner := fs.String("owner", "", "ack: the EMR process acknowledging (see docs/ipc.md on claims)")
	// ack takes the note's id before or after its flags.
	var id string
	var rest []string
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case sub == "ack" && id == "" && !strings.HasPrefix(a, "-"):
			id = a
		case a == "--owner" || a == "-owner" || a == "--after" || a == "-after":
			rest = append(rest, a)
			if i+1 < len(args) {
				i++
				rest = append(rest, args[i])
			}
		default:
			rest = append(rest, a)
		}
	}
	if err := parse(fs, rest); err != nil {
		return err
	}
	c, err := connect(ctx, env, false)
	if err != nil {
		return err
	}
	switch sub {
	case "list":
		page, err := c.Notes(ctx, *after)
		if err != nil {
			return apiErr(err)
		}
		if *asJSON {
			return writeJSON(env.Stdout, page)
		}
		for _, n := range page.Notes {
			patient := n.PatientName
			if patient == "" {
				patient = "(no patient)"
			}
			first, _, _ := strings.Cut(n.Text, "\n")
			fmt.Fprintf(env.Stdout, "%-6d %s  %-20s %s  %s\n", n.Seq, n.ID, oneLine(patient), n.Time, oneLine(first))
		}
		if len(page.Notes) == 0 {
			fmt.Fprintln(env.Stdout, "No notes waiting for the EMR.")
		}
		return nil
	case "ack":
		if id == "" {
			return usageErr("notes ack: name the note's id (heidi-tray notes list)")
		}
		status, err := c.AckNote(ctx, id, *owner)
		if err != nil {
			return apiErr(err)
		}
		fmt.Fprintf(env.Stdout, "%s: %s\n", id, strings.ReplaceAll(status, "_", " "))
		return nil
	case "watch":
		// Follows the feed across dropped streams; ends when the tray stops.
		cursor := int64(*after)
		for {
			stopped := false
			err := c.EventsAfter(ctx, cursor, func(ev wire.Event) bool {
				switch ev.Type {
				case "note":
					if writeJSONLine(env, ev.Note) != nil {
						return false
					}
					cursor = int64(ev.Note.Seq)
				case "shutdown":
					stopped = true
					return false
				}
				return true
			})
			if ctx.Err() != nil {
				return nil
			}
			if stopped || err != nil {
				return &UserError{Code: ExitTrayStopped, Msg: fmt.Sprintf("heidi-tray stopped; continue with 'heidi-tray notes watch --after %d' once it runs", cursor)}
			}
		}
	}
	return usageErr("notes: %q is not list, ack or watch", sub)
}

func writeJSONLine(env Env, v any) error {
	b, err := jsonCompact(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(env.Stdout, "%s\n", b)
	return err
}
