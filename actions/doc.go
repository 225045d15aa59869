// Package actions holds the built-in steps that change a system: restart a service, take a host
// out of its load balancer and put it back, and take a JVM heap dump into the evidence store.
//
// They live apart from the pipeline because each is a small protocol of its own (verify after
// restart, drain before maintenance, hash while streaming) that must be right on its own and be
// testable against the real component (systemctl semantics, HAProxy, the ELBv2 API, a JVM).
// Every action returns an Outcome, which is both the phone-readable line for the incident and the
// record for the run's evidence manifest: what was done, on which host, when, and what is left
// in a changed state (a host still detached) if it failed half way.
//
// Actions take the narrow interfaces they use (Runner, Streamer, ObjectStore, Balancer), never a
// concrete executor or store, so the pipeline composes them and tests can use the real thing.
// Every value placed into a remote shell command goes through Quote.
package actions
