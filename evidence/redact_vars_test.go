package evidence

import (
	"strings"
	"testing"
	"testing/iotest"
)

// TestRedactorFollowsVariables: runbook commands pass every value through a quoted prelude
// (__alaya_1='…'; mysql -p"${__alaya_1}"), so the secret a pattern recognises by its place is
// not where the pattern sees it. The value assigned to a variable referred to in a secret's
// place is redacted too.
func TestRedactorFollowsVariables(t *testing.T) {
	r := NewRedactor(nil)
	tests := []struct{ name, in, gone, kept string }{
		{"mysql -p through the prelude", `__alaya_1='hunter22' __alaya_2='db1'; mysql -u app -p"${__alaya_1}" -h "${__alaya_2}" shop`, "hunter22", "db1"},
		{"password flag", `__alaya_1='c0rrect horse'; app --password "${__alaya_1}" --user x`, "c0rrect horse", "--user x"},
		{"bearer inside double quotes", `__alaya_1='tok-'\''abc-123456'; curl -H "Authorization: Bearer ${__alaya_1}" http://x`, "abc-123456", "http://x"},
		{"an author's own variable", "PW=s3cr3tpw; mysql -uroot -p$PW shop", "s3cr3tpw", "shop"},
		{"double-quoted assignment", `TOKEN="zz99\"yy88"; curl -H "Authorization: Bearer $TOKEN"`, `zz99\"yy88`, "curl"},
		{"the last assignment counts", `__alaya_1='target-1' X=1; __alaya_1='pw-9876'; app --password "${__alaya_1}"`, "pw-9876", "target-1"},
		{"unrelated variables kept", `__alaya_1='target-1'; echo "${__alaya_1}" password=[REDACTED]`, "", "__alaya_1='target-1'"},
		{"too far away kept apart", "PW=farawaypw;" + strings.Repeat(" ", maxVarDistance) + "mysql -p$PW", "", "PW=farawaypw"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.String(tt.in)
			if tt.gone != "" && strings.Contains(got, tt.gone) {
				t.Errorf("secret survived: %q", got)
			}
			if !strings.Contains(got, tt.kept) {
				t.Errorf("%q lost: %q", tt.kept, got)
			}
			if s := readString(t, r.Reader(iotest.OneByteReader(strings.NewReader(tt.in)))); s != got {
				t.Errorf("Reader differs from String: %q", s)
			}
		})
	}
}
