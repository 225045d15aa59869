package main

import (
	"context"
	"fmt"
	"io"

	"github.com/alaya-sre/alaya/runbooks"
)

func init() {
	register("schema", "print the JSON Schema of runbook files, for editors", runSchema)
}

func runSchema(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintln(stderr, "usage: alaya schema > runbook.schema.json")
		return 2
	}
	if _, err := stdout.Write(runbooks.Schema()); err != nil {
		fmt.Fprintln(stderr, "alaya schema:", err)
		return 1
	}
	return 0
}
