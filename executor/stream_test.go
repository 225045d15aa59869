package executor_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/alaya-sre/alaya/executor"
	"github.com/alaya-sre/alaya/internal/testenv/sshbed"
)

// TestStreamLargeFile streams a 50 MB file from the target through the bastion: the bytes
// match, and the worker's heap stays far below the file's size.
func TestStreamLargeFile(t *testing.T) {
	t.Parallel()
	bed := sshbed.Start(t)
	inv := bed.Inventory(t)
	x := newSSH(t, inv)
	path := filepath.Join(sharedDir(t), "heap.hprof")
	want := writeRandomFile(t, path, 50<<20)

	stdout, wait, err := x.Stream(t.Context(), target(t, inv, bed), "cat "+path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.New()
	peak := copyWatchingHeap(t, sum, stdout)
	res, err := wait()
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("wait: %v, exit %d, stderr %q", err, res.ExitCode, res.Stderr)
	}
	if got := sum.Sum(nil); string(got) != string(want) {
		t.Fatalf("sha256 %x, want %x", got, want)
	}
	if peak > 24<<20 {
		t.Errorf("heap grew by %d MiB while streaming 50 MiB; want it bounded", peak>>20)
	}
}

func writeRandomFile(t *testing.T, path string, size int) []byte {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Chmod(0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.New()
	r := rand.NewChaCha8([32]byte{1})
	if _, err := io.CopyN(io.MultiWriter(f, sum), r, int64(size)); err != nil {
		t.Fatal(err)
	}
	return sum.Sum(nil)
}

// copyWatchingHeap copies src to dst and returns the largest growth of the live heap seen
// along the way (sampled after a GC every 4 MiB, so garbage does not count).
func copyWatchingHeap(t *testing.T, dst io.Writer, src io.Reader) uint64 {
	t.Helper()
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapAlloc, uint64(0)
	for {
		_, err := io.CopyN(dst, src, 4<<20)
		runtime.GC()
		runtime.ReadMemStats(&ms)
		if ms.HeapAlloc > base {
			peak = max(peak, ms.HeapAlloc-base)
		}
		if err == io.EOF {
			return peak
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestStreamEnds covers the ways a stream ends other than success.
func TestStreamEnds(t *testing.T) {
	t.Parallel()
	bed := sshbed.Start(t)
	inv := bed.Inventory(t)
	x := newSSH(t, inv)
	h := target(t, inv, bed)

	t.Run("failing command reports exit code and stderr", func(t *testing.T) {
		stdout, wait, err := x.Stream(t.Context(), h, "cat /nonexistent")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, stdout)
		res, err := wait()
		if err != nil || res.ExitCode != 1 || len(res.Stderr) == 0 {
			t.Fatalf("%v, exit %d, stderr %q", err, res.ExitCode, res.Stderr)
		}
	})
	t.Run("closing early kills the command", func(t *testing.T) {
		stdout, wait, err := x.Stream(t.Context(), h, "exec yes")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(stdout, make([]byte, 1<<20)); err != nil {
			t.Fatal(err)
		}
		stdout.Close()
		res, err := wait()
		if err != nil || res.ExitCode != 128+9 {
			t.Fatalf("%v, exit %d; want killed (137)", err, res.ExitCode)
		}
	})
	t.Run("context deadline kills the command", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		stdout, wait, err := x.Stream(ctx, h, "exec sleep 60")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, stdout)
		res, err := wait()
		if !errors.Is(err, executor.ErrTimeout) || res.ExitCode != -1 {
			t.Fatalf("%v, exit %d; want ErrTimeout", err, res.ExitCode)
		}
	})
}
