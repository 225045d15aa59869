package pagerduty

import "maps"

// cefFields are the PEP-CEF fields of an Events API v2 alert that Alaya copies into Details,
// under the names the Events API v2 payload uses for them, because runbook rules and targets
// are naturally written against those names (alert.details.source is usually the host).
var cefFields = map[string]string{
	"source_origin":    "source",
	"source_component": "component",
	"service_group":    "group",
	"event_class":      "class",
}

// alertDetails builds Alert.Details from a PagerDuty alert body.
//
// PagerDuty alerts carry two views of what the monitoring tool sent: body.details (the Events
// API v2 custom_details as sent) and body.cef_details (the normalized PEP-CEF form, which
// repeats them in cef_details.details and adds source, component, group and class). Alaya
// takes body.details, falling back to cef_details.details when it is absent, and adds
// source/component/group/class from cef_details where details has no key of that name: what
// the sender put in custom_details always wins. When details is a string rather than an
// object (email integrations), it is kept under the key "body".
func alertDetails(body map[string]any) map[string]any {
	if body == nil {
		return nil
	}
	cef, _ := body["cef_details"].(map[string]any)
	raw, ok := body["details"]
	if !ok || raw == nil {
		raw = cef["details"]
	}
	out := map[string]any{}
	switch d := raw.(type) {
	case map[string]any:
		maps.Copy(out, d)
	case string:
		out["body"] = d
	}
	for from, to := range cefFields {
		if v, ok := cef[from]; ok && v != nil && v != "" {
			if _, taken := out[to]; !taken {
				out[to] = v
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
