package elbv2standin

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

const (
	apiVersion = "2015-12-01"
	xmlns      = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"
	requestID  = "00000000-0000-4000-8000-000000000000"
)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		writeError(w, http.StatusBadRequest, "InvalidAction", "expected a form-encoded POST")
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		writeError(w, http.StatusForbidden, "MissingAuthenticationToken", "request is not signed")
		return
	}
	if v := r.PostForm.Get("Version"); v != apiVersion {
		writeError(w, http.StatusBadRequest, "InvalidAction", "unsupported Version "+v)
		return
	}
	action := r.PostForm.Get("Action")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, action)
	g, ok := s.groups[r.PostForm.Get("TargetGroupArn")]
	if !ok {
		writeError(w, http.StatusBadRequest, "TargetGroupNotFound", "One or more target groups not found")
		return
	}
	targets, err := formTargets(r, g)
	if err != nil {
		writeError(w, http.StatusBadRequest, "ValidationError", err.Error())
		return
	}
	switch action {
	case "RegisterTargets":
		for _, t := range targets {
			s.register(g, t.id, t.port)
		}
		writeResult(w, action, "")
	case "DeregisterTargets":
		for _, t := range targets {
			s.deregister(g, t.id, t.port)
		}
		writeResult(w, action, "")
	case "DescribeTargetHealth":
		writeResult(w, action, s.describe(g, targets))
	default:
		writeError(w, http.StatusBadRequest, "InvalidAction", "unsupported Action "+action)
	}
}

// formTargets reads Targets.member.N.Id/Port. A missing port means the group's port, taken
// from any existing member (all members of a test group share one port).
func formTargets(r *http.Request, g map[string]*target) ([]target, error) {
	var def int32
	for _, t := range g {
		def = t.port
	}
	var out []target
	for i := 1; ; i++ {
		id := r.PostForm.Get(fmt.Sprintf("Targets.member.%d.Id", i))
		if id == "" {
			return out, nil
		}
		port := def
		if p := r.PostForm.Get(fmt.Sprintf("Targets.member.%d.Port", i)); p != "" {
			n, err := strconv.Atoi(p)
			if err != nil || n < 1 || n > 65535 {
				return nil, fmt.Errorf("invalid port %q", p)
			}
			port = int32(n)
		}
		out = append(out, target{id: id, port: port})
	}
}

// describe renders TargetHealthDescriptions: all registered targets, or the asked ones
// (unknown ones as "unused", as AWS does).
func (s *Server) describe(g map[string]*target, asked []target) string {
	for k, t := range g {
		if !s.settle(t) {
			delete(g, k)
		}
	}
	var b strings.Builder
	b.WriteString("<TargetHealthDescriptions>")
	if len(asked) == 0 {
		keys := make([]string, 0, len(g))
		for k := range g {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			writeTarget(&b, g[k].id, g[k].port, g[k].state)
		}
	}
	for _, a := range asked {
		state := "unused"
		if t, ok := g[a.key()]; ok {
			state = t.state
		}
		writeTarget(&b, a.id, a.port, state)
	}
	b.WriteString("</TargetHealthDescriptions>")
	return b.String()
}

func writeTarget(b *strings.Builder, id string, port int32, state string) {
	fmt.Fprintf(b, "<member><Target><Id>%s</Id><Port>%d</Port></Target><HealthCheckPort>%d</HealthCheckPort><TargetHealth><State>%s</State>",
		esc(id), port, port, state)
	if code, desc := reason(state); code != "" {
		fmt.Fprintf(b, "<Reason>%s</Reason><Description>%s</Description>", code, desc)
	}
	b.WriteString("</TargetHealth></member>")
}

func writeResult(w http.ResponseWriter, action, inner string) {
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<%sResponse xmlns="%s"><%sResult>%s</%sResult><ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>`,
		action, xmlns, action, inner, action, requestID, action)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	typ := "Sender"
	if status >= 500 {
		typ = "Receiver"
	}
	fmt.Fprintf(w, `<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
		xmlns, typ, code, esc(msg), requestID)
}

func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
