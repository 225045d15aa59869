package executor

import (
	"errors"
	"sync/atomic"
)

// stats counts what the SSH executor did. It is what tests assert connection reuse with, and
// what a metrics exporter reads; labels stay low-cardinality (hop role, outcome).
type stats struct {
	bastionDials, targetDials atomic.Int64
	dialFailures              atomic.Int64
	sessionRefusals           atomic.Int64
	commands                  [outcomeCount]atomic.Int64
}

// Outcomes of a command, for metrics.
const (
	outcomeOK = iota // completed, whatever its exit code
	outcomeTimeout
	outcomeHostKey
	outcomeAuth
	outcomeConnect
	outcomeOther
	outcomeCount
)

func (s *stats) dialed(role string) {
	if role == "bastion" {
		s.bastionDials.Add(1)
	} else {
		s.targetDials.Add(1)
	}
}

func (s *stats) dialFailed(string) { s.dialFailures.Add(1) }

func (s *stats) ran(err error) { s.commands[outcome(err)].Add(1) }

func outcome(err error) int {
	switch {
	case err == nil:
		return outcomeOK
	case errors.Is(err, ErrTimeout):
		return outcomeTimeout
	case errors.Is(err, ErrHostKey):
		return outcomeHostKey
	case errors.Is(err, ErrAuth):
		return outcomeAuth
	case errors.Is(err, ErrConnect):
		return outcomeConnect
	}
	return outcomeOther
}

// Stats is a snapshot of the SSH executor's counters.
type Stats struct {
	BastionDials, TargetDials int64 // successful logins, per hop role
	DialFailures              int64
	SessionRefusals           int64            // sessions sshd refused (MaxSessions) and that were asked for again
	Commands                  map[string]int64 // by outcome: ok, timeout, host_key, auth, connect, other
}

var outcomeNames = [outcomeCount]string{"ok", "timeout", "host_key", "auth", "connect", "other"}

// Stats returns the executor's counters: how many connections it made and how commands ended.
func (s *SSH) Stats() Stats {
	st := Stats{
		BastionDials: s.stats.bastionDials.Load(), TargetDials: s.stats.targetDials.Load(),
		DialFailures: s.stats.dialFailures.Load(), SessionRefusals: s.stats.sessionRefusals.Load(),
		Commands: map[string]int64{},
	}
	for i, name := range outcomeNames {
		st.Commands[name] = s.stats.commands[i].Load()
	}
	return st
}
