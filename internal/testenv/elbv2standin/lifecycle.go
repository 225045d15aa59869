package elbv2standin

import (
	"strconv"
	"time"
)

func (t *target) key() string { return t.id + ":" + strconv.Itoa(int(t.port)) }

// settle moves t along its life cycle up to now. It reports false when the target is gone.
func (s *Server) settle(t *target) bool {
	age := time.Since(t.since)
	switch {
	case t.state == "initial" && age >= s.HealthyDelay:
		t.state, t.since = "healthy", t.since.Add(s.HealthyDelay)
	case t.state == "draining" && age >= s.DrainDelay:
		return false
	}
	return true
}

// reason is the TargetHealth reason AWS gives for a state.
func reason(state string) (code, description string) {
	switch state {
	case "initial":
		return "Elb.RegistrationInProgress", "Target registration is in progress"
	case "draining":
		return "Target.DeregistrationInProgress", "Target deregistration is in progress"
	case "unhealthy":
		return "Target.FailedHealthChecks", "Health checks failed"
	case "unused":
		return "Target.NotRegistered", "Target is not registered to the target group"
	}
	return "", ""
}

// register adds or revives a target as "initial".
func (s *Server) register(g map[string]*target, id string, port int32) {
	t := &target{id: id, port: port, state: "initial", since: time.Now()}
	if old, ok := g[t.key()]; ok && old.state != "draining" {
		return // registering a registered target is a no-op in AWS
	}
	g[t.key()] = t
}

// deregister starts draining a target; unknown targets are ignored, as AWS does.
func (s *Server) deregister(g map[string]*target, id string, port int32) {
	t, ok := g[(&target{id: id, port: port}).key()]
	if !ok || t.state == "draining" {
		return
	}
	t.state, t.since = "draining", time.Now()
}
