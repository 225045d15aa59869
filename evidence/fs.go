package evidence

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"time"
)

// minSigningKey is the shortest link-signing key NewFS accepts: a short key makes signed links
// guessable, and a link opens evidence without any other check.
const minSigningKey = 16

// FS is the filesystem store, the embedded default: objects are files under one directory in
// the same key layout as S3, and links are HMAC-signed URLs that Handler serves.
//
// Every operation goes through an os.Root, so no key, symlink or rename can reach outside the
// directory; writes are atomic (a temporary file, fsynced, renamed into place), so a crash
// never leaves a half-written object under a real key.
type FS struct {
	dir     string
	baseURL string
	key     []byte
	now     func() time.Time // a field so tests can move the clock past a link's expiry
}

var _ Store = (*FS)(nil)

// NewFS returns a store that keeps objects under dir (created if missing) and makes links of
// the form baseURL/evidence/<key>?exp=..&sig=.., signed with signingKey (at least 16 bytes).
// Mount FS.Handler at /evidence/ on the server baseURL points to.
func NewFS(dir string, baseURL string, signingKey []byte) (*FS, error) {
	if dir == "" {
		return nil, errors.New("evidence dir is empty")
	}
	if len(signingKey) < minSigningKey {
		return nil, fmt.Errorf("evidence link key has %d bytes, need at least %d", len(signingKey), minSigningKey)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("evidence dir: %w", err)
	}
	for len(baseURL) > 0 && baseURL[len(baseURL)-1] == '/' {
		baseURL = baseURL[:len(baseURL)-1]
	}
	key := append([]byte(nil), signingKey...)
	return &FS{dir: dir, baseURL: baseURL, key: key, now: time.Now}, nil
}

// Put writes r to a temporary file beside the object, fsyncs it and renames it over key, so
// readers see the old object or the whole new one, never a part.
func (s *FS) Put(ctx context.Context, key string, r io.Reader, opt PutOptions) (Object, error) {
	if err := checkKey(key); err != nil {
		return Object{}, fmt.Errorf("put: %w", err)
	}
	root, err := os.OpenRoot(s.dir)
	if err != nil {
		return Object{}, fmt.Errorf("put %s: %w", key, err)
	}
	defer root.Close()
	dir := path.Dir(key)
	if err := root.MkdirAll(dir, 0o750); err != nil {
		return Object{}, fmt.Errorf("put %s: %w", key, err)
	}
	tmp, d, err := writeTemp(ctx, root, dir, r, opt)
	if err != nil {
		return Object{}, fmt.Errorf("put %s: %w", key, err)
	}
	if err := root.Rename(tmp, key); err != nil {
		root.Remove(tmp)
		return Object{}, fmt.Errorf("put %s: %w", key, err)
	}
	if err := syncDir(root, dir); err != nil {
		return Object{}, fmt.Errorf("put %s: %w", key, err)
	}
	return d.object(key, opt), nil
}

// writeTemp copies r into a new hidden file in dir and fsyncs it. On failure the file is gone.
func writeTemp(ctx context.Context, root *os.Root, dir string, r io.Reader, opt PutOptions) (string, *digest, error) {
	name := path.Join(dir, ".tmp-"+randomHex(8))
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return "", nil, err
	}
	body, d := measure(ctxReader{ctx: ctx, r: r}, opt)
	_, err = io.Copy(f, body)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		root.Remove(name)
		return "", nil, err
	}
	return name, d, nil
}

// syncDir makes a rename in dir durable.
func syncDir(root *os.Root, dir string) error {
	f, err := root.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// Get opens the object at key.
func (s *FS) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	f, err := s.open(key)
	if err != nil {
		return nil, fmt.Errorf("get: %w", err)
	}
	return f, nil
}

// open opens a regular file at key inside the store's directory.
func (s *FS) open(key string) (*os.File, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(s.dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	defer root.Close()
	f, err := root.Open(key)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: %w", key, ErrNotFound)
	}
	return f, nil
}

// ctxReader stops a copy when its context ends, so a stalled or cancelled run does not keep
// writing evidence.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails
	return hex.EncodeToString(b)
}
