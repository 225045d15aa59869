package actions

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/alaya-sre/alaya/inventory"
)

// findJVM returns the PID of the one process whose command line matches pattern.
//
// The remote shell that runs pgrep has the pattern in its own command line and would match
// too, so the command prints the shell's PID ($$) first and that PID is dropped.
func findJVM(ctx context.Context, r Runner, h *inventory.Host, o *Outcome, pattern string) (int, error) {
	cmd := "echo $$; pgrep -a -f -- " + Quote(pattern) + " || true"
	res, err := run(ctx, r, h, o, cmd, defaultCommandTimeout)
	if err != nil {
		return 0, err
	}
	lines := strings.Split(strings.TrimSpace(string(res.Stdout)), "\n")
	self := strings.TrimSpace(lines[0])
	var matches []string
	for _, l := range lines[1:] {
		pid, _, _ := strings.Cut(l, " ")
		if pid != self && pid != "" {
			matches = append(matches, l)
		}
	}
	switch len(matches) {
	case 0:
		return 0, permanent("find jvm", fmt.Errorf("no process on %s matches %q: %w", h.Name, pattern, ErrNotFound))
	case 1:
		pid, _, _ := strings.Cut(matches[0], " ")
		n, err := strconv.Atoi(pid)
		if err != nil {
			return 0, permanent("find jvm", fmt.Errorf("unreadable pgrep output %q", matches[0]))
		}
		return n, nil
	}
	return 0, refusef("%d processes on %s match %q, need exactly one: %s", len(matches), h.Name, pattern, listMatches(matches))
}

// listMatches shows "pid command" of each match, each cut to a readable length.
func listMatches(matches []string) string {
	out := make([]string, len(matches))
	for i, m := range matches {
		if len(m) > 80 {
			m = m[:80] + "…"
		}
		out[i] = m
	}
	return strings.Join(out, "; ")
}
