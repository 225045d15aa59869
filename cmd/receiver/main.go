// Command alaya-receiver accepts PagerDuty (and Alertmanager) webhooks, verifies them and puts
// them on NATS JetStream, answering only after the stream has them. It also serves the
// approval page (on receiver.page_listen) and /healthz, /readyz and /metrics (on
// receiver.admin_listen, never on the webhook listener).
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
	code := app.Main(ctx, "alaya-receiver", os.Args[1:], os.Getenv, os.Stdout, os.Stderr, app.RunReceiver)
	stop()
	os.Exit(code)
}
