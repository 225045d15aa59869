package fleet

import (
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
)

// Fault is what the S3 proxy does with a request.
type Fault int32

const (
	// Pass forwards the request to the real S3 server.
	Pass Fault = iota
	// Down drops the connection without an answer, as an unreachable endpoint would.
	Down
	// AccessDenied answers 403 with S3's AccessDenied error, as after a policy or credential
	// change.
	AccessDenied
)

// FaultProxy sits between the workers and the real S3 server, so a test can take S3 away or
// make it refuse, without touching the server or its data.
type FaultProxy struct {
	URL   string
	fault atomic.Int32
}

// StartFaultProxy forwards to target until the test ends.
func StartFaultProxy(tb testing.TB, target string) *FaultProxy {
	tb.Helper()
	u, err := url.Parse(target)
	if err != nil {
		tb.Fatal(err)
	}
	p := &FaultProxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p.URL = "http://" + ln.Addr().String()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch Fault(p.fault.Load()) {
		case Down:
			if hj, ok := w.(http.Hijacker); ok {
				if c, _, err := hj.Hijack(); err == nil {
					c.Close()
					return
				}
			}
			panic(http.ErrAbortHandler)
		case AccessDenied:
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`))
		default:
			rp.ServeHTTP(w, r)
		}
	})}
	go srv.Serve(ln)
	tb.Cleanup(func() { srv.Close() })
	return p
}

// Set changes what the proxy does from the next request on.
func (p *FaultProxy) Set(f Fault) { p.fault.Store(int32(f)) }
