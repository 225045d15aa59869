package sources

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alaya-sre/alaya/internal/yamlfile"
)

const okMapping = `mapping:
  id: body.id
  dedup_key: body.id
  title: body.title
  status: '"triggered"'
`

// TestLoadErrors: every problem of a source file is reported at its line and column, with
// the runbooks' wording for expressions.
func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name, file string
		want       []string
	}{
		{"misspelt name in an expression", "name: x\nauth:\n  bearer: {secret_env: T}\nmapping:\n  id: bodyy.id\n  dedup_key: body.id\n  title: body.t\n  status: '\"resolved\"'\n",
			[]string{`s.yaml:5:7: unknown name "bodyy"`}},
		{"a title that is a number", "name: x\nauth:\n  bearer: {secret_env: T}\nmapping:\n  id: body.id\n  dedup_key: body.id\n  title: len(body)\n  status: '\"resolved\"'\n",
			[]string{`s.yaml:7:10: expected a string, but the expression gives a number`}},
		{"ignore that is not a condition", "name: x\nauth:\n  bearer: {secret_env: T}\n" + okMapping + "  ignore: '\"no\"'\n",
			[]string{`s.yaml:9:12: expected true or false, but the expression gives a string`}},
		{"labels that are a list", "name: x\nauth:\n  bearer: {secret_env: T}\n" + okMapping + "  labels: '[1]'\n",
			[]string{`s.yaml:9:12: expected a map such as {"key": value}, but the expression gives a list`}},
		{"an error inside a block scalar", "name: x\nauth:\n  bearer: {secret_env: T}\n" + okMapping + "  details: |\n    {\"a\": 1,\n     \"b\": body.x +}\n",
			[]string{`s.yaml:11:`}},
		{"missing fields", "name: x\nauth:\n  bearer: {secret_env: T}\nmapping:\n  id: body.id\n",
			[]string{`s.yaml:5:3: missing mapping.dedup_key`, `s.yaml:5:3: missing mapping.title`, `s.yaml:5:3: missing mapping.status`}},
		{"unknown key", "name: x\nauth:\n  bearer: {secret_env: T}\n" + okMapping + "  hots: body.h\n",
			[]string{`s.yaml:9:3: unknown key "hots"`}},
		{"two ways to authenticate", "name: x\nauth:\n  bearer: {secret_env: T}\n  path_token: {secret_env: T}\n" + okMapping,
			[]string{`s.yaml:3:3: auth: set exactly one of hmac, bearer and path_token (found 2)`}},
		{"no secret source", "name: x\nauth:\n  bearer: {}\n" + okMapping,
			[]string{`s.yaml:3:11: auth.bearer: missing secret_env or secret_file`}},
		{"bad hmac settings", "name: x\nauth:\n  hmac: {hash: md5, encoding: hexx, secret_env: T}\n" + okMapping,
			[]string{`auth.hmac: missing header`, `auth.hmac.hash: "md5"`, `auth.hmac.encoding: "hexx"`}},
		{"negative max_age", "name: x\nauth:\n  hmac: {header: X-Sig, timestamp_header: X-Ts, max_age: -1m, secret_env: T}\n" + okMapping,
			[]string{`auth.hmac.max_age: must be positive`}},
		{"alert without alerts", "name: x\nauth:\n  bearer: {secret_env: T}\n" + okMapping + "  alert:\n    id: alert.id\n",
			[]string{`s.yaml:10:5: mapping.alert needs mapping.alerts`}},
		{"alerts without an alert id, and an alert field over body only", "name: x\nauth:\n  bearer: {secret_env: T}\n" + okMapping + "  alerts: body.items\n  alert:\n    host: alertt.h\n",
			[]string{`s.yaml:9:11: missing mapping.alert.id`, `s.yaml:11:11: unknown name "alertt"`}},
		{"alerts that are not a list", "name: x\nauth:\n  bearer: {secret_env: T}\n" + okMapping + "  alerts: '\"x\"'\n  alert: {id: alert.id}\n",
			[]string{`s.yaml:9:12: expected a list, but the expression gives a string`}},
		{"reserved name", "name: pagerduty\nauth:\n  bearer: {secret_env: T}\n" + okMapping,
			[]string{`s.yaml:1:7: name "pagerduty" is reserved`}},
		{"bad name", "name: My Source\nauth:\n  bearer: {secret_env: T}\n" + okMapping,
			[]string{`s.yaml:1:7: name "My Source": expected lower case letters`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("s.yaml", []byte(c.file), Options{})
			if err == nil {
				t.Fatal("loaded")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
			for _, e := range yamlfile.Split(err) {
				var ye *yamlfile.Error
				if !errors.As(e, &ye) || ye.Pos.Line == 0 {
					t.Errorf("unpositioned error %v", e)
				}
			}
		})
	}
}

// TestSecrets: secrets are read only when asked, from the environment or a file, and a short
// or missing one fails the load without printing it.
func TestSecrets(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ok.secret"), []byte("# current\nfile-secret-0123456789\n\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "short.secret"), []byte("short\n"), 0o600)
	env := map[string]string{"GOOD": "env-secret-0123456789,env-secret-rotating-in", "SHORT": "tiny"}
	getenv := func(k string) string { return env[k] }
	src := func(where string) string {
		return "name: x\nauth:\n  bearer: {" + where + "}\n" + okMapping
	}
	cases := []struct {
		name, where string
		n           int
		err         string
	}{
		{"two secrets from the environment", "secret_env: GOOD", 2, ""},
		{"a file relative to the source", "secret_file: ok.secret", 1, ""},
		{"an unset variable", "secret_env: NOPE", 0, "environment variable NOPE is empty or not set"},
		{"a short secret", "secret_env: SHORT", 0, "at least 16 are needed"},
		{"a short secret in a file", "secret_file: short.secret", 0, "at least 16 are needed"},
		{"a missing file", "secret_file: nope.secret", 0, "no such file"},
		{"both", "secret_env: GOOD, secret_file: ok.secret", 0, "not both"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := Parse(filepath.Join(dir, "s.yaml"), []byte(src(c.where)), Options{Getenv: getenv, Secrets: true})
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				if strings.Contains(err.Error(), "tiny") || strings.Contains(err.Error(), "short\n") {
					t.Errorf("the error shows the secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Auth.secrets) != c.n {
				t.Errorf("%d secrets, want %d", len(s.Auth.secrets), c.n)
			}
		})
	}
	t.Run("not read for lint", func(t *testing.T) {
		s, err := Parse("s.yaml", []byte(src("secret_env: NOPE")), Options{Getenv: getenv})
		if err != nil || s.Auth != nil {
			t.Fatalf("without Secrets the load should neither read nor need them: %v", err)
		}
	})
}

// TestDuplicateNames: two files declaring one name cannot both be served at one path.
func TestDuplicateNames(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"a.yaml", "b.yaml"} {
		os.WriteFile(filepath.Join(dir, f), []byte("name: same\nauth:\n  bearer: {secret_env: T}\n"+okMapping), 0o600)
	}
	_, err := LoadDir(dir, Options{})
	if err == nil || !strings.Contains(err.Error(), `b.yaml:1:1: duplicate source name "same" (also in `) {
		t.Fatalf("error %v", err)
	}
}
