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
	srcDir := fs.String("sources", "", "source files and their cases (default: sources next to DIR, if it exists)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: alaya test [-update] [--inventory FILE] [--sources SDIR] DIR\n\n"+
			"Cases live in DIR/cases/NAME/ with event.json, optional alerts.json, and plan.golden;\n"+
			"source cases in SDIR/SOURCE/NAME/ with body.json and plan.golden.")
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
	if err != nil {
		fmt.Fprintln(stderr, "alaya test:", err)
		return 1
	}
	var runs []testCase
	for _, ev := range cases {
		caseDir := filepath.Dir(ev)
		runs = append(runs, testCase{filepath.Base(caseDir), caseDir, func() ([]byte, error) { return renderCase(caseDir, catalog, inv) }})
	}
	srcRuns, err := sourceTestCases(*srcDir, dir, catalog, inv)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	runs = append(runs, srcRuns...)
	if len(runs) == 0 {
		fmt.Fprintf(stderr, "alaya test: no cases in %s\n", filepath.Join(dir, "cases"))
		return 1
	}
	failed := 0
	for _, tc := range runs {
		if !runCase(stdout, tc, *update) {
			failed++
		}
	}
	if failed > 0 {
		fmt.Fprintf(stdout, "FAIL %d of %d cases\n", failed, len(runs))
		return 1
	}
	fmt.Fprintf(stdout, "ok   %d cases\n", len(runs))
	return 0
}

// testCase is one golden comparison: a recorded incident (or source body) and how to render it.
type testCase struct {
	name, dir string
	render    func() ([]byte, error)
}

// sourceTestCases finds the source cases: in srcDir, or in the sources directory beside the
// runbooks when there is one.
func sourceTestCases(srcDir, runbooksDir string, c *runbooks.Catalog, inv *inventory.Inventory) ([]testCase, error) {
	if srcDir == "" {
		if st, err := os.Stat(defaultSourcesDir(runbooksDir)); err != nil || !st.IsDir() {
			return nil, nil
		}
		srcDir = defaultSourcesDir(runbooksDir)
	}
	set, err := loadSources(srcDir)
	if err != nil {
		return nil, err
	}
	var out []testCase
	for _, sc := range sourceCases(set, srcDir) {
		name, caseDir := sc[0], sc[1]
		out = append(out, testCase{name + "/" + filepath.Base(caseDir), caseDir, func() ([]byte, error) {
			var buf bytes.Buffer
			// As for incidents, a plan that cannot be made is part of the output.
			err := writeSourcePlan(&buf, set, name, filepath.Join(caseDir, caseBody), c, inv, runbooks.TextOptions{Stable: true})
			if err != nil && buf.Len() == 0 {
				return nil, err
			}
			return buf.Bytes(), nil
		}})
	}
	return out, nil
}

// runCase renders one case and compares (or, with update, rewrites) its golden.
func runCase(w io.Writer, tc testCase, update bool) bool {
	name, dir := tc.name, tc.dir
	got, err := tc.render()
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
