#!/bin/sh
# Make the certificates deploy/nats expects: a CA, one certificate per node (server for
# clients, and client and server for routes), and one client certificate per Alaya role, whose
# subject is the user accounts.conf maps it to.
#
#   gen-certs.sh OUT_DIR [NODE_HOST...]      default hosts: nats-1 nats-2 nats-3
#
# Node N's certificate names host N (and localhost); give the hosts clients and routes use.
# Copy to each node: ca.pem, nats-N.pem, nats-N-key.pem (into /etc/nats/tls/). Give each Alaya
# process only its own role's pair: the receiver alaya-receiver.pem and alaya-receiver-key.pem,
# and so on, plus ca.pem. Keep ca-key.pem offline: whoever holds it can mint any role.
# Nothing here is ever committed; tests make their own certificates at run time.
set -eu
out=${1:?usage: gen-certs.sh OUT_DIR [NODE_HOST...]}
shift
[ $# -gt 0 ] || set -- nats-1 nats-2 nats-3
days=${DAYS:-825}
mkdir -p "$out"
umask 077
cd "$out"

if [ ! -f ca-key.pem ]; then
  openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
    -keyout ca-key.pem -out ca.pem -days 3650 -subj "/CN=Alaya NATS CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
fi

# issue NAME SUBJECT_CN [SAN]: NAME.pem and NAME-key.pem signed by the CA.
issue() {
  name=$1 cn=$2 san=${3:-}
  ext="basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth,clientAuth"
  [ -n "$san" ] && ext="$ext
subjectAltName=$san"
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
    -keyout "$name-key.pem" -out "$name.csr" -subj "/CN=$cn"
  printf '%s\n' "$ext" > "$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
    -out "$name.pem" -days "$days" -extfile "$name.ext"
  rm -f "$name.csr" "$name.ext"
}

n=0
for host in "$@"; do
  n=$((n + 1))
  # Every node's subject is the one route user nats-N.conf accepts; a role's is not.
  issue "nats-$n" alaya-nats-route "DNS:$host,DNS:localhost,IP:127.0.0.1"
done
for role in receiver page worker operator; do
  issue "alaya-$role" "alaya-$role"
done
chmod 600 ./*-key.pem
echo "certificates in $out: ca.pem, nats-1..$n, alaya-{receiver,page,worker,operator}"
