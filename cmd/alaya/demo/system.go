package demo

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/alaya-sre/alaya/app"
	"github.com/alaya-sre/alaya/config"
)

// system is the receiver and worker running in this process over an embedded JetStream.
type system struct {
	receiver, worker string // base URLs
	secret           string
	stop             func()
}

// startSystem configures Alaya exactly as an operator would, through ALAYA_* settings, and
// starts it.
func startSystem(ctx context.Context, dir, pdURL string, logTo io.Writer) (*system, error) {
	rl, err := listenLocal()
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	wl, err := listenLocal()
	if err != nil {
		rl.Close()
		return nil, fmt.Errorf("demo: %w", err)
	}
	sys := &system{receiver: "http://" + rl.Addr().String(), worker: "http://" + wl.Addr().String(), secret: randomSecret()}
	env := map[string]string{
		"ALAYA_NATS_EMBEDDED":            "true",
		"ALAYA_NATS_URLS":                "nats://127.0.0.1:0",
		"ALAYA_NATS_STORE_DIR":           filepath.Join(dir, "nats"),
		"ALAYA_RECEIVER_PUBLIC_URL":      sys.receiver,
		"ALAYA_RECEIVER_ADMIN_LISTEN":    "127.0.0.1:0", // health and metrics: loopback, any free port
		"ALAYA_RECEIVER_WEBHOOK_SECRETS": sys.secret,
		"ALAYA_WORKER_RUNBOOKS":          filepath.Join(dir, "runbooks"),
		"ALAYA_WORKER_INVENTORY":         filepath.Join(dir, "inventory.yaml"),
		"ALAYA_PAGERDUTY_API_URL":        pdURL,
		"ALAYA_PAGERDUTY_TOKEN":          pdToken,
		"ALAYA_PAGERDUTY_FROM":           botEmail,
		"ALAYA_EVIDENCE_DIR":             filepath.Join(dir, "evidence"),
	}
	cfg, err := config.Load("", func(k string) string { return env[k] })
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	logFile, err := os.Create(filepath.Join(dir, "alaya.log"))
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	var logW io.Writer = logFile
	if logTo != nil {
		logW = io.MultiWriter(logFile, logTo)
	}
	log := app.NewLogger(logW, "info")

	nats, url, err := app.StartEmbeddedNATS(cfg)
	if err != nil {
		return nil, err
	}
	cfg.NATS.URLs = []string{url}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stopAll := func() { cancel(); nats.Shutdown(); nats.WaitForShutdown(); logFile.Close() }
	r, err := app.NewReceiver(runCtx, cfg, log.With("process", "receiver"))
	if err != nil {
		stopAll()
		return nil, err
	}
	w, err := app.NewWorker(runCtx, cfg, log.With("process", "worker"))
	if err != nil {
		stopAll()
		return nil, err
	}
	done := make(chan struct{}, 2)
	go func() { _ = r.Run(runCtx, rl); done <- struct{}{} }()
	go func() { _ = w.Run(runCtx, wl); done <- struct{}{} }()
	sys.stop = func() {
		cancel()
		<-done
		<-done
		nats.Shutdown()
		nats.WaitForShutdown()
		logFile.Close()
	}
	return sys, nil
}
