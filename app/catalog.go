package app

import (
	"log/slog"
	"sync/atomic"

	"github.com/alaya-sre/alaya/inventory"
	"github.com/alaya-sre/alaya/runbooks"
)

// catalog holds the runbooks in force. Reload swaps in a freshly loaded set atomically; a set
// with any problem is refused whole and the previous one stays in force, so a bad deploy of
// runbooks can never leave a worker with half of them, or none.
type catalog struct {
	dir string
	inv *inventory.Inventory
	log *slog.Logger
	cur atomic.Pointer[runbooks.Catalog]
	// check runs on a reloaded set before it is put in force (the approvers it names must
	// resolve in PagerDuty); nil: none.
	check func(*runbooks.Catalog) error
}

func loadCatalog(dir string, inv *inventory.Inventory, log *slog.Logger) (*catalog, error) {
	c := &catalog{dir: dir, inv: inv, log: log}
	cat, err := runbooks.LoadDir(dir, inv)
	if err != nil {
		return nil, err
	}
	c.cur.Store(cat)
	return c, nil
}

// Current returns the runbooks in force.
func (c *catalog) Current() *runbooks.Catalog { return c.cur.Load() }

// Reload loads the runbook directory again and, if every runbook is valid, puts it in force.
func (c *catalog) Reload() error {
	cat, err := runbooks.LoadDir(c.dir, c.inv)
	if err == nil && c.check != nil {
		err = c.check(cat)
	}
	if err != nil {
		c.log.Error("runbooks not reloaded; the previous set stays in force", "dir", c.dir, "err", err)
		return err
	}
	c.cur.Store(cat)
	var versions []string
	for _, rb := range cat.Runbooks() {
		versions = append(versions, rb.Name+"@"+rb.Version)
	}
	c.log.Info("runbooks reloaded", "dir", c.dir, "runbooks", versions)
	return nil
}
