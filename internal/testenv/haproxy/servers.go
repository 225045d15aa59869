package haproxy

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"testing"
)

// startServer serves name on every path from a free local port and returns its address.
func startServer(tb testing.TB, name string) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, name)
	})}
	go srv.Serve(ln)
	tb.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// freePort returns a local address that was free a moment ago, for HAProxy to bind.
func freePort(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// require skips the test when a prerequisite is missing on a developer machine and fails it
// under CI, where a missing prerequisite means the setup is broken.
func require(tb testing.TB, what string, ok bool) {
	tb.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") != "" {
		tb.Fatalf("missing prerequisite: %s", what)
	}
	tb.Skipf("missing prerequisite: %s", what)
}
