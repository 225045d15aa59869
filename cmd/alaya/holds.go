package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

func init() {
	register("holds", "list hosts held after a change with an unknown outcome, or clear one: holds [clear HOST]", runHolds)
}

// runHolds shows the hosts Alaya will not change again until a person has checked them (a
// change on them was cut off or its worker died), and clears a host once checked.
func runHolds(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	guard, rest, closeQ, code := guardCommand(ctx, "holds", args, stderr)
	if guard == nil {
		return code
	}
	defer closeQ()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	switch {
	case len(rest) == 2 && rest[0] == "clear":
		if err := guard.ClearHold(ctx, rest[1]); err != nil {
			fmt.Fprintf(stderr, "alaya holds: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "%s cleared: Alaya may change it again\n", rest[1])
		return 0
	case len(rest) != 0:
		fmt.Fprintln(stderr, "usage: alaya holds [-config FILE] [clear HOST]")
		return 2
	}
	holds, err := guard.Holds(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "alaya holds: %v\n", err)
		return 1
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "HOST\tRUN\tSTEP\tSINCE\tREASON")
	for _, h := range holds {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", h.Host, h.Run, h.Step, h.Since.UTC().Format(time.RFC3339), h.Reason)
	}
	w.Flush()
	return 0
}
