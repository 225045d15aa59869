package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/inventory"
	"github.com/alaya-sre/alaya/runbooks"
	"github.com/alaya-sre/alaya/sources"
)

// Source cases live beside the source files: SOURCES/NAME/CASE/body.json (a recorded body)
// and plan.golden (the incident it became, the decisions and the plans).
const caseBody = "body.json"

// defaultSourcesDir is the sources directory beside a runbooks directory, as examples/ has.
func defaultSourcesDir(runbooksDir string) string {
	return filepath.Join(filepath.Dir(filepath.Clean(runbooksDir)), "sources")
}

// loadSources loads the sources in dir without their secrets: lint, plan and test run
// anywhere, and a secret is the receiver's business.
func loadSources(dir string) (*sources.Set, error) {
	return sources.LoadDir(dir, sources.Options{})
}

// decodeSourceBody decodes a recorded body with the named source, exactly as the receiver
// does once the request is authenticated. ignored reports a body the mapping sets aside.
func decodeSourceBody(set *sources.Set, name, bodyFile string) (ev *incident.Event, ignored bool, err error) {
	src := set.Get(name)
	if src == nil {
		return nil, false, fmt.Errorf("no source named %q", name)
	}
	body, err := os.ReadFile(bodyFile)
	if err != nil {
		return nil, false, err
	}
	ev, err = src.Decode(body)
	if errors.Is(err, sources.ErrIgnored) {
		return nil, true, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", bodyFile, err)
	}
	return ev, false, nil
}

// writeSourcePlan prints what a body became and, unless the mapping ignores it, what the
// runbooks would do with it.
func writeSourcePlan(w io.Writer, set *sources.Set, name, bodyFile string, c *runbooks.Catalog, inv *inventory.Inventory, opt runbooks.TextOptions) error {
	ev, ignored, err := decodeSourceBody(set, name, bodyFile)
	if err != nil {
		return err
	}
	if ignored {
		fmt.Fprintf(w, "source %s: ignored (the mapping's ignore expression is true): not queued, nothing runs\n", name)
		return nil
	}
	sources.WriteEvent(w, ev)
	return writePlanText(w, ev, c, inv, opt)
}

// sourceCases lists every source case under dir, as (source name, case directory).
func sourceCases(set *sources.Set, dir string) [][2]string {
	var out [][2]string
	for _, s := range set.Sources() {
		bodies, _ := filepath.Glob(filepath.Join(dir, s.Name, "*", caseBody))
		for _, b := range bodies {
			out = append(out, [2]string{s.Name, filepath.Dir(b)})
		}
	}
	return out
}
