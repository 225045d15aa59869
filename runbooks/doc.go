// Package runbooks is the runbook language: YAML files written by SREs, checked completely when
// they are loaded, and turned into plans that say exactly what would run.
//
// The design follows from what a runbook must never do at 3 a.m.:
//
//   - silently not match because of a typo. Every rule, target expression, template and `when`
//     condition is compiled once at load against typed environments describing the incident
//     model, so `incident.titel` is a load error at file:line:col, not a false at run time.
//   - run incident data as code. Command templates are parsed as shell at load; a value may
//     stand only where the shell reads it once, as data, and is passed through a variable
//     assigned in a single-quoted prelude. There is no raw interpolation.
//   - touch a host that is not in the inventory, or too many hosts. Targets resolve only to
//     inventory hosts, and everything else is refused with a reason and reported.
//   - change a system without a person agreeing. A step that changes a system must come after
//     a gate; a gate placed after the steps it should guard is a load error.
//
// Loading gives a Catalog; Catalog.Evaluate explains for every runbook why it matched or not;
// Runbook.Plan resolves targets and renders every command without touching anything, and
// Plan.Hash names that exact plan so an approval binds to what the responder saw.
package runbooks
