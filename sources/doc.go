// Package sources turns any alerting tool that can POST JSON into an incident source, without
// code: a source is one YAML file naming how the tool authenticates (an HMAC signature of the
// body, a bearer token, or a token in the URL for tools that can only call a URL) and how its
// JSON becomes Alaya's incident model, as expr expressions over the body.
//
// The mapping is held to the standard of runbook rules, because a mistake in it has the same
// cost at 3 a.m.: every expression is compiled once at load (with the runbooks' compiler, so
// the wording and the file:line:col positions are the same), a result of the wrong type is a
// load error, and a body the mapping cannot turn into an incident is refused with the
// expression that failed, so the tool's delivery log says why.
//
// Secrets come from the environment or from files, never from the source file itself, are at
// least 16 bytes, may be several (rotation) and are compared in constant time. Incidents made
// here do not exist in PagerDuty; their ids start with IncidentPrefix so the worker keeps
// their notes locally instead of calling PagerDuty's API for them.
package sources
