// Package testenv holds what tests need to run against real components (sshd in network
// namespaces, JetStream, an S3 server, a PagerDuty stand-in), one sub-package per component,
// and the policy they share for missing prerequisites.
package testenv

import (
	"os"
	"testing"
)

// Require skips the test when a prerequisite is missing (ok is false) on a developer's
// machine, and fails it when the environment variable CI is set: in CI a missing
// prerequisite is a broken setup, and a skipped test would hide it.
func Require(tb testing.TB, what string, ok bool) {
	tb.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") != "" {
		tb.Fatalf("prerequisite missing in CI: %s", what)
	}
	tb.Skipf("prerequisite missing: %s (set CI=1 to make this a failure)", what)
}
