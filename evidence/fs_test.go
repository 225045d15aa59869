package evidence

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

var testLinkKey = []byte("0123456789abcdef0123456789abcdef")

// newTestFS returns an FS whose links point at an httptest server running its Handler.
func newTestFS(t *testing.T) (*FS, *httptest.Server) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	s, err := NewFS(filepath.Join(t.TempDir(), "evidence"), srv.URL+"/", testLinkKey)
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle(LinkPath, s.Handler())
	return s, srv
}

func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestNewFSRefuses(t *testing.T) {
	tests := []struct {
		name string
		dir  string
		key  []byte
	}{
		{"empty dir", "", testLinkKey},
		{"no key", t.TempDir(), nil},
		{"short key", t.TempDir(), []byte("short")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewFS(tt.dir, "http://x", tt.key); err == nil {
				t.Fatal("NewFS succeeded")
			}
		})
	}
}

func TestFSPutGet(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestFS(t)
	body := bytes.Repeat([]byte("uptime 12 days\n"), 10000)
	tests := []struct {
		name string
		r    io.Reader
		opt  PutOptions
	}{
		{"known size", bytes.NewReader(body), PutOptions{ContentType: "text/plain", Size: int64(len(body))}},
		{"unknown size one byte reads", iotest.OneByteReader(bytes.NewReader(body)), PutOptions{Size: -1}},
		{"zero options", bytes.NewReader(body), PutOptions{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := Key("incidents", "Q1", "run", "01-uptime", "app-1", tt.name)
			obj, err := s.Put(ctx, key, tt.r, tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			if obj.Key != key || obj.Size != int64(len(body)) || obj.SHA256 != sha(body) {
				t.Errorf("Put = %+v, want size %d sha %s", obj, len(body), sha(body))
			}
			if tt.opt.ContentType == "" && obj.ContentType != "application/octet-stream" {
				t.Errorf("content type = %q, want the default", obj.ContentType)
			}
			if got := readAll(t, s, key); !bytes.Equal(got, body) {
				t.Errorf("Get returned %d bytes, want %d", len(got), len(body))
			}
		})
	}
}

func readAll(t *testing.T, s Store, key string) []byte {
	t.Helper()
	rc, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFSPutOverwritesAtomically(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestFS(t)
	key := Key("incidents", "Q1", "run", "manifest.json")
	if _, err := s.Put(ctx, key, strings.NewReader("old"), PutOptions{Size: -1}); err != nil {
		t.Fatal(err)
	}
	// A failing stream must leave the old object intact and no temporary file behind.
	failing := io.MultiReader(strings.NewReader("partial new"), iotest.ErrReader(errors.New("ssh channel closed")))
	if _, err := s.Put(ctx, key, failing, PutOptions{Size: -1}); err == nil {
		t.Fatal("Put of a failing stream succeeded")
	}
	if got := readAll(t, s, key); string(got) != "old" {
		t.Errorf("object = %q after failed overwrite, want %q", got, "old")
	}
	assertNoTempFiles(t, s.dir)
}

func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", p)
		}
		return nil
	})
}

func TestFSPutSizeMismatch(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestFS(t)
	tests := []struct {
		name string
		body string
		size int64
	}{
		{"short", "1234", 5},
		{"long", "123456", 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := Key("incidents", "Q1", "run", tt.name)
			_, err := s.Put(ctx, key, strings.NewReader(tt.body), PutOptions{Size: tt.size})
			if !errors.Is(err, ErrSizeMismatch) {
				t.Fatalf("Put = %v, want ErrSizeMismatch", err)
			}
			if Retryable(err) {
				t.Error("a size mismatch is retryable")
			}
			if _, err := s.Get(ctx, key); !errors.Is(err, ErrNotFound) {
				t.Errorf("Get after mismatch = %v, want ErrNotFound", err)
			}
			assertNoTempFiles(t, s.dir)
		})
	}
}

func TestFSPutHonoursContext(t *testing.T) {
	s, _ := newTestFS(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Put(ctx, "incidents/x", strings.NewReader("data"), PutOptions{Size: -1})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestFSRefusesEscapingKeys(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestFS(t)
	outside := filepath.Join(filepath.Dir(s.dir), "outside")
	if err := os.WriteFile(outside, []byte("not evidence"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A symlink planted inside the store must not lead out of it either.
	if err := os.Symlink(filepath.Dir(s.dir), filepath.Join(s.dir, "link")); err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{
		"parent":           "../outside",
		"nested parent":    "incidents/../../outside",
		"absolute":         outside,
		"nul":              "incidents/x\x00/../../outside",
		"hidden link key":  ".link-key",
		"backslash":        `..\outside`,
		"through symlink":  "link/outside",
		"symlink dir only": "link/evidence/x",
	}
	for name, key := range keys {
		t.Run(name, func(t *testing.T) {
			if _, err := s.Put(ctx, key, strings.NewReader("pwned"), PutOptions{Size: -1}); err == nil {
				t.Errorf("Put(%q) succeeded", key)
			}
			if rc, err := s.Get(ctx, key); err == nil {
				rc.Close()
				t.Errorf("Get(%q) succeeded", key)
			}
			if b, _ := os.ReadFile(outside); string(b) != "not evidence" {
				t.Fatalf("file outside the store changed to %q", b)
			}
		})
	}
}

func TestFSGetMissing(t *testing.T) {
	s, _ := newTestFS(t)
	_, err := s.Get(context.Background(), "incidents/none")
	if !errors.Is(err, ErrNotFound) || Retryable(err) {
		t.Fatalf("Get(missing) = %v, want permanent ErrNotFound", err)
	}
}

func TestFSLinks(t *testing.T) {
	s, srv := newTestFS(t)
	text := Key("incidents", "Q1", "run", "01-tail", "app-1", "stdout")
	html := Key("incidents", "Q1", "run", "01-tail", "app-1", "page")
	dump := Key("incidents", "Q1", "run", "02-heap", "app-1", "heap.hprof")
	put(t, s, text, "ERROR connection refused\n")
	put(t, s, html, "<html><script>alert(document.cookie)</script></html>")
	put(t, s, dump, "JAVA PROFILE 1.0.2\x00\x00\x00\x08binary")

	tests := []struct {
		name       string
		url        func(t *testing.T) string
		status     int
		body       string
		ctype      string
		attachment bool
	}{
		{"text", link(s, text, time.Hour), 200, "ERROR connection refused\n", "text/plain; charset=utf-8", false},
		{"html served as text", link(s, html, time.Hour), 200, "<html><script>", "text/plain; charset=utf-8", false},
		{"binary as attachment", link(s, dump, time.Hour), 200, "JAVA PROFILE", "application/octet-stream", true},
		{"tampered signature", tamper(link(s, text, time.Hour), "sig", flipLast), 403, "", "", false},
		{"extended expiry", tamper(link(s, text, time.Hour), "exp", func(v string) string { return v + "0" }), 403, "", "", false},
		{"other key same signature", swapPath(link(s, text, time.Hour), html), 403, "", "", false},
		{"no signature", func(*testing.T) string { return srv.URL + LinkPath + text }, 403, "", "", false},
		{"traversal", func(*testing.T) string { return srv.URL + LinkPath + "../../etc/passwd?exp=1&sig=00" }, 404, "", "", false},
		{"missing object", link(s, Key("incidents", "none"), time.Hour), 404, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := get(t, tt.url(t))
			if resp.status != tt.status {
				t.Fatalf("status %d, want %d (%s)", resp.status, tt.status, resp.body)
			}
			if resp.header.Get("X-Content-Type-Options") != "nosniff" && tt.status == 200 {
				t.Error("no nosniff header")
			}
			if !strings.HasPrefix(resp.body, tt.body) {
				t.Errorf("body %q, want prefix %q", resp.body, tt.body)
			}
			if tt.status == 200 && resp.header.Get("Content-Type") != tt.ctype {
				t.Errorf("Content-Type %q, want %q", resp.header.Get("Content-Type"), tt.ctype)
			}
			if got := strings.HasPrefix(resp.header.Get("Content-Disposition"), "attachment"); got != tt.attachment {
				t.Errorf("Content-Disposition %q, want attachment=%v", resp.header.Get("Content-Disposition"), tt.attachment)
			}
		})
	}
}

func TestFSLinkExpires(t *testing.T) {
	s, _ := newTestFS(t)
	key := Key("incidents", "Q1", "stdout")
	put(t, s, key, "ok")
	now := time.Now()
	s.now = func() time.Time { return now }
	u := link(s, key, time.Minute)(t)
	if r := get(t, u); r.status != 200 {
		t.Fatalf("fresh link: status %d", r.status)
	}
	s.now = func() time.Time { return now.Add(61 * time.Second) }
	if r := get(t, u); r.status != 403 || !strings.Contains(r.body, "expired") {
		t.Fatalf("expired link: status %d %q, want 403 expired", r.status, r.body)
	}
}

func TestFSLinkRefuses(t *testing.T) {
	s, _ := newTestFS(t)
	tests := []struct {
		name string
		key  string
		ttl  time.Duration
		want error
	}{
		{"zero ttl", "incidents/x", 0, ErrInvalidTTL},
		{"negative ttl", "incidents/x", -time.Second, ErrInvalidTTL},
		{"escaping key", "../x", time.Hour, ErrInvalidKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.Link(context.Background(), tt.key, tt.ttl); !errors.Is(err, tt.want) {
				t.Fatalf("Link = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestFSHandlerMethods(t *testing.T) {
	s, _ := newTestFS(t)
	key := Key("incidents", "Q1", "stdout")
	put(t, s, key, "hello")
	u := link(s, key, time.Hour)(t)
	for _, tt := range []struct {
		method string
		status int
	}{{http.MethodHead, 200}, {http.MethodPost, 405}, {http.MethodDelete, 405}} {
		t.Run(tt.method, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, u, nil)
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Errorf("%s: status %d, want %d", tt.method, rec.Code, tt.status)
			}
		})
	}
}

func put(t *testing.T, s Store, key, body string) {
	t.Helper()
	if _, err := s.Put(context.Background(), key, strings.NewReader(body), PutOptions{Size: int64(len(body))}); err != nil {
		t.Fatal(err)
	}
}

func link(s Store, key string, ttl time.Duration) func(*testing.T) string {
	return func(t *testing.T) string {
		t.Helper()
		u, err := s.Link(context.Background(), key, ttl)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
}

func tamper(f func(*testing.T) string, param string, change func(string) string) func(*testing.T) string {
	return func(t *testing.T) string {
		u, err := url.Parse(f(t))
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set(param, change(q.Get(param)))
		u.RawQuery = q.Encode()
		return u.String()
	}
}

func swapPath(f func(*testing.T) string, key string) func(*testing.T) string {
	return func(t *testing.T) string {
		u, _ := url.Parse(f(t))
		u.Path = LinkPath + key
		return u.String()
	}
}

func flipLast(v string) string {
	if strings.HasSuffix(v, "0") {
		return v[:len(v)-1] + "1"
	}
	return v[:len(v)-1] + "0"
}

type response struct {
	status int
	header http.Header
	body   string
}

func get(t *testing.T, u string) response {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, string(b)}
}
