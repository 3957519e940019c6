#!/bin/sh
# Creates Warrant's key material in DIR (default ./keys): the ES256 signing
# key (signing-es256.pem, PKCS#8 PEM) and the secret-hashing pepper (pepper,
# 32 random bytes), both mode 0600. Files already there are kept: a new
# pepper would invalidate every stored client secret, a new key every
# token in flight. Needs the openssl command line and /dev/urandom.
#
#   deploy/gen-keys.sh deploy/keys        (ignored by git, outside the image's build context)
#   kubectl -n warrant create secret generic warrant-keys \
#     --from-file=signing-es256.pem=deploy/keys/signing-es256.pem --from-file=pepper=deploy/keys/pepper
set -eu
dir="${1:-./keys}"
umask 077
mkdir -p "$dir"
if [ ! -s "$dir/signing-es256.pem" ]; then
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/signing-es256.pem.tmp"
    mv "$dir/signing-es256.pem.tmp" "$dir/signing-es256.pem"
    echo "created $dir/signing-es256.pem"
else
    echo "kept $dir/signing-es256.pem"
fi
if [ ! -s "$dir/pepper" ]; then
    head -c 32 /dev/urandom > "$dir/pepper.tmp"
    mv "$dir/pepper.tmp" "$dir/pepper"
    echo "created $dir/pepper"
else
    echo "kept $dir/pepper"
fi
chmod 0600 "$dir/signing-es256.pem" "$dir/pepper"
