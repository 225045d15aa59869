package elbv2_test

import (
	"os"
	"testing"

	"github.com/alaya-sre/alaya/internal/testenv/awscalls"
)

// awsCalls records every ELBv2 call the tests' clients make (setup adds it to each client).
var awsCalls = &awscalls.Recorder{}

// TestMain checks, after the tests, that the worker's IAM policy allows every ELBv2 call they
// made and nothing more.
func TestMain(m *testing.M) {
	os.Exit(awscalls.CheckMain(m, awsCalls, "../../deploy/aws/worker-policy.json", "elasticloadbalancing"))
}
