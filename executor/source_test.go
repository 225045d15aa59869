package executor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoInsecureHostKeyCallback keeps the promise that host keys are always verified: no
// non-test file of this package may even mention the insecure callback.
func TestNoInsecureHostKeyCallback(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), "InsecureIgnoreHostKey") {
			t.Errorf("%s mentions ssh.InsecureIgnoreHostKey", f)
		}
	}
}
