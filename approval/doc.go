// Package approval holds the human half of a remediation run: the pending approval requests
// that park a run at a gate, the short codes people type into a PagerDuty note, and the policy
// that decides whether a given person may approve a given plan right now.
//
// It exists as its own stage because an approval is the one place where Alaya turns a note
// typed by a person at 3 a.m. into permission to change production. Everything that makes that
// safe lives here and nowhere else:
//
//   - requests live in a JetStream KeyValue bucket, so any worker can resume a parked run and no
//     worker holds a message while a person decides;
//   - every state change is a compare-and-swap on the entry's revision, so two workers (or a
//     replayed webhook) can never both win a decision, and a decided gate never changes again;
//   - the policy authorizes first and strictly (a person, on call now at level 1 for the
//     escalation policy recorded at the gate, or a runbook's approver by PagerDuty id), then
//     re-checks the gate at decision time (the plan hash, the incident's status, the gate's
//     expiry), never trusting what was true when the note was posted;
//   - time is the NATS server's (Store.Now), so workers whose clocks disagree agree on expiry
//     and on an approval's start deadline.
//
// The order in which a note becomes a decision (parse, verify with PagerDuty, find the gate,
// authorize, bind, decide, start) is written once, in remediate/approve.go. The approval page
// (package approval/page) is a second way in that goes through the same policy and ends in
// the same place as a note.
package approval
