package evidence_test

import (
	"os"
	"testing"

	"github.com/alaya-sre/alaya/internal/testenv/awscalls"
)

// awsCalls records every S3 call the tests' stores make (newS3 adds it to each client).
var awsCalls = &awscalls.Recorder{}

// TestMain checks, after the tests, that the worker's IAM policy allows every S3 call they
// made and nothing more.
func TestMain(m *testing.M) {
	os.Exit(awscalls.CheckMain(m, awsCalls, "../deploy/aws/worker-policy.json", "s3"))
}
