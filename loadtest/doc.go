// Package loadtest measures Alaya as production runs it (internal/testenv/fleet: a three-node
// JetStream cluster, receiver and worker processes, S3, sshd targets behind a bastion) under
// the loads an on-call night brings: an alert storm, one runbook fanned out to many hosts,
// the first incident after a worker starts. The figures, with the commands, are in
// docs/PERFORMANCE.md. Benchmarks only: `go test ./...` builds them but runs none.
package loadtest
