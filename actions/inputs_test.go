package actions_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/actions"
	"github.com/alaya-sre/alaya/executor"
	"github.com/alaya-sre/alaya/internal/testenv/jvm"
)

// A dump path that already exists belongs to someone else (an earlier dump an engineer is
// reading, or a file planted there): heap_dump refuses and leaves it exactly as it was. It
// used to delete it after jcmd declined to overwrite it. Real JVM, real jcmd.
func TestHeapDumpRefusesAnExistingPath(t *testing.T) {
	j := jvm.Start(t, jvm.Options{User: "nobody"})
	dir, err := os.MkdirTemp("", "alaya-dump-") // the JVM's user must reach it: not under t.TempDir
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "keep.hprof")
	if err := os.WriteFile(path, []byte("someone else's file"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := actions.HeapDumpParams{Pattern: j.Marker, Run: "exists", Path: path}
	o, err := actions.HeapDump(t.Context(), executor.NewLocal(), newFS(t), localHost("app-3"), "incidents/I1/exists/heap.hprof", p)
	if got, rerr := os.ReadFile(path); rerr != nil || string(got) != "someone else's file" {
		t.Errorf("the existing file was touched: %q %v (commands %q)", got, rerr, o.Commands)
	}
	if !errors.Is(err, actions.ErrRefused) || actions.IsRetryable(err) || o.OK || len(o.Objects) != 0 {
		t.Fatalf("want a permanent refusal, got %v: %s", err, o.Summary)
	}
	if !strings.Contains(o.Summary, "already exists") {
		t.Errorf("summary %q does not say why", o.Summary)
	}
	for _, c := range o.Commands {
		if strings.Contains(c, "rm ") || strings.Contains(c, "jcmd") {
			t.Errorf("ran %q against a path that was not ours", c)
		}
	}
}

// The service name goes after "--": a name that starts with a dash is a unit name, never a
// systemctl option (-H host would send the restart to another machine). The fake systemctl
// parses options as systemctl does.
func TestRestartServiceNameIsNeverAnOption(t *testing.T) {
	state := fakeSystemd(t)
	p := actions.RestartParams{Service: "-Hevil", Settle: 100 * time.Millisecond, Poll: 20 * time.Millisecond}
	o, _ := actions.Restart(t.Context(), executor.NewLocal(), localHost("app-3"), p)
	if _, err := os.Stat(filepath.Join(state, "option-injected")); err == nil {
		t.Fatalf("the service name was read as an option: %q", o.Commands)
	}
	if _, err := os.Stat(filepath.Join(state, "-Hevil.restarts")); err != nil {
		t.Errorf("the unit -Hevil was not restarted: %q", o.Commands)
	}
	for _, c := range o.Commands {
		if strings.HasPrefix(c, "systemctl ") && !strings.Contains(c, " -- ") {
			t.Errorf("%q: service name not after --", c)
		}
	}
}
