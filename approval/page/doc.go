// Package page serves the approval page linked from Alaya's plan notes, under /approvals/.
//
// The page exists because a plan is easier to judge on a screen than in a note: it shows the
// rendered plan, targets, runbook version, plan hash, time left and evidence links, and the
// exact note to post. It never becomes a second, weaker way to approve:
//
//   - links carry an HMAC token over (incident, code), so pages cannot be enumerated by
//     guessing codes;
//   - it accepts a decision only from a trusted identity: the request must come from an
//     address the operator listed (an authenticating proxy such as oauth2-proxy) and carry the
//     identity header that proxy sets; anyone else sees only the command to post;
//   - that identity goes through the same approval.Policy as a note's author, and the decision
//     is published to the queue as the note "/alaya approve CODE" by that user, so the worker
//     takes it down the one path notes take: any worker can resume the parked run, and a
//     double click (same event id, deduplicated by JetStream) or a replay (the store's
//     compare-and-swap) executes nothing twice;
//   - forms carry a token bound to the identity and the gate, cross-origin POSTs are refused,
//     and a Content-Security-Policy with a per-response nonce allows no other script, style or
//     frame. Plan text is incident data and goes through html/template escaping only.
package page
