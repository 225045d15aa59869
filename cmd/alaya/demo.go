package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/alaya-sre/alaya/cmd/alaya/demo"
)

func init() {
	register("demo", "run the whole loop on this machine: webhook → runbook → evidence → note", runDemo)
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("alaya demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", ".alaya-demo", "where the demo keeps its config, evidence and logs")
	verbose := fs.Bool("v", false, "also print the receiver's and worker's JSON logs")
	timeout := fs.Duration("timeout", 60*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	opt := demo.Options{Dir: *dir, Out: stdout, Timeout: *timeout}
	if *verbose {
		opt.Log = stderr
	}
	if _, err := demo.Run(ctx, opt); err != nil {
		fmt.Fprintf(stderr, "alaya demo: %v\n", err)
		return 1
	}
	return 0
}
