package config

import (
	"strings"
	"testing"
)

func TestRoleChecksNameTheKey(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		check func(*Config) error
		want  []string // each must appear; nil means no error
	}{
		{"worker without inventory or runbooks", nil, (*Config).CheckWorker,
			[]string{"config: worker.runbooks: required", "config: worker.inventory: required", "ALAYA_WORKER_INVENTORY"}},
		{"worker with both", map[string]string{"ALAYA_WORKER_RUNBOOKS": "/r", "ALAYA_WORKER_INVENTORY": "/i"}, (*Config).CheckWorker, nil},
		{"receiver without any secret", nil, (*Config).CheckReceiver,
			[]string{"config: receiver.webhook_secrets: required", "ALAYA_RECEIVER_WEBHOOK_SECRETS"}},
		{"receiver with a webhook secret", map[string]string{"ALAYA_RECEIVER_WEBHOOK_SECRETS": "a-webhook-secret-of-32-bytes-xyz"}, (*Config).CheckReceiver, nil},
		{"receiver for declared sources only", map[string]string{"ALAYA_RECEIVER_SOURCES_DIR": "/etc/alaya/sources"}, (*Config).CheckReceiver, nil},
		{"receiver for alertmanager only", map[string]string{"ALAYA_RECEIVER_ALERTMANAGER_TOKEN": "an-alertmanager-token-32-bytes-x"}, (*Config).CheckReceiver, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"ALAYA_EVIDENCE_DIR": "/tmp/e"}
			for k, v := range tt.env {
				env[k] = v
			}
			c, err := Load("", func(k string) string { return env[k] })
			if err != nil {
				t.Fatal(err)
			}
			err = tt.check(c)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}
