package app

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alaya-sre/alaya/inventory"
)

const reloadRunbook = `name: basics
owner: sre
match: incident.status == "triggered"
targets:
  labels: {role: app}
steps:
  - name: look
    run: CMD
`

func TestReloadSwapsWholeSetsOnly(t *testing.T) {
	dir := t.TempDir()
	write := func(cmd string) {
		if err := os.WriteFile(filepath.Join(dir, "basics.yaml"), []byte(strings.Replace(reloadRunbook, "CMD", cmd, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	inv, err := inventory.Parse("inv.yaml", []byte("hosts:\n  - name: app-1\n    transport: local\n    labels: {role: app}\n"))
	if err != nil {
		t.Fatal(err)
	}
	write("uptime")
	c, err := loadCatalog(dir, inv, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	v1 := c.Current().Runbook("basics").Version

	write("uptime; df -h")
	if err := c.Reload(); err != nil {
		t.Fatal(err)
	}
	v2 := c.Current().Runbook("basics").Version
	if v2 == v1 {
		t.Fatal("reload did not put the changed runbook in force")
	}

	os.WriteFile(filepath.Join(dir, "broken.yaml"), []byte("name: broken\nowner: sre\nmatch: incident.titel == 1\n"), 0o644)
	err = c.Reload()
	if err == nil || !strings.Contains(err.Error(), "broken.yaml:3") {
		t.Fatalf("a broken runbook: err = %v, want it named with its line", err)
	}
	if got := c.Current().Runbook("basics").Version; got != v2 {
		t.Errorf("after a failed reload the catalog changed (%s → %s); the previous set must stay", v2, got)
	}
}
