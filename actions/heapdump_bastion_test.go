package actions_test

import (
	"bytes"
	"io"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/alaya-sre/alaya/actions"
	"github.com/alaya-sre/alaya/evidence"
	"github.com/alaya-sre/alaya/executor"
	"github.com/alaya-sre/alaya/internal/testenv/jvm"
	"github.com/alaya-sre/alaya/internal/testenv/s3server"
	"github.com/alaya-sre/alaya/internal/testenv/sshbed"
	"github.com/alaya-sre/alaya/inventory"
)

// bastionBed is a target behind a bastion, an SSH executor and an S3 evidence store.
type bastionBed struct {
	bed    *sshbed.Bed
	ex     *executor.SSH
	host   *inventory.Host
	s3     *s3server.Server
	store  *evidence.S3
	bucket string
}

func startBastionBed(tb testing.TB) *bastionBed {
	tb.Helper()
	bb := &bastionBed{bed: sshbed.Start(tb)}
	inv := bb.bed.Inventory(tb)
	bb.ex = executor.NewSSH(inv, nil)
	tb.Cleanup(func() { bb.ex.Close() })
	var err error
	if bb.host, err = inv.Lookup(bb.bed.Target().Name); err != nil {
		tb.Fatal(err)
	}
	bb.s3 = s3server.Start(tb)
	if bb.store, err = evidence.NewS3(tb.Context(), bb.s3.Config(), nil); err != nil {
		tb.Fatal(err)
	}
	return bb
}

// object reads an object straight from the S3 server.
func (bb *bastionBed) object(tb testing.TB, key string) []byte {
	tb.Helper()
	out, err := bb.s3.Client().GetObject(tb.Context(), &s3.GetObjectInput{Bucket: aws.String(bb.s3.Bucket), Key: aws.String(key)})
	if err != nil {
		tb.Fatalf("get %s: %v", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// The JVM runs on the target (its network namespace, as the target's login user); the dump
// streams through the bastion into the real S3 server.
func TestHeapDumpThroughBastionIntoS3(t *testing.T) {
	bb := startBastionBed(t)
	j := jvm.Start(t, jvm.Options{User: sshbed.TargetUser, Netns: bb.bed.Target().Namespace})
	key := "incidents/I9/run-b/heap_dump/target-1/heap.hprof"
	p := actions.HeapDumpParams{Pattern: j.Marker, Run: "run-b"}
	o, err := actions.HeapDump(t.Context(), bb.ex, bb.store, bb.host, key, p)
	if err != nil || !o.OK || len(o.Objects) != 1 {
		t.Fatalf("heap dump: %v\n%+v", err, o)
	}
	data := bb.object(t, key)
	if !bytes.HasPrefix(data, []byte("JAVA PROFILE 1.0.2")) {
		t.Fatalf("not a heap dump: %q", data[:20])
	}
	if obj := o.Objects[0]; sha(data) != obj.SHA256 || int64(len(data)) != obj.Size || obj.SHA256 != obj.SourceSHA256 {
		t.Fatalf("S3 object sha %s size %d, outcome %+v", sha(data), len(data), obj)
	}
	if _, err := os.Stat(dumpPath("run-b", j.PID)); !os.IsNotExist(err) {
		t.Fatalf("dump left on the target: %v", err)
	}
	t.Logf("%s\n%s", o.Summary, o.Detail)
}
