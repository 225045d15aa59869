package actions

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/alaya-sre/alaya/inventory"
)

const (
	defaultCommandTimeout = 30 * time.Second
	defaultMaxDump        = 8 << 30
)

// HeapDump takes a heap dump of the JVM matching p.Pattern on h and streams it into store at
// key (key+".gz" when compressed), verifying size and SHA-256 against the file on the host.
//
// The dump never touches the worker's disk: `cat` (or `gzip -c`) runs on the host and its
// stdout flows through the SSH channel straight into the store's streaming upload, while
// sha256sum runs on the host at the same time. The remote file is deleted afterwards, also
// when anything failed, since heap dumps hold secrets and fill disks. A dump larger than
// p.MaxSize is refused before streaming; the outcome says so and nothing is uploaded.
//
// Only a file this step wrote is deleted: a dump path that already exists (an earlier dump
// someone is reading, or anything else put there) is refused before jcmd runs and left as it
// was, and so is one that appears between that check and jcmd (jcmd then declines).
func HeapDump(ctx context.Context, s Streamer, store ObjectStore, h *inventory.Host, key string, p HeapDumpParams) (Outcome, error) {
	o := begin(KindHeapDump, h.Name)
	summary, err := heapDump(ctx, s, store, h, key, p, &o)
	return o.finish(err, "%s", summary)
}

// heapDump does the work and returns the outcome's summary line.
func heapDump(ctx context.Context, s Streamer, store ObjectStore, h *inventory.Host, key string, p HeapDumpParams, o *Outcome) (string, error) {
	if p.Pattern == "" {
		return "heap dump refused: no process pattern", refusef("heap_dump on %s: parameter pattern is required", h.Name)
	}
	pid, err := findJVM(ctx, s, h, o, p.Pattern)
	if err != nil {
		return fmt.Sprintf("no heap dump on %s: %v", h.Name, short(err)), err
	}
	path := p.dumpPath(pid)
	o.note("jvm pid %d; dump file %s", pid, path)
	if err := pathFree(ctx, s, h, o, p, path); err != nil {
		return fmt.Sprintf("no heap dump on %s: %v", h.Name, short(err)), err
	}
	line, ours, err := dumpAndStore(ctx, s, store, h, key, p, o, pid, path)
	if ours && !removeRemote(ctx, s, h, o, p, path) {
		line += " (remote file NOT deleted)"
	}
	return line, err
}

// pathFree refuses a dump path where something already exists (a symbolic link included,
// even a dangling one): it is not ours to overwrite or delete.
func pathFree(ctx context.Context, s Streamer, h *inventory.Host, o *Outcome, p HeapDumpParams, path string) error {
	q := Quote(path)
	res, err := run(ctx, s, h, o, p.as("if [ -e "+q+" ] || [ -L "+q+" ]; then echo exists; else echo free; fi"), defaultCommandTimeout)
	if err != nil {
		return err
	}
	if strings.TrimSpace(string(res.Stdout)) != "free" {
		return refusef("dump file %s already exists on %s: not ours, left untouched", path, h.Name)
	}
	return nil
}

// dumpAndStore writes the dump, checks its size and streams it into the store. ours reports
// whether a file at path is this step's to delete: false when jcmd found one already there.
func dumpAndStore(ctx context.Context, s Streamer, store ObjectStore, h *inventory.Host, key string, p HeapDumpParams, o *Outcome, pid int, path string) (line string, ours bool, err error) {
	line, err = dumpAndUpload(ctx, s, store, h, key, p, o, pid, path)
	return line, !errors.Is(err, errPathTaken), err
}

// errPathTaken is the refusal when jcmd finds the dump path taken after pathFree checked it.
var errPathTaken = &Refusal{Reason: "dump file appeared before jcmd ran: not ours, left untouched"}

func dumpAndUpload(ctx context.Context, s Streamer, store ObjectStore, h *inventory.Host, key string, p HeapDumpParams, o *Outcome, pid int, path string) (string, error) {
	if err := jcmdDump(ctx, s, h, o, p, pid, path); err != nil {
		return fmt.Sprintf("heap dump of pid %d on %s failed: %v", pid, h.Name, short(err)), err
	}
	size, err := remoteSize(ctx, s, h, o, p, path)
	if err != nil {
		return fmt.Sprintf("heap dump of pid %d on %s written but unreadable: %v", pid, h.Name, short(err)), err
	}
	if limit := orSize(p.MaxSize, defaultMaxDump); size > limit {
		err := refusef("heap dump of pid %d on %s is %s, over the %s limit: not uploaded", pid, h.Name, HumanSize(size), HumanSize(limit))
		return err.Error(), err
	}
	obj, err := transfer(ctx, s, store, h, o, p, path, key, size)
	if err != nil {
		return fmt.Sprintf("heap dump of pid %d on %s (%s) not stored: %v", pid, h.Name, HumanSize(size), short(err)), err
	}
	o.Objects = append(o.Objects, obj)
	return fmt.Sprintf("heap dump of pid %d on %s: %s stored, sha256 %s…", pid, h.Name, sizeWords(obj), obj.SourceSHA256[:12]), nil
}

// jcmdDump asks the JVM to write its heap to path. jcmd reports some failures (file exists,
// no such process) on stdout with exit status 0, so success is read from its output.
func jcmdDump(ctx context.Context, s Streamer, h *inventory.Host, o *Outcome, p HeapDumpParams, pid int, path string) error {
	cmd := p.as("jcmd " + strconv.Itoa(pid) + " GC.heap_dump " + Quote(path))
	res, err := run(ctx, s, h, o, cmd, orDefault(p.Timeout, 5*time.Minute))
	if err != nil {
		return err // transport failures and attach errors are worth another try
	}
	if out := string(res.Stdout); !strings.Contains(out, "Heap dump file created") {
		if strings.Contains(out, "File exists") {
			return errPathTaken
		}
		return permanent("jcmd", fmt.Errorf("no dump written: %s", lastLine(res)))
	}
	return nil
}

// remoteSize is the dump's size from stat on the host.
func remoteSize(ctx context.Context, s Streamer, h *inventory.Host, o *Outcome, p HeapDumpParams, path string) (int64, error) {
	res, err := run(ctx, s, h, o, p.as("stat -c %s -- "+Quote(path)), defaultCommandTimeout)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(res.Stdout)), 10, 64)
	if err != nil {
		return 0, permanent("stat", fmt.Errorf("unreadable size %q", res.Stdout))
	}
	return n, nil
}

// removeRemote deletes the dump on the host, even when ctx has ended (the run being cancelled
// is no reason to leave a heap dump behind). It reports whether the file is gone.
func removeRemote(ctx context.Context, s Streamer, h *inventory.Host, o *Outcome, p HeapDumpParams, path string) bool {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), defaultCommandTimeout)
	defer cancel()
	if _, err := run(ctx, s, h, o, p.as("rm -f -- "+Quote(path)), defaultCommandTimeout); err != nil {
		o.note("remote file %s NOT deleted: %v", path, err)
		return false
	}
	o.note("remote file deleted")
	return true
}

func sizeWords(obj Object) string {
	if obj.Size != obj.SourceSize {
		return fmt.Sprintf("%s (gzip %s)", HumanSize(obj.SourceSize), HumanSize(obj.Size))
	}
	return HumanSize(obj.Size)
}

func orSize(n, def int64) int64 {
	if n > 0 {
		return n
	}
	return def
}
