package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/alaya-sre/alaya/inventory"
	"github.com/alaya-sre/alaya/runbooks"
)

func init() {
	register("test", "run recorded incidents through the runbooks and compare the plans with goldens", runTest)
}

// A case is a directory DIR/cases/NAME holding event.json (a PagerDuty V3 webhook body),
// optionally alerts.json (the alerts the worker would fetch) and plan.golden (the expected
// decisions and plans in the stable text form).
const (
	caseEvent  = "event.json"
	caseAlerts = "alerts.json"
	caseGolden = "plan.golden"
)

func runTest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(stderr)
	update := fs.Bool("update", false, "rewrite the golden files with the current plans")
	invFile := fs.String("inventory", "", "inventory file (default: inventory.yaml next to DIR)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: alaya test [-update] [--inventory FILE] DIR\n\nCases live in DIR/cases/NAME/ with event.json, optional alerts.json, and plan.golden.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	dir := fs.Arg(0)
	if *invFile == "" {
		*invFile = filepath.Join(filepath.Dir(filepath.Clean(dir)), "inventory.yaml")
	}
	inv, catalog, err := loadAll(dir, *invFile)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	cases, err := filepath.Glob(filepath.Join(dir, "cases", "*", caseEvent))
	if err != nil || len(cases) == 0 {
		fmt.Fprintf(stderr, "alaya test: no cases in %s\n", filepath.Join(dir, "cases"))
		return 1
	}
	failed := 0
	for _, ev := range cases {
		if !runCase(stdout, filepath.Dir(ev), catalog, inv, *update) {
			failed++
		}
	}
	if failed > 0 {
		fmt.Fprintf(stdout, "FAIL %d of %d cases\n", failed, len(cases))
		return 1
	}
	fmt.Fprintf(stdout, "ok   %d cases\n", len(cases))
	return 0
}

// runCase renders one case and compares (or, with update, rewrites) its golden.
func runCase(w io.Writer, dir string, c *runbooks.Catalog, inv *inventory.Inventory, update bool) bool {
	name := filepath.Base(dir)
	got, err := renderCase(dir, c, inv)
	if err != nil {
		fmt.Fprintf(w, "FAIL %s: %v\n", name, err)
		return false
	}
	golden := filepath.Join(dir, caseGolden)
	if update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			fmt.Fprintf(w, "FAIL %s: %v\n", name, err)
			return false
		}
		fmt.Fprintf(w, "updated %s\n", name)
		return true
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		fmt.Fprintf(w, "FAIL %s: %v (run alaya test -update to create it)\n", name, err)
		return false
	}
	if !bytes.Equal(got, want) {
		fmt.Fprintf(w, "FAIL %s: plan differs from %s (-golden +got):\n%s", name, golden, lineDiff(string(want), string(got)))
		return false
	}
	fmt.Fprintf(w, "ok   %s\n", name)
	return true
}

func renderCase(dir string, c *runbooks.Catalog, inv *inventory.Inventory) ([]byte, error) {
	alerts := filepath.Join(dir, caseAlerts)
	if _, err := os.Stat(alerts); err != nil {
		alerts = ""
	}
	ev, err := loadEvent(filepath.Join(dir, caseEvent), alerts)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	// A plan that cannot be made is part of the output, so a golden can assert a refusal.
	_ = writePlanText(&buf, ev, c, inv, runbooks.TextOptions{Stable: true})
	return buf.Bytes(), nil
}

// lineDiff is a small longest-common-subsequence diff of two texts, enough to see what
// changed in a plan.
func lineDiff(a, b string) string {
	x, y := strings.SplitAfter(a, "\n"), strings.SplitAfter(b, "\n")
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out strings.Builder
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			i, j = i+1, j+1
		case j < len(y) && (i == len(x) || lcs[i][j+1] >= lcs[i+1][j]):
			out.WriteString("+" + withNewline(y[j]))
			j++
		default:
			out.WriteString("-" + withNewline(x[i]))
			i++
		}
	}
	return out.String()
}

func withNewline(s string) string {
	if strings.HasSuffix(s, "\n") {
		return s
	}
	return s + "\n"
}
