package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad loads arbitrary bytes as the config file through Load, as the daemons do (strict
// YAML, defaults, validation). It must never panic, and a config it accepts is complete: the
// defaults that everything downstream divides by or dials are filled in. Seeds:
// testdata/fuzz/FuzzLoad (the good and bad fixtures).
func FuzzLoad(f *testing.F) {
	dir := f.TempDir()
	path := filepath.Join(dir, "config.yaml")
	noEnv := func(string) string { return "" }
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(path, noEnv)
		if err != nil {
			return
		}
		if c.NATS.Duplicates <= 0 || c.Receiver.PublishTimeout <= 0 || c.Worker.Concurrency <= 0 || c.Receiver.Listen == "" {
			t.Fatalf("accepted config without its defaults: %+v", c)
		}
	})
}
