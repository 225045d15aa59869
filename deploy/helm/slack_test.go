package helm

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// secretEnv returns the Secret each environment variable of c comes from ("name/key").
func secretEnv(c corev1.Container) map[string]string {
	out := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			out[e.Name] = e.ValueFrom.SecretKeyRef.Name + "/" + e.ValueFrom.SecretKeyRef.Key
		}
	}
	return out
}

// TestSlackSecretsPerRole: with Slack's Secrets named, the workers (which post) get the bot
// token and the receivers (which verify presses) the signing secrets, each only its own; the
// config stays free of secret values, and without the names neither role gets either.
func TestSlackSecretsPerRole(t *testing.T) {
	for _, tc := range []struct {
		values               string
		workerEnv, receivEnv map[string]string
	}{
		{"", map[string]string{}, map[string]string{}},
		{"testdata/full.yaml", map[string]string{"ALAYA_SLACK_TOKEN": "alaya-slack/bot-token"},
			map[string]string{"ALAYA_SLACK_SIGNING_SECRETS": "alaya-slack/signing-secrets"}},
	} {
		t.Run(tc.values, func(t *testing.T) {
			args := []string{"template", "rel", chart, "--namespace", "ops"}
			if tc.values != "" {
				args = append(args, "-f", tc.values)
			}
			m := decodeAll(t, helm(t, args...))
			w := secretEnv(m.deployment(t, "rel-alaya-worker").Spec.Template.Spec.Containers[0])
			r := secretEnv(m.deployment(t, "rel-alaya-receiver").Spec.Template.Spec.Containers[0])
			for _, k := range []string{"ALAYA_SLACK_TOKEN", "ALAYA_SLACK_SIGNING_SECRETS"} {
				if w[k] != tc.workerEnv[k] || r[k] != tc.receivEnv[k] {
					t.Errorf("%s: worker %q, receiver %q; want %q, %q", k, w[k], r[k], tc.workerEnv[k], tc.receivEnv[k])
				}
			}
		})
	}
}
