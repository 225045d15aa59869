package app

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/alaya-sre/alaya/config"
	"github.com/alaya-sre/alaya/evidence"
	"github.com/alaya-sre/alaya/internal/testenv/s3server"
)

// TestLinkKeyIsSharedByProcessesStartingTogether: receiver and worker on one machine create
// the link key at the same moment and must still agree on it.
func TestLinkKeyIsSharedByProcessesStartingTogether(t *testing.T) {
	cfg := &config.Config{Evidence: config.Evidence{Dir: t.TempDir()}}
	keys := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, err := linkKey(cfg)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	for i := range keys {
		if len(keys[i]) < 32 || !bytes.Equal(keys[i], keys[0]) {
			t.Fatalf("process %d got another key", i)
		}
	}
	again, _ := linkKey(cfg)
	if !bytes.Equal(again, keys[0]) {
		t.Error("the key changed on restart")
	}
}

// The worker refuses to start when evidence.object_lock is set and the bucket has no Object
// Lock: its evidence would otherwise be deletable, or refused by S3 on the first incident.
func TestStoreRefusesBucketWithoutObjectLock(t *testing.T) {
	srv := s3server.Start(t)
	locked := srv.NewLockedBucket(t, "locked-evidence")
	for _, tt := range []struct {
		bucket string
		want   error
	}{
		{srv.Bucket, evidence.ErrNoObjectLock},
		{locked, nil},
	} {
		env := map[string]string{
			"ALAYA_EVIDENCE_BUCKET": tt.bucket, "ALAYA_EVIDENCE_ENDPOINT": srv.Endpoint,
			"ALAYA_EVIDENCE_REGION": srv.Region, "ALAYA_EVIDENCE_PATH_STYLE": "true",
			"ALAYA_EVIDENCE_OBJECT_LOCK_MODE": "COMPLIANCE", "ALAYA_EVIDENCE_OBJECT_LOCK_DAYS": "7",
		}
		cfg, err := config.Load("", func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		_, err = newStore(context.Background(), cfg, nil)
		if !errors.Is(err, tt.want) {
			t.Errorf("bucket %s: newStore = %v, want %v", tt.bucket, err, tt.want)
		}
	}
}

// A worker restarted while S3 is down still starts: its runs do their diagnostics and say on
// the incident that evidence is missing. Refusing to start would leave incidents with nothing.
func TestStoreStartsWhenS3DoesNotAnswer(t *testing.T) {
	srv := s3server.Start(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + l.Addr().String()
	l.Close() // nothing answers there now: connection refused
	env := map[string]string{
		"ALAYA_EVIDENCE_BUCKET": srv.Bucket, "ALAYA_EVIDENCE_ENDPOINT": down,
		"ALAYA_EVIDENCE_REGION": srv.Region, "ALAYA_EVIDENCE_PATH_STYLE": "true",
	}
	cfg, err := config.Load("", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	s, err := newStore(context.Background(), cfg, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil || s == nil {
		t.Fatalf("newStore with S3 down = %v, want a store that starts", err)
	}
	if !strings.Contains(logs.String(), "evidence bucket not reachable at start") {
		t.Errorf("no warning logged: %s", logs.String())
	}
}
