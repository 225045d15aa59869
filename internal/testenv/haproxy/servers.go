package haproxy

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
)

// startServer serves name on every path from a free local port and returns its address.
// /hold answers only once release is closed, to keep a session open through HAProxy.
func startServer(tb testing.TB, name string, held *sync.Map, release <-chan struct{}) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			n, _ := held.LoadOrStore(name, new(atomic.Int32))
			n.(*atomic.Int32).Add(1)
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
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

// tempDir is a directory others may traverse (t.TempDir's parent is private), removed when
// the test ends.
func tempDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.MkdirTemp("", "alaya-haproxy-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	return dir
}
