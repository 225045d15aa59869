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
//   - the policy re-checks everything at decision time (who is on call now, the plan hash, the
//     incident's status, the gate's expiry), never trusting what was true when the note was
//     posted.
//
// The approval page (package approval/page) is a second way in that goes through the same
// policy and ends in the same place as a note.
package approval
