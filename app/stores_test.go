package app

import (
	"bytes"
	"sync"
	"testing"

	"github.com/alaya-sre/alaya/config"
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
