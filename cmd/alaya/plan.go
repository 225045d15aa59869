package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/alaya-sre/alaya/incident"
	"github.com/alaya-sre/alaya/inventory"
	"github.com/alaya-sre/alaya/pagerduty"
	"github.com/alaya-sre/alaya/runbooks"
)

func init() {
	register("plan", "show which runbooks match a recorded incident and what they would run", runPlan)
}

// planOutput is the --json form of `alaya plan`.
type planOutput struct {
	Event     *incident.Event `json:"event"`
	Decisions []decisionJSON  `json:"decisions"`
	Plans     []planJSON      `json:"plans"`
}

type decisionJSON struct {
	Runbook string `json:"runbook"`
	Version string `json:"version"`
	Matched bool   `json:"matched"`
	Why     string `json:"why,omitempty"`
	Skipped string `json:"skipped,omitempty"`
}

type planJSON struct {
	*runbooks.Plan
	Hash  string `json:"hash"`
	Error string `json:"error,omitempty"`
}

func runPlan(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("runbooks", "", "directory of runbook files (required)")
	invFile := fs.String("inventory", "", "inventory file (required)")
	eventFile := fs.String("event", "", "PagerDuty V3 webhook body, or with --source that source's body (required)")
	source := fs.String("source", "", "decode --event with this declared source instead of as PagerDuty's")
	srcDir := fs.String("sources", "", "directory of source files (default: sources next to --runbooks)")
	alertsFile := fs.String("alerts", "", "the incident's alerts: a JSON list of {id, summary, severity, details}")
	asJSON := fs.Bool("json", false, "print JSON instead of text")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: alaya plan --runbooks DIR --inventory FILE --event FILE [--alerts FILE] [--json]\n"+
			"       alaya plan --runbooks DIR --inventory FILE --source NAME [--sources DIR] --event BODY\n\n"+
			"Touches nothing: shows the incident a source's body becomes, the decisions and the rendered plans.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *dir == "" || *invFile == "" || *eventFile == "" {
		fs.Usage()
		return 2
	}
	inv, catalog, err := loadAll(*dir, *invFile)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *source != "" && !*asJSON {
		return planSource(stdout, stderr, *source, or(*srcDir, defaultSourcesDir(*dir)), *eventFile, catalog, inv)
	}
	ev, err := loadPlanEvent(*source, or(*srcDir, defaultSourcesDir(*dir)), *eventFile, *alertsFile)
	if err != nil {
		fmt.Fprintln(stderr, "alaya plan:", err)
		return 1
	}
	if *asJSON {
		return writePlanJSON(stdout, stderr, ev, catalog, inv)
	}
	if err := writePlanText(stdout, ev, catalog, inv, runbooks.TextOptions{}); err != nil {
		fmt.Fprintln(stderr, "alaya plan:", err)
		return 1
	}
	return 0
}

// loadAll loads the inventory and the runbooks checked against it.
func loadAll(dir, invFile string) (*inventory.Inventory, *runbooks.Catalog, error) {
	inv, err := inventory.Load(invFile)
	if err != nil {
		return nil, nil, err
	}
	catalog, err := runbooks.LoadDir(dir, inv)
	if err != nil {
		return nil, nil, err
	}
	return inv, catalog, nil
}

// planSource prints what a source's body becomes and what would run for it.
func planSource(stdout, stderr io.Writer, name, srcDir, bodyFile string, c *runbooks.Catalog, inv *inventory.Inventory) int {
	set, err := loadSources(srcDir)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if err := writeSourcePlan(stdout, set, name, bodyFile, c, inv, runbooks.TextOptions{}); err != nil {
		fmt.Fprintln(stderr, "alaya plan:", err)
		return 1
	}
	return 0
}

// loadPlanEvent is loadEvent, or with a source name that source's decoding of the body.
func loadPlanEvent(source, srcDir, eventFile, alertsFile string) (*incident.Event, error) {
	if source == "" {
		return loadEvent(eventFile, alertsFile)
	}
	set, err := loadSources(srcDir)
	if err != nil {
		return nil, err
	}
	ev, ignored, err := decodeSourceBody(set, source, eventFile)
	if ignored {
		return nil, fmt.Errorf("%s: the source %s ignores this body: nothing would run", eventFile, source)
	}
	return ev, err
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// loadEvent reads a recorded webhook body, decoded exactly as the receiver decodes it, and
// the alerts the worker would fetch for it.
func loadEvent(eventFile, alertsFile string) (*incident.Event, error) {
	body, err := os.ReadFile(eventFile)
	if err != nil {
		return nil, err
	}
	ev, err := pagerduty.DecodeWebhook(body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", eventFile, err)
	}
	if alertsFile == "" {
		return ev, nil
	}
	data, err := os.ReadFile(alertsFile)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, &ev.Incident.Alerts); err != nil {
		return nil, fmt.Errorf("%s: expected a JSON list of alerts: %w", alertsFile, err)
	}
	return ev, nil
}

// writePlanText prints the decisions and the plan of every matched runbook. A runbook whose
// plan cannot be made is reported and the others are still shown.
func writePlanText(w io.Writer, ev *incident.Event, c *runbooks.Catalog, inv *inventory.Inventory, opt runbooks.TextOptions) error {
	ds := c.Evaluate(ev)
	runbooks.WriteDecisions(w, ev, ds)
	var errs []error
	for _, d := range ds {
		if !d.Matched {
			continue
		}
		p, err := d.Runbook.Plan(ev, inv)
		if err != nil {
			fmt.Fprintf(w, "\nplan %s: cannot be made: %v\n", d.Runbook.Name, err)
			errs = append(errs, err)
			continue
		}
		p.WriteText(w, opt)
	}
	return errors.Join(errs...)
}

func writePlanJSON(stdout, stderr io.Writer, ev *incident.Event, c *runbooks.Catalog, inv *inventory.Inventory) int {
	out := planOutput{Event: ev, Decisions: []decisionJSON{}, Plans: []planJSON{}}
	code := 0
	for _, d := range c.Evaluate(ev) {
		out.Decisions = append(out.Decisions, decisionJSON{
			Runbook: d.Runbook.Name, Version: d.Runbook.Version, Matched: d.Matched, Why: d.Why, Skipped: d.Skipped,
		})
		if !d.Matched {
			continue
		}
		p, err := d.Runbook.Plan(ev, inv)
		if err != nil {
			out.Plans = append(out.Plans, planJSON{Plan: &runbooks.Plan{Runbook: d.Runbook.Name}, Error: err.Error()})
			code = 1
			continue
		}
		out.Plans = append(out.Plans, planJSON{Plan: p, Hash: p.Hash()})
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		fmt.Fprintln(stderr, "alaya plan:", err)
		return 1
	}
	return code
}
