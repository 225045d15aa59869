// Package evidence keeps everything Alaya sees during an incident, so that a responder (or an
// auditor, months later) can check what a run found and did without trusting the note alone.
//
// Objects are stored under one key layout, incidents/<incident>/<run>/<step>/<host>/<name>,
// in S3 (the production store) or in a local directory (the embedded default). Both stores
// stream: a heap dump of several GiB passes from the SSH channel to the store in bounded
// memory, and its size and SHA-256 are computed on the way through, so the run's manifest can
// vouch for every object without reading it back.
//
// Text evidence is redacted before it is stored (see Redactor; Redactor.Store redacts every
// text and JSON object put through it, whoever writes it). Binary evidence
// such as JVM heap dumps is stored as is: a heap dump inherently holds the process's secrets,
// and rewriting bytes in it would corrupt it without making it safe. Access to the bucket (or
// the directory) and short-lived links are the protection for those.
package evidence

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"
)

// Store keeps evidence objects. Keys are slash-separated, e.g.
// incidents/<incident>/<run>/<step>/<host>/stdout; build them with Key.
type Store interface {
	// Put streams r into the object at key without buffering it whole (heap dumps are GBs) and
	// returns its size and SHA-256 computed on the way through.
	Put(ctx context.Context, key string, r io.Reader, opt PutOptions) (Object, error)
	// Get opens the object at key; the caller closes it. A missing object is ErrNotFound.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// Link returns a URL a person can open for ttl: a presigned GET for S3; for the
	// filesystem store an HMAC-signed URL served by FS.Handler.
	Link(ctx context.Context, key string, ttl time.Duration) (string, error)
}

// PutOptions describe an object being stored.
type PutOptions struct {
	ContentType string // defaults to application/octet-stream
	// Size is the expected length, or -1 when unknown (a stream). When positive, a stream of
	// any other length fails with ErrSizeMismatch and leaves no object behind. Zero is treated
	// as unknown too, so that a PutOptions without Size never rejects a stream.
	Size int64
}

// Object is a stored object as the manifest records it.
type Object struct {
	Key         string `json:"key"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"` // hex
	ContentType string `json:"content_type,omitempty"`
}

// Errors callers act on. Retryable tells transient failures from these.
var (
	// ErrInvalidKey means a key could escape the store's root or is malformed; build keys
	// with Key. Permanent.
	ErrInvalidKey = errors.New("invalid evidence key")
	// ErrSizeMismatch means the stream was not as long as PutOptions.Size said: the object
	// was truncated or padded on the way and was not kept. Permanent.
	ErrSizeMismatch = errors.New("size mismatch")
	// ErrNotFound means there is no object at the key. Permanent.
	ErrNotFound = errors.New("evidence object not found")
	// ErrInvalidTTL means a link lifetime is zero, negative or longer than the store allows.
	ErrInvalidTTL = errors.New("invalid link lifetime")
)

const defaultContentType = "application/octet-stream"

// digest counts and hashes the bytes that pass through it, so a store can report an
// object's size and SHA-256 without a second read.
type digest struct {
	h hash.Hash
	n int64
}

func newDigest() *digest { return &digest{h: sha256.New()} }

func (d *digest) Write(p []byte) (int, error) {
	d.h.Write(p) // never fails
	d.n += int64(len(p))
	return len(p), nil
}

func (d *digest) sum() string { return hex.EncodeToString(d.h.Sum(nil)) }

// object is the Object for the bytes d has seen.
func (d *digest) object(key string, opt PutOptions) Object {
	return Object{Key: key, Size: d.n, SHA256: d.sum(), ContentType: contentType(opt)}
}

func contentType(opt PutOptions) string {
	if opt.ContentType == "" {
		return defaultContentType
	}
	return opt.ContentType
}

// measure returns a reader that passes r's bytes through d and fails with ErrSizeMismatch as
// soon as the stream is longer than opt.Size, or at its end when it is shorter. Failing inside
// the stream (instead of after it) lets a store abort the write, so no wrong-sized object is
// ever visible. The reader offers only Read, so consumers (the S3 upload manager in
// particular) read it sequentially through the digest instead of seeking or reading at offsets.
func measure(r io.Reader, opt PutOptions) (io.Reader, *digest) {
	d := newDigest()
	return &measured{r: r, d: d, want: opt.Size}, d
}

type measured struct {
	r    io.Reader
	d    *digest
	want int64 // <= 0: unknown
}

func (m *measured) Read(p []byte) (int, error) {
	n, err := m.r.Read(p)
	m.d.Write(p[:n])
	if m.want <= 0 {
		return n, err
	}
	switch {
	case m.d.n > m.want:
		return n, fmt.Errorf("stream longer than %d bytes: %w", m.want, ErrSizeMismatch)
	case err == io.EOF && m.d.n < m.want:
		return n, fmt.Errorf("stream has %d bytes, want %d: %w", m.d.n, m.want, ErrSizeMismatch)
	}
	return n, err
}
