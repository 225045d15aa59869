package pagerduty

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestOnePassDecodeAgreesWithPerTypeDecode checks the fast path against the careful one on
// every webhook sample there is, so the optimisation cannot change what Alaya sees.
func TestOnePassDecodeAgreesWithPerTypeDecode(t *testing.T) {
	var files []string
	for _, pattern := range []string{"testdata/webhooks/*.json", "testdata/v3/*.json"} {
		m, _ := filepath.Glob(pattern)
		files = append(files, m...)
	}
	if len(files) < 10 {
		t.Fatalf("only %d samples found", len(files))
	}
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		fast, ferr := DecodeWebhook(body)
		slow, serr := decodeWebhookByType(body)
		if (ferr == nil) != (serr == nil) || !reflect.DeepEqual(fast, slow) {
			t.Errorf("%s: one pass gave %+v, %v; per type gave %+v, %v", f, fast, ferr, slow, serr)
		}
	}
}

func BenchmarkDecodeWebhook(b *testing.B) {
	body, err := os.ReadFile("../app/testdata/incident.triggered.json")
	if err != nil {
		b.Skip(err)
	}
	b.Run("one_pass", func(b *testing.B) {
		for b.Loop() {
			DecodeWebhook(body)
		}
	})
	b.Run("per_type", func(b *testing.B) {
		for b.Loop() {
			decodeWebhookByType(body)
		}
	})
}
