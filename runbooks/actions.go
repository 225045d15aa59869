package runbooks

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The action kinds are validated here and executed by the actions package. Their parameters
// are templates rendered per host into Step.Action; the parameter names are the contract with
// the executing side and are listed in docs/RUNBOOKS.md.

func (l *loader) restart(path string, r *restartYAML) []actionParam {
	if r == nil || strings.TrimSpace(r.Service) == "" {
		l.errs.Add(l.doc.Pos(path), "restart: missing service (the unit to restart)")
		return nil
	}
	out := []actionParam{l.param(path, "service", r.Service, false)}
	if r.HealthCheck != "" {
		out = append(out, l.param(path, "health_check", r.HealthCheck, true))
	}
	if r.Command != "" {
		out = append(out, l.param(path, "command", r.Command, true))
	}
	if r.Verify != "" {
		out = append(out, l.param(path, "verify_command", r.Verify, true))
	}
	return out
}

func (l *loader) lb(path string, lb *lbYAML, detach bool) []actionParam {
	if lb == nil {
		l.errs.Add(l.doc.Pos(path), "missing provider: expected haproxy or elbv2")
		return nil
	}
	out := []actionParam{{key: "provider", value: lb.Provider}}
	switch lb.Provider {
	case "haproxy":
		out = append(out, l.haproxy(path, lb)...)
	case "elbv2":
		out = append(out, l.elbv2(path, lb)...)
	default:
		l.errs.Add(l.doc.Pos(path+".provider"), "provider %q: expected haproxy or elbv2", lb.Provider)
		return nil
	}
	minHealthy := 1 // never empty a backend unless the author says so
	if lb.MinHealthy != nil {
		minHealthy = *lb.MinHealthy
		if minHealthy < 0 || !detach {
			l.errs.Add(l.doc.Pos(path+".min_healthy"), "min_healthy: only for lb_detach, at least 0")
		}
	}
	if detach {
		out = append(out, actionParam{key: "min_healthy", value: strconv.Itoa(minHealthy)})
	}
	wait := lb.Wait
	if wait <= 0 {
		wait = defaultLBWait
	}
	return append(out, actionParam{key: "wait", value: wait.String()})
}

const defaultLBWait = 2 * time.Minute

func (l *loader) haproxy(path string, lb *lbYAML) []actionParam {
	if lb.LBHost == "" || lb.Backend == "" {
		l.errs.Add(l.doc.Pos(path), "haproxy: expected lb_host (inventory host running HAProxy) and backend")
	}
	if lb.TargetGroupARN != "" || lb.TargetID != "" {
		l.errs.Add(l.doc.Pos(path), "haproxy: target_group_arn and target_id are for elbv2")
	}
	if l.inv != nil && lb.LBHost != "" && !strings.Contains(lb.LBHost, "{{") {
		if _, err := l.inv.Lookup(lb.LBHost); err != nil {
			l.errs.Add(l.doc.Pos(path+".lb_host"), "lb_host %q is not a host of the inventory %s", lb.LBHost, l.inv.File)
		}
	}
	return []actionParam{
		l.param(path, "lb_host", lb.LBHost, false),
		l.param(path, "socket", or(lb.Socket, "/run/haproxy/admin.sock"), false),
		l.param(path, "backend", lb.Backend, false),
		l.param(path, "server", or(lb.Server, "{{ host.name }}"), false),
	}
}

func (l *loader) elbv2(path string, lb *lbYAML) []actionParam {
	if lb.TargetGroupARN == "" {
		l.errs.Add(l.doc.Pos(path), "elbv2: expected target_group_arn")
	}
	if lb.LBHost != "" || lb.Backend != "" || lb.Server != "" || lb.Socket != "" {
		l.errs.Add(l.doc.Pos(path), "elbv2: lb_host, socket, backend and server are for haproxy")
	}
	out := []actionParam{
		l.param(path, "target_group_arn", lb.TargetGroupARN, false),
		l.param(path, "target_id", or(lb.TargetID, "{{ host.address }}"), false),
	}
	if lb.Port != 0 {
		out = append(out, actionParam{key: "port", value: strconv.Itoa(lb.Port)})
	}
	return out
}

var sizeRe = regexp.MustCompile(`^([0-9]+)\s*(B|KiB|MiB|GiB|TiB)?$`)

func (l *loader) heapDump(path string, h *heapDumpYAML) []actionParam {
	if h == nil || strings.TrimSpace(h.Process) == "" {
		l.errs.Add(l.doc.Pos(path), "heap_dump: missing process (a pgrep -f pattern finding the JVM)")
		return nil
	}
	dumpPath := or(h.Path, "/var/tmp/alaya-{{ incident.id }}-{{ host.name }}.hprof")
	if !strings.HasPrefix(dumpPath, "/") {
		l.errs.Add(l.doc.Pos(path+".path"), "path %q: expected an absolute path", dumpPath)
	}
	maxSize := or(h.MaxSize, "16GiB")
	size, ok := parseSize(maxSize)
	if !ok {
		l.errs.Add(l.doc.Pos(path+".max_size"), "max_size %q: expected a size such as 512MiB or 8GiB", maxSize)
	}
	return []actionParam{
		l.param(path, "process", h.Process, false),
		l.param(path, "path", dumpPath, false),
		{key: "compress", value: strconv.FormatBool(h.Compress)},
		{key: "max_size", value: strconv.FormatInt(size, 10)},
	}
}

// parseSize reads sizes in binary units, the ones heap sizes are given in.
func parseSize(s string) (int64, bool) {
	sm := sizeRe.FindStringSubmatch(strings.TrimSpace(s))
	if sm == nil {
		return 0, false
	}
	n, err := strconv.ParseInt(sm[1], 10, 64)
	if err != nil {
		return 0, false
	}
	shift := map[string]uint{"": 0, "B": 0, "KiB": 10, "MiB": 20, "GiB": 30, "TiB": 40}[sm[2]]
	if n > (1<<62)>>shift {
		return 0, false
	}
	return n << shift, true
}

// param compiles one templated action parameter. The position of an error inside a default
// (written by Alaya, not the author) falls back to the action's block.
func (l *loader) param(path, key, src string, shell bool) actionParam {
	p := actionParam{key: key, shell: shell}
	if src == "" {
		return p
	}
	t, err := compileTemplate(src, TemplateEnv{}, l.rb.Params)
	if err != nil {
		l.exprErr(path+"."+key, err)
		return p
	}
	if shell && !l.shellTemplate(path+"."+key, t) {
		return p
	}
	p.tmpl = t
	return p
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// checkValue refuses rendered parameter values that no action should receive: control
// characters would let incident data smuggle a second line into a protocol (HAProxy's runtime
// API is line based) or a path.
func checkValue(key, v string) error {
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%s: value %q contains a control character", key, clipName(v))
		}
	}
	return nil
}
