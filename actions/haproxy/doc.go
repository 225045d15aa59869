// Package haproxy takes servers out of an HAProxy backend and puts them back through the
// runtime API (the admin stats socket). It is an actions.Balancer.
//
// The socket is a Unix socket on the load-balancer host. The worker reaches it either locally
// or through the bastion, as an OpenSSH direct-streamlocal channel (the executor's DialUnix), so
// no socat or shell is involved on the load balancer and nothing is parsed by a shell there.
// HAProxy answers one command per connection in non-interactive mode; this package opens a
// connection per command and reads until HAProxy closes it.
package haproxy
