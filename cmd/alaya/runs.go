package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/alaya-sre/alaya/ledger"
	"github.com/alaya-sre/alaya/queue"
)

func init() {
	register("runs", "list runs from the run ledger (state, runbook, steps)", runRuns)
}

// runRuns reads the ledger the workers write, so a responder or SRE can see what Alaya did or
// is doing without reading logs.
func runRuns(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("alaya runs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", os.Getenv("ALAYA_CONFIG"), "Alaya config file (for nats.urls)")
	inc := fs.String("incident", "", "only runs of this incident")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	recs, err := listRuns(ctx, *cfgPath, *inc)
	if err != nil {
		fmt.Fprintf(stderr, "alaya runs: %v\n", err)
		return 1
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "RUN\tINCIDENT\tRUNBOOK\tSTATE\tSTEPS\tSTARTED")
	for _, r := range recs {
		fmt.Fprintf(w, "%s\t%s\t%s@%s\t%s\t%s\t%s\n", r.ID, r.Incident, r.Runbook, r.Version, r.State,
			stepSummary(r), r.Created.UTC().Format(time.RFC3339))
	}
	w.Flush()
	return 0
}

func listRuns(ctx context.Context, cfgPath, incident string) ([]ledger.Record, error) {
	q, err := fleetQueue(ctx, cfgPath)
	if err != nil {
		return nil, err
	}
	defer q.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	runs, err := q.KV(ctx, queue.BucketRuns)
	if err != nil {
		return nil, err
	}
	keys, err := runs.ListKeysFiltered(ctx, "run.>")
	if err != nil {
		return nil, err
	}
	var recs []ledger.Record
	for k := range keys.Keys() {
		e, err := runs.Get(ctx, k)
		if err != nil {
			continue
		}
		var r ledger.Record
		if json.Unmarshal(e.Value(), &r) == nil && (incident == "" || r.Incident == incident) {
			recs = append(recs, r)
		}
	}
	slices.SortFunc(recs, func(a, b ledger.Record) int { return a.Created.Compare(b.Created) })
	return recs, nil
}

// stepSummary counts steps by status: "3 done, 1 failed".
func stepSummary(r ledger.Record) string {
	counts := map[string]int{}
	for _, s := range r.Steps {
		counts[s.Status]++
	}
	var parts []string
	for _, st := range []string{"done", "failed", "started", "skipped", "unknown"} {
		if counts[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[st], st))
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}
