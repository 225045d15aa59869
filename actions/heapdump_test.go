package actions_test

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/alaya-sre/alaya/actions"
	"github.com/alaya-sre/alaya/evidence"
	"github.com/alaya-sre/alaya/executor"
	"github.com/alaya-sre/alaya/internal/testenv/jvm"
)

func newFS(t *testing.T) *evidence.FS {
	fs, err := evidence.NewFS(t.TempDir(), "http://127.0.0.1:1", []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// stored reads an object back, gunzipping it when asked.
func stored(t *testing.T, fs *evidence.FS, key string, gz bool) []byte {
	rc, err := fs.Get(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var r io.Reader = rc
	if gz {
		zr, err := gzip.NewReader(rc)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func dumpPath(run string, pid int) string {
	return fmt.Sprintf("/tmp/alaya-heap-%s-%d.hprof", run, pid)
}

func TestHeapDumpLocal(t *testing.T) {
	j := jvm.Start(t, jvm.Options{User: "nobody"})
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprintf("compress=%v", compress), func(t *testing.T) {
			fs := newFS(t)
			run := fmt.Sprintf("run%v", compress)
			p := actions.HeapDumpParams{Pattern: j.Marker, Run: run, Compress: compress}
			key := "incidents/I1/" + run + "/dump/app-3/heap.hprof"
			o, err := actions.HeapDump(t.Context(), executor.NewLocal(), fs, localHost("app-3"), key, p)
			if err != nil || !o.OK || len(o.Objects) != 1 {
				t.Fatalf("heap dump: %v\n%+v", err, o)
			}
			obj := o.Objects[0]
			data := stored(t, fs, obj.Key, compress)
			if !bytes.HasPrefix(data, []byte("JAVA PROFILE 1.0.2")) {
				t.Fatalf("stored object is not a heap dump: %q", data[:20])
			}
			if sha(data) != obj.SourceSHA256 || int64(len(data)) != obj.SourceSize {
				t.Fatalf("stored content sha %s/%d, outcome says %s/%d", sha(data), len(data), obj.SourceSHA256, obj.SourceSize)
			}
			if compress != strings.HasSuffix(obj.Key, ".gz") || compress == (obj.SHA256 == obj.SourceSHA256) {
				t.Fatalf("object %+v", obj)
			}
			if _, err := os.Stat(dumpPath(run, j.PID)); !os.IsNotExist(err) {
				t.Fatalf("remote dump not deleted: %v", err)
			}
			t.Logf("%s\n%s\n%q", o.Summary, o.Detail, o.Commands)
		})
	}
}

func TestHeapDumpSizeLimit(t *testing.T) {
	j := jvm.Start(t, jvm.Options{User: "nobody"})
	fs := newFS(t)
	p := actions.HeapDumpParams{Pattern: j.Marker, Run: "limit", MaxSize: 4 << 10}
	o, err := actions.HeapDump(t.Context(), executor.NewLocal(), fs, localHost("app-3"), "incidents/I1/limit/heap.hprof", p)
	if !errors.Is(err, actions.ErrRefused) || o.OK || len(o.Objects) != 0 {
		t.Fatalf("want refusal, got %v %+v", err, o)
	}
	if !strings.Contains(o.Summary, "over the 4.0 KiB limit: not uploaded") {
		t.Fatalf("summary %q", o.Summary)
	}
	if _, err := fs.Get(t.Context(), "incidents/I1/limit/heap.hprof"); !errors.Is(err, evidence.ErrNotFound) {
		t.Fatalf("object exists after refusal: %v", err)
	}
	if _, err := os.Stat(dumpPath("limit", j.PID)); !os.IsNotExist(err) {
		t.Fatalf("remote dump not deleted after refusal: %v", err)
	}
}

func TestHeapDumpFindsExactlyOneJVM(t *testing.T) {
	a := jvm.Start(t, jvm.Options{})
	b := jvm.Start(t, jvm.Options{})
	fs := newFS(t)
	canary := t.TempDir() + "/pwned"
	tests := []struct {
		name    string
		pattern string
		want    error
		text    string
	}{
		{"none", "alaya-no-such-process-x9", actions.ErrNotFound, "no process on app-3 matches"},
		{"two", "AlayaHeapTarget " + jvm.MarkerPrefix(), actions.ErrRefused, fmt.Sprintf("need exactly one: %d java", a.PID)},
		{"injection is data", "x'; touch " + canary + "; echo '", actions.ErrNotFound, "no process"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := actions.HeapDumpParams{Pattern: tt.pattern, Run: "find"}
			o, err := actions.HeapDump(t.Context(), executor.NewLocal(), fs, localHost("app-3"), "k/heap", p)
			if !errors.Is(err, tt.want) || !strings.Contains(o.Summary+err.Error(), tt.text) {
				t.Fatalf("got %v / %q, want %v containing %q", err, o.Summary, tt.want, tt.text)
			}
		})
	}
	if _, err := os.Stat(canary); err == nil {
		t.Fatal("pattern was executed as code")
	}
	_ = b
}
