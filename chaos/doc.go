// Package chaos holds the fault scenarios Alaya must survive, run against real processes
// (internal/testenv/fleet): workers killed or stopped mid-step, nats-server nodes crashed or
// the whole cluster frozen, S3 gone or refusing, PagerDuty rate limiting. After each scenario
// the invariants are checked on the hosts and on the incidents, never from Alaya's own
// records alone. See README.md for the commands and docs/RELIABILITY.md for the results.
package chaos
