package approval_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/alaya-sre/alaya/approval/internal/approvaltest"
)

func newKV(t *testing.T) jetstream.KeyValue { return approvaltest.NewKV(t) }

func newClock() *approvaltest.Clock { return approvaltest.NewClock() }

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
