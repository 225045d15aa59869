package sources

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/alaya-sre/alaya/incident"
)

// WriteEvent prints what a body became, for `alaya plan --source` and the goldens of `alaya
// test`: every field the mapping produced, in a stable order, so a changed mapping shows up
// as a changed line.
func WriteEvent(w io.Writer, ev *incident.Event) {
	inc := &ev.Incident
	fmt.Fprintf(w, "source %s: event %s %s\n", ev.Source, ev.Type, ev.ID)
	fmt.Fprintf(w, "  incident %s status %s urgency %s\n", inc.ID, inc.Status, inc.Urgency)
	fmt.Fprintf(w, "  title %q\n", inc.Title)
	fmt.Fprintf(w, "  service %q\n", inc.Service.Summary)
	if !ev.OccurredAt.IsZero() {
		fmt.Fprintf(w, "  occurred_at %s\n", ev.OccurredAt.UTC().Format(time.RFC3339Nano))
	}
	if inc.HTMLURL != "" {
		fmt.Fprintf(w, "  url %s\n", inc.HTMLURL)
	}
	for _, k := range slices.Sorted(maps.Keys(inc.Labels)) {
		fmt.Fprintf(w, "  label %s=%q\n", k, inc.Labels[k])
	}
	for _, a := range inc.Alerts {
		fmt.Fprintf(w, "  alert %s severity %q key %q\n", a.ID, a.Severity, a.Key)
		for _, k := range slices.Sorted(maps.Keys(a.Details)) {
			fmt.Fprintf(w, "    %s: %s\n", k, jsonText(a.Details[k]))
		}
	}
}

// jsonText is v as compact JSON with map keys sorted and <, >, & left as they are.
func jsonText(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprintf("%v", v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}
