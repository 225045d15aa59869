// Package executor runs commands on inventory hosts: over SSH through their bastions, or on
// the worker itself.
//
// It exists so that everything dangerous about reaching a machine at 3 a.m. is decided in one
// place instead of in every action:
//
//   - Host keys are always checked against the known_hosts file of each hop. There is no
//     trust-on-first-use: an unknown or changed key fails with ErrHostKey, naming the hop.
//     A changed file (a key revoked with @revoked, or replaced) takes effect at the next
//     command, for pooled connections too, without a restart.
//   - Each hop logs in with its own user and key, because bastion and target accounts differ.
//   - Connections are pooled. One bastion connection carries the hops to every target behind
//     it, and each target connection is reused by every command for that host, so a run of
//     fifty diagnostics costs two handshakes instead of a hundred.
//   - Sessions per connection are capped at the host's MaxSessions, because sshd refuses the
//     session past its own limit (10 by default) instead of queueing it; here it waits.
//   - Every step is bounded: dials and handshakes by the inventory's connect timeout,
//     commands by their own timeout, after which the remote process is sent SIGKILL and the
//     session closed. Output is capped per stream and still drained, so a chatty command
//     cannot stall the remote side or exhaust the worker's memory.
//   - Failures are classified where they happen (ErrHostKey, ErrAuth, ErrConnect, ErrTimeout)
//     so that callers decide between retrying and giving up with errors.Is and Retryable.
//
// A non-zero exit status is not an error: it is a result, reported in Result.ExitCode.
package executor
