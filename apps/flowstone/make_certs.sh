#!/bin/sh
# Makes a throwaway PKI in DIR for the TLS tests and `flowstone demo --secure` (openssl, EC P-256 keys,
# valid 2 days):
#   ca.pem/ca.key            the CA the sites trust
#   site-<name>.pem/.key     one certificate per name given, signed by the CA, for 127.0.0.1 and localhost,
#                            usable as server and as client certificate
#   rogue-ca.pem, rogue.pem/.key   a certificate for the same addresses signed by a CA nobody trusts
# Usage: make_certs.sh DIR NAME...  (installed beside the flowstone binary as flowstone-make-certs)
set -eu
dir=$1
shift
mkdir -p "$dir"
cd "$dir"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
ca() { # name subject
  key "$1.key"
  openssl req -x509 -new -key "$1.key" -out "$1.pem" -days 2 -subj "/CN=$2" 2>/dev/null
}
signed() { # name ca subject
  key "$1.key"
  openssl req -new -key "$1.key" -out "$1.csr" -subj "/O=flowstone test/CN=$3" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -out "$1.pem" -days 2 \
    -extfile "$1.ext" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
ca ca "flowstone test CA"
for name in "$@"; do signed "site-$name" ca "$name"; done
ca rogue-ca "rogue CA"
signed rogue rogue-ca rogue
