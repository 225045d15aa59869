// Command alaya-worker consumes incident events from NATS JetStream, matches them to runbooks,
// runs diagnostics and approved actions over SSH, stores evidence and writes notes on the
// incident.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/alaya-sre/alaya/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := app.Main(ctx, "alaya-worker", os.Args[1:], os.Getenv, os.Stdout, os.Stderr, app.RunWorker)
	stop()
	os.Exit(code)
}
