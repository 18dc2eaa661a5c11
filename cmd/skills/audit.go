package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/skillsdev/skills/audit"
)

func newAuditCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Check agent audit logs",
		Args:  args(cobra.NoArgs),
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "verify FILE",
		Short: "Check that an audit log's hash chain is intact",
		Long: `verify reads an audit log written by ` + "`skills agent --audit FILE`" + ` and checks its
SHA-256 hash chain from the first event (whose prev_hash is 64 zeros) to the
last: every line must be exactly the canonical form of its event, carry the
next sequence number, name the previous line's hash and hash to its own.

Exit status: 0 when the chain is intact (it prints the number of events), 1
naming the first bad line and sequence number: an edited, reordered,
missing, duplicated or truncated event. Lines cut from the end of a log leave
an intact chain; a run.start without its run.end shows it.`,
		Example: "  skills audit verify run.jsonl",
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			f, err := os.Open(path)
			if err != nil {
				return fmt.Errorf("audit verify: %w", err)
			}
			defer f.Close()
			sum, err := audit.Check(f)
			if err != nil {
				var ve *audit.VerifyError
				if errors.As(err, &ve) {
					return exitError{code: 1, err: fmt.Errorf("%s: %w", path, err)}
				}
				return fmt.Errorf("audit verify %s: %w", path, err)
			}
			last := ""
			if sum.Events > 0 {
				last = fmt.Sprintf(", last at %s", sum.Last.Time.Format("2006-01-02T15:04:05Z07:00"))
			}
			fmt.Fprintf(a.stdout, "%s: intact, %d event(s)%s\n", path, sum.Events, last)
			return nil
		},
	})
	return cmd
}
