package pagerduty

import (
	"reflect"
	"testing"
)

func TestAlertDetails(t *testing.T) {
	tests := []struct {
		name string
		body map[string]any
		want map[string]any
	}{
		{"no body", nil, nil},
		{"custom details", map[string]any{"type": "alert_body", "details": map[string]any{"host": "app-3"}},
			map[string]any{"host": "app-3"}},
		{"cef adds source and friends", map[string]any{
			"details": map[string]any{"host": "app-3"},
			"cef_details": map[string]any{"details": map[string]any{"host": "app-3"}, "source_origin": "app-3.prod",
				"source_component": "jvm", "service_group": "checkout", "event_class": "heap", "severity": "critical"},
		}, map[string]any{"host": "app-3", "source": "app-3.prod", "component": "jvm", "group": "checkout", "class": "heap"}},
		{"custom details win over cef", map[string]any{
			"details":     map[string]any{"source": "from-sender"},
			"cef_details": map[string]any{"source_origin": "from-cef"},
		}, map[string]any{"source": "from-sender"}},
		{"cef details when details absent", map[string]any{
			"cef_details": map[string]any{"details": map[string]any{"host": "db-1"}},
		}, map[string]any{"host": "db-1"}},
		{"string details kept as body", map[string]any{"details": "disk full on db-1"}, map[string]any{"body": "disk full on db-1"}},
		{"empty", map[string]any{"type": "alert_body", "details": nil}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := alertDetails(tt.body); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("alertDetails = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"short", "abc", 5, "abc"},
		{"exact", "abc", 3, "abc"},
		{"cut", "abcdef", 3, "abc"},
		{"multibyte", "héllo", 2, "hé"},
		{"zero", "abc", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Truncate(tt.in, tt.n); got != tt.want {
				t.Errorf("Truncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
		})
	}
}
