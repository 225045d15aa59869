package runbooks

import (
	"fmt"
	"net"
	"strings"

	"github.com/expr-lang/expr"
)

// functions are the helpers SREs get on top of expr's builtins. Each is declared with its Go
// signature so calls are type-checked at load like everything else.
var functions = []expr.Option{
	expr.Function("hosts_from_alerts", hostsFromAlerts, new(func([]*AlertEnv, string) []string)),
	expr.Function("short_host", shortHost, new(func(string) string)),
	expr.Function("detail", detail, new(func([]*AlertEnv, string) string)),
}

// hostsFromAlerts collects the string values of one detail key across alerts, in alert order,
// without duplicates: the usual way to name targets (`hosts_from_alerts(alerts, "host")`).
// A dotted key ("labels.instance") walks nested maps, as Alertmanager details nest labels.
func hostsFromAlerts(params ...any) (any, error) {
	alerts, key := params[0].([]*AlertEnv), params[1].(string)
	out := []string{}
	seen := map[string]bool{}
	for _, a := range alerts {
		s, ok := lookupDetail(a.Details, key)
		if !ok || s == "" || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out, nil
}

// detail returns the first non-empty string value of a detail key across alerts, or "".
func detail(params ...any) (any, error) {
	alerts, key := params[0].([]*AlertEnv), params[1].(string)
	for _, a := range alerts {
		if s, ok := lookupDetail(a.Details, key); ok && s != "" {
			return s, nil
		}
	}
	return "", nil
}

func lookupDetail(details map[string]any, key string) (string, bool) {
	if v, ok := details[key]; ok {
		return scalarString(v)
	}
	head, rest, found := strings.Cut(key, ".")
	if !found {
		return "", false
	}
	nested, ok := details[head].(map[string]any)
	if !ok {
		return "", false
	}
	return lookupDetail(nested, rest)
}

func scalarString(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case float64, int, int64, bool:
		return fmt.Sprint(v), true
	}
	return "", false
}

// shortHost drops the domain (IP addresses stay whole): alerts often carry FQDNs where the inventory uses short names.
func shortHost(params ...any) (any, error) {
	s := params[0].(string)
	if net.ParseIP(s) != nil {
		return s, nil
	}
	if short, _, ok := strings.Cut(s, "."); ok && short != "" {
		return short, nil
	}
	return s, nil
}
