package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/alaya-sre/alaya/config"
	"github.com/alaya-sre/alaya/evidence"
)

// newStore returns the evidence store the config names: S3 when a bucket is set, otherwise
// the local directory (the embedded default). An S3 bucket is checked before the worker starts
// (it exists, the credentials reach it, it has Object Lock when evidence.object_lock asks for
// it), so a mistake stops the start instead of the first incident's evidence. An S3 that does
// not answer is not a mistake: a worker restarted during an S3 outage starts, warns, and its
// runs say on the incident that evidence is missing until S3 is back, rather than leaving
// incidents with no diagnostics at all.
func newStore(ctx context.Context, cfg *config.Config, log *slog.Logger) (evidence.Store, error) {
	if cfg.Evidence.Bucket == "" {
		return newFSStore(cfg)
	}
	s3cfg := evidence.S3Config{
		Bucket: cfg.Evidence.Bucket, Prefix: cfg.Evidence.Prefix, Region: cfg.Evidence.Region,
		Endpoint: cfg.Evidence.Endpoint, PathStyle: cfg.Evidence.PathStyle,
	}
	if l := cfg.Evidence.ObjectLock; l.Mode != "" {
		s3cfg.ObjectLock = &evidence.ObjectLock{Mode: l.Mode, Days: l.Days}
	}
	s, err := evidence.NewS3(ctx, s3cfg, log)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, storeCheckTimeout)
	defer cancel()
	if err := s.Check(cctx); err != nil {
		if !evidence.Retryable(err) {
			return nil, err
		}
		log.Warn("evidence bucket not reachable at start; starting anyway, runs report missing evidence until it answers",
			"bucket", cfg.Evidence.Bucket, "err", err)
	}
	return s, nil
}

// storeCheckTimeout bounds the start-up check of the evidence bucket (two S3 requests).
const storeCheckTimeout = 15 * time.Second

func newFSStore(cfg *config.Config) (*evidence.FS, error) {
	key, err := linkKey(cfg)
	if err != nil {
		return nil, err
	}
	return evidence.NewFS(cfg.Evidence.Dir, publicURL(cfg), key)
}

// linkKey is the key that signs links. Without a configured one, a random key is kept beside
// the evidence so the receiver and worker on one machine agree and links survive restarts.
// Two processes starting at once must not end up with different keys, so the key is created
// with a hard link, which fails if another process created it first; both then read the file.
func linkKey(cfg *config.Config) ([]byte, error) {
	if k := cfg.Receiver.LinkKey.Reveal(); k != "" {
		return []byte(k), nil
	}
	if cfg.Evidence.Dir == "" {
		return nil, fmt.Errorf("receiver.link_key is required when evidence is not in a local directory")
	}
	path := filepath.Join(cfg.Evidence.Dir, ".link-key")
	if b, err := os.ReadFile(path); err == nil && len(b) >= 32 {
		return b, nil
	}
	if err := os.MkdirAll(cfg.Evidence.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("evidence dir: %w", err)
	}
	tmp, err := os.CreateTemp(cfg.Evidence.Dir, ".link-key-*")
	if err != nil {
		return nil, fmt.Errorf("link key: %w", err)
	}
	defer os.Remove(tmp.Name())
	key := make([]byte, 32)
	rand.Read(key)
	_, werr := tmp.Write(key)
	if cerr := tmp.Close(); werr != nil || cerr != nil {
		return nil, fmt.Errorf("link key: %w", errors.Join(werr, cerr))
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("link key: %w", err)
	}
	b, err := os.ReadFile(path)
	if err != nil || len(b) < 32 {
		return nil, fmt.Errorf("link key %s: unreadable or short: %v", path, err)
	}
	return b, nil
}
