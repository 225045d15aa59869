// Package app assembles Alaya's processes from their parts. The receiver and the worker are
// each a value with a Run method, so `cmd/receiver`, `cmd/worker`, `alaya demo` and the
// end-to-end tests all start exactly the same code, in-process, on 127.0.0.1:0 when testing.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/alaya-sre/alaya/config"
	"github.com/alaya-sre/alaya/internal/version"
)

// NewLogger returns the JSON logger every process uses. Durations are written as people read
// them ("took":"36.7ms", "grace":"1m30s") rather than as slog's default nanosecond integers.
func NewLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l, ReplaceAttr: readableDurations}))
}

func readableDurations(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		return slog.String(a.Key, a.Value.Duration().String())
	}
	return a
}

// Main is what cmd/receiver and cmd/worker call: parse flags and config, then run until ctx
// ends. It returns the process exit status. -version prints the build to stdout; logs go to
// stderr.
func Main(ctx context.Context, name string, args []string, getenv func(string) string, stdout, stderr io.Writer,
	run func(ctx context.Context, cfg *config.Config, log *slog.Logger) error) int {
	cfgPath, code, done := parseArgs(name, args, stdout, stderr)
	if done {
		return code
	}
	if cfgPath == "" {
		cfgPath = getenv("ALAYA_CONFIG")
	}
	cfg, err := config.Load(cfgPath, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 2
	}
	log := NewLogger(stderr, cfg.Log.Level).With("process", name)
	if err := run(ctx, cfg, log); err != nil && !errors.Is(err, context.Canceled) {
		log.Error("stopped", "err", err)
		return 1
	}
	return 0
}

// parseArgs reads the command line. done is true when the process has nothing more to do
// (-version, -h, a bad argument) and should exit with code.
func parseArgs(name string, args []string, stdout, stderr io.Writer) (cfgPath string, code int, done bool) {
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case (a == "-config" || a == "--config") && i+1 < len(args):
			cfgPath = args[i+1]
			i++
		case strings.HasPrefix(a, "-config=") || strings.HasPrefix(a, "--config="):
			cfgPath = a[strings.Index(a, "=")+1:]
		case a == "-version" || a == "--version":
			fmt.Fprintln(stdout, version.Line(name))
			return "", 0, true
		case a == "-h" || a == "--help":
			fmt.Fprintf(stderr, "usage: %s [-config FILE] [-version]\n\nEvery setting can also come from the environment:\n  %s\n",
				name, strings.Join(config.EnvNames(), "\n  "))
			return "", 0, true
		default:
			fmt.Fprintf(stderr, "%s: unknown argument %q (usage: %s [-config FILE] [-version])\n", name, a, name)
			return "", 2, true
		}
	}
	return cfgPath, 0, false
}

// serve runs an HTTP server on ln until ctx ends, then shuts it down gracefully: in-flight
// requests (a webhook waiting for its JetStream ack) finish before the process exits.
func serve(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// listener is one address and what it serves.
type listener struct {
	ln net.Listener
	h  http.Handler
}

// serveAll serves every listener until ctx ends or one of them fails, which stops the others.
func serveAll(ctx context.Context, log *slog.Logger, ls ...listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, len(ls))
	for _, l := range ls {
		go func() {
			err := serve(ctx, l.ln, l.h, log)
			cancel()
			errc <- err
		}()
	}
	var errs []error
	for range ls {
		if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// listen opens addr, or uses a listener a test handed in.
func listen(addr string, ln net.Listener) (net.Listener, error) {
	if ln != nil {
		return ln, nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	return l, nil
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}
