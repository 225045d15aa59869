package jvm_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/alaya-sre/alaya/internal/testenv/jvm"
)

func TestJVMRunsAsUserAndDumps(t *testing.T) {
	j := jvm.Start(t, jvm.Options{User: "nobody"})
	out, err := exec.Command("ps", "-o", "user=", "-p", itoa(j.PID)).Output()
	if err != nil || strings.TrimSpace(string(out)) != "nobody" {
		t.Fatalf("jvm user: %q %v", out, err)
	}
	path := filepath.Join(os.TempDir(), j.Marker+".hprof")
	defer os.Remove(path)
	if out, err := exec.Command("jcmd", itoa(j.PID), "GC.heap_dump", path).CombinedOutput(); err != nil {
		t.Fatalf("jcmd: %v %s", err, out)
	}
	b, err := os.ReadFile(path)
	if err != nil || !strings.HasPrefix(string(b), "JAVA PROFILE 1.0.2") {
		t.Fatalf("dump: %v %q", err, b[:min(len(b), 20)])
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
