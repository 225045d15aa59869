package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets testscript run the alaya binary as this test binary, so the scripts exercise
// the real command line (flags, exit status, stdout and stderr) without a build step.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"alaya": func() { os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs testdata/*.txtar. $EXAMPLES is the repository's examples directory and
// $SCHEMA the committed runbook schema.
func TestScripts(t *testing.T) {
	examples, err := filepath.Abs("../../examples")
	if err != nil {
		t.Fatal(err)
	}
	schema, err := filepath.Abs("../../schema/runbook.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata",
		Setup: func(env *testscript.Env) error {
			env.Setenv("EXAMPLES", examples)
			env.Setenv("SCHEMA", schema)
			return nil
		},
	})
}
