package evidence

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

// LinkPath is where FS.Handler expects to be mounted.
const LinkPath = "/evidence/"

// linkDomain separates evidence-link signatures from anything else signed with the same key
// (the receiver signs approval links with it too), so one kind can never pass for the other.
const linkDomain = "alaya evidence link v1\x00"

// Link returns baseURL/evidence/<key>?exp=<unix>&sig=<hex HMAC-SHA256>, valid for ttl.
func (s *FS) Link(ctx context.Context, key string, ttl time.Duration) (string, error) {
	if err := checkKey(key); err != nil {
		return "", fmt.Errorf("link: %w", err)
	}
	if ttl <= 0 {
		return "", fmt.Errorf("link %s: %v: %w", key, ttl, ErrInvalidTTL)
	}
	exp := strconv.FormatInt(s.now().Add(ttl).Unix(), 10)
	q := url.Values{"exp": {exp}, "sig": {s.sign(key, exp)}}
	return s.baseURL + LinkPath + escapeKey(key) + "?" + q.Encode(), nil
}

func (s *FS) sign(key, exp string) string {
	m := hmac.New(sha256.New, s.key)
	io.WriteString(m, linkDomain+key+"\x00"+exp)
	return hex.EncodeToString(m.Sum(nil))
}

// verify checks a link's signature (in constant time) and then its expiry.
func (s *FS) verify(key, exp, sig string) error {
	got, err := hex.DecodeString(sig)
	want, _ := hex.DecodeString(s.sign(key, exp))
	if err != nil || !hmac.Equal(got, want) {
		return errors.New("invalid link signature")
	}
	t, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || s.now().Unix() > t {
		return errors.New("link expired")
	}
	return nil
}

func escapeKey(key string) string {
	segs := strings.Split(key, "/")
	for i, seg := range segs {
		segs[i] = url.PathEscape(seg)
	}
	return strings.Join(segs, "/")
}

// Handler serves signed links made by Link; mount it at /evidence/. Anything without a valid,
// unexpired signature gets 403. Objects are served as plain text or as a download, never as
// something a browser would render or run: evidence holds attacker-influenced bytes (an
// incident title, a log line), and the page is on the same origin as the approval page.
func (s *FS) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		key, ok := strings.CutPrefix(r.URL.Path, LinkPath)
		if !ok || checkKey(key) != nil {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		if err := s.verify(key, q.Get("exp"), q.Get("sig")); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		s.serveObject(w, r, key)
	})
}

func (s *FS) serveObject(w http.ResponseWriter, r *http.Request, key string) {
	f, err := s.open(key)
	if errors.Is(err, ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, "evidence unavailable", http.StatusInternalServerError)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		http.Error(w, "evidence unavailable", http.StatusInternalServerError)
		return
	}
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		http.Error(w, "evidence unavailable", http.StatusInternalServerError)
		return
	}
	safeHeaders(w.Header(), path.Base(key), head[:n])
	http.ServeContent(w, r, "", fi.ModTime(), f)
}

// safeHeaders sets a content type from the object's first bytes: text is served as
// text/plain whatever it looks like (HTML included), anything else as an attachment.
func safeHeaders(h http.Header, name string, head []byte) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, no-store")
	h.Set("Referrer-Policy", "no-referrer")
	if isText(head) {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		return
	}
	h.Set("Content-Type", defaultContentType)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
}

func isText(head []byte) bool {
	ct := http.DetectContentType(head)
	return strings.HasPrefix(ct, "text/") || ct == "application/json"
}
