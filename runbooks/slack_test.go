package runbooks

import (
	"slices"
	"testing"
)

func TestSlackSection(t *testing.T) {
	src := `name: slack-ok
owner: sre
match: service == "checkout"
targets: {labels: {role: app}}
slack:
  channel: C0PAYMENTS
  mention_groups: [S0123ABCD]
  approvers: {users: [U0123ABCD, W0999ZZZZ], groups: [S0456EFGH]}
steps:
  - name: uptime
    run: uptime
`
	rb, err := Parse("slack-ok.yaml", []byte(src), testInventory(t))
	if err != nil {
		t.Fatal(err)
	}
	s := rb.Slack
	if s.Channel != "C0PAYMENTS" || !slices.Equal(s.MentionGroups, []string{"S0123ABCD"}) ||
		!slices.Equal(s.Approvers.Users, []string{"U0123ABCD", "W0999ZZZZ"}) || !slices.Equal(s.Approvers.Groups, []string{"S0456EFGH"}) {
		t.Errorf("slack = %+v", s)
	}
	if s.Approvers.Empty() {
		t.Error("approvers named but Empty")
	}
}
