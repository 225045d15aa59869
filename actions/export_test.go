package actions

import (
	"context"

	"github.com/alaya-sre/alaya/inventory"
)

// Transfer is the streaming half of HeapDump (stream, hash on both sides, verify) without a
// JVM, so the benchmark can move a file of a chosen size.
func Transfer(ctx context.Context, s Streamer, store ObjectStore, h *inventory.Host, path, key string, size int64) (Object, error) {
	var o Outcome
	return transfer(ctx, s, store, h, &o, HeapDumpParams{}, path, key, size)
}
