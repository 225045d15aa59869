package actions

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/alaya-sre/alaya/evidence"
	"github.com/alaya-sre/alaya/executor"
	"github.com/alaya-sre/alaya/inventory"
)

// transfer streams the file at path on h into store and verifies it against the host's own
// size and SHA-256. Memory is bounded by the store's upload buffers; nothing is written to the
// worker's disk.
func transfer(ctx context.Context, s Streamer, store ObjectStore, h *inventory.Host, o *Outcome, p HeapDumpParams, path, key string, size int64) (Object, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	shaCmd := p.asShell(hashCommand(path))
	o.ran(shaCmd)
	remote := make(chan remoteSum, 1)
	go func() { remote <- sha256Remote(ctx, s, h, shaCmd) }()

	obj, err := upload(ctx, s, store, h, o, p, path, key, size)
	if err != nil {
		cancel()
		<-remote
		return obj, err
	}
	want := <-remote
	if want.err != nil {
		return obj, want.err
	}
	if obj.SourceSHA256 != want.sum || obj.SourceSize != size {
		return obj, permanent("verify", fmt.Errorf("stored %s sha256 %s, host has %d bytes sha256 %s: %w",
			HumanSize(obj.SourceSize), obj.SourceSHA256, size, want.sum, ErrVerify))
	}
	o.note("verified: %d bytes, sha256 %s matches the host", size, want.sum)
	return obj, nil
}

// upload runs cat (or gzip -c) on the host and puts its stdout into the store.
func upload(ctx context.Context, s Streamer, store ObjectStore, h *inventory.Host, o *Outcome, p HeapDumpParams, path, key string, size int64) (Object, error) {
	cmd, opt := p.as("cat -- "+Quote(path)), evidence.PutOptions{ContentType: "application/octet-stream", Size: size}
	if p.Compress {
		cmd, opt = p.as("gzip -1 -c -- "+Quote(path)), evidence.PutOptions{ContentType: "application/gzip", Size: -1}
		if !strings.HasSuffix(key, ".gz") {
			key += ".gz"
		}
	}
	o.ran(cmd)
	stdout, wait, err := s.Stream(ctx, h, cmd)
	if err != nil {
		return Object{}, retryable("stream", err)
	}
	body, check := io.Reader(stdout), (*gunzipCheck)(nil)
	if p.Compress {
		body, check = newGunzipCheck(stdout)
	}
	stored, putErr := store.Put(ctx, key, body, opt)
	stdout.Close()
	res, waitErr := wait()
	obj := Object{Key: stored.Key, Size: stored.Size, SHA256: stored.SHA256, SourceSize: stored.Size, SourceSHA256: stored.SHA256}
	if check != nil {
		obj.SourceSHA256, obj.SourceSize, err = check.result(putErr)
	}
	return obj, streamError(cmd, key, res, waitErr, putErr, err)
}

// streamError picks the cause of a failed transfer. When the upload failed, the command's own
// failure comes first if it failed by itself (a status below 128, such as cat's "Permission
// denied"); a command killed by our closing the stream (SIGPIPE) is a consequence, not a cause.
func streamError(cmd, key string, res *executor.Result, waitErr, putErr, gzErr error) error {
	exitErr := func() error {
		return permanent("stream", &ExitError{Command: cmd, Code: res.ExitCode, Output: lastLine(res)})
	}
	switch {
	case putErr != nil && res != nil && res.ExitCode > 0 && res.ExitCode < 128:
		return exitErr()
	case putErr != nil:
		return fmt.Errorf("store %s: %w", key, putErr)
	case waitErr != nil:
		return retryable("stream", waitErr)
	case res.ExitCode != 0:
		return exitErr()
	case gzErr != nil:
		return permanent("verify", fmt.Errorf("stored gzip does not decompress: %v: %w", gzErr, ErrVerify))
	}
	return nil
}

// hashCommand hashes path on the host with OpenSSL when it is there (it uses the CPU's SHA
// instructions: about 3.5 times faster than coreutils' sha256sum, and the host is often busy
// already), falling back to sha256sum. Both print the hex digest first.
func hashCommand(path string) string {
	q := Quote(path)
	return "openssl dgst -sha256 -r -- " + q + " 2>/dev/null || sha256sum -- " + q
}

type remoteSum struct {
	sum string
	err error
}

// sha256Remote hashes the file on the host. It runs while the file streams: the file was just
// written and is in the host's page cache, so both readers are cheap and the wall time is the
// longer of the two rather than their sum.
func sha256Remote(ctx context.Context, s Streamer, h *inventory.Host, cmd string) remoteSum {
	res, err := run(ctx, s, h, &Outcome{}, cmd, 0)
	if err != nil {
		return remoteSum{err: err}
	}
	sum, _, _ := strings.Cut(strings.TrimSpace(string(res.Stdout)), " ")
	if len(sum) != sha256.Size*2 {
		return remoteSum{err: permanent("sha256sum", fmt.Errorf("unreadable output %q", res.Stdout))}
	}
	return remoteSum{sum: sum}
}

// gunzipCheck decompresses a gzip stream as it passes to the store and hashes the result, so a
// compressed dump is verified against the host's hash of the uncompressed file.
type gunzipCheck struct {
	pw   *io.PipeWriter
	done chan struct{}
	sum  string
	n    int64
	err  error
}

func newGunzipCheck(src io.Reader) (io.Reader, *gunzipCheck) {
	pr, pw := io.Pipe()
	c := &gunzipCheck{pw: pw, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		zr, err := gzip.NewReader(pr)
		if err == nil {
			h := sha256.New()
			c.n, err = io.Copy(h, zr)
			c.sum = hex.EncodeToString(h.Sum(nil))
		}
		c.err = err
		// A broken stream stops the upload too: the writer side now fails.
		pr.CloseWithError(errors.Join(errors.New("gzip check stopped"), err))
	}()
	return io.TeeReader(src, pw), c
}

// result ends the check after the upload and returns the uncompressed hash and size.
func (c *gunzipCheck) result(uploadErr error) (string, int64, error) {
	c.pw.CloseWithError(uploadErr)
	<-c.done
	return c.sum, c.n, c.err
}
