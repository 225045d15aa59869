package testenv

import (
	"bytes"
	"sync"
)

// LogBuffer collects what a logger writes from several goroutines, so a test can read the
// logs (to assert that no secret reached them, say) while the system is still running.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
