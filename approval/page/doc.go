// Package page serves the approval page linked from Alaya's plan notes, under /approvals/.
//
// The page exists because a plan is easier to judge on a screen than in a note: it shows the
// rendered plan, targets, runbook version, plan hash, time left and evidence links, and the
// exact note to post. It never becomes a second, weaker way to approve:
//
//   - links carry an HMAC token over (incident, code), so pages cannot be enumerated by
//     guessing codes;
//   - it accepts a decision only from an identity vouched for by a proxy that proves itself:
//     a signed identity assertion (JWTIdentity: Pomerium, Cloudflare Access, Google IAP, the
//     AWS ALB) or mutual TLS from the proxy (MTLSIdentity); a plain header trusted by peer
//     address (HeaderIdentity) is an explicit opt-in for narrow ranges and one value only.
//     Anyone else sees only the command to post. The page has its own listener, never the
//     public webhook one;
//   - that identity goes through the same approval.Policy as a note's author, and the decision
//     is published to the queue as the note "/alaya approve CODE" by that user, so the worker
//     takes it down the one path notes take. The event is signed with the link key (the queue
//     is transport, not authority), and its id is this person's decision on this rendered
//     form: a double click is deduplicated by JetStream, a second approver's decision never is;
//   - forms carry a token bound to the identity and the gate, cross-origin POSTs are refused,
//     and a Content-Security-Policy with a per-response nonce allows no other script, style or
//     frame. Plan text is incident data and goes through html/template escaping only.
package page
