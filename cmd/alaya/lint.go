package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/alaya-sre/alaya/app"
	"github.com/alaya-sre/alaya/config"
	"github.com/alaya-sre/alaya/inventory"
	"github.com/alaya-sre/alaya/runbooks"
)

func init() {
	register("lint", "check runbooks (and the inventory) and point at every problem", runLint)
}

func runLint(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lint", flag.ContinueOnError)
	fs.SetOutput(stderr)
	invFile := fs.String("inventory", "", "inventory file: also check it, and check targets against it")
	cfgFile := fs.String("config", "", "Alaya config with PagerDuty access: also check that every approver a gate names is one PagerDuty user or team")
	srcDir := fs.String("sources", "", "directory of source files: also check them (their mappings and where their secrets are)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: alaya lint [--inventory FILE] [--config FILE] [--sources SDIR] DIR...\n\nPrints file:line:col: message for every problem; exit status 1 if there is any.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 && *srcDir == "" {
		fs.Usage()
		return 2
	}
	problems, nsources := lintSources(stdout, *srcDir)
	var inv *inventory.Inventory
	if *invFile != "" {
		var err error
		if inv, err = inventory.Load(*invFile); err != nil {
			problems += printProblems(stdout, err)
		}
	}
	total := 0
	for _, dir := range fs.Args() {
		c, err := runbooks.LoadDir(dir, inv)
		if err != nil {
			problems += printProblems(stdout, err)
			continue
		}
		total += len(c.Runbooks())
		if *cfgFile != "" {
			problems += checkApprovers(ctx, c, *cfgFile, stdout, stderr)
		}
	}
	if problems > 0 {
		fmt.Fprintf(stderr, "%d problem%s\n", problems, plural(problems))
		return 1
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stdout, "%d runbook%s OK\n", total, plural(total))
	}
	if *srcDir != "" {
		fmt.Fprintf(stdout, "%d source%s OK\n", nsources, plural(nsources))
	}
	return 0
}

// lintSources checks the source files in dir ("" : none) and counts problems and sources.
func lintSources(stdout io.Writer, dir string) (problems, n int) {
	if dir == "" {
		return 0, 0
	}
	set, err := loadSources(dir)
	if err != nil {
		problems = printProblems(stdout, err)
	}
	return problems, len(set.Sources())
}

// printProblems prints one problem a line and counts them.
func printProblems(w io.Writer, err error) int {
	n := 0
	for _, e := range flatten(err) {
		for _, line := range strings.Split(e.Error(), "\n") {
			fmt.Fprintln(w, line)
			n++
		}
	}
	return n
}

func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// checkApprovers resolves the approvers the runbooks in c name against PagerDuty, with the
// access the config gives, and prints every name that does not stand for exactly one id.
func checkApprovers(ctx context.Context, c *runbooks.Catalog, cfgFile string, stdout, stderr io.Writer) int {
	cfg, err := config.Load(cfgFile, os.Getenv)
	if err != nil {
		return printProblems(stdout, err)
	}
	if err := app.CheckApprovers(ctx, c, cfg, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))); err != nil {
		return printProblems(stdout, err)
	}
	return 0
}
