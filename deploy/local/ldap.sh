#!/usr/bin/env bash
# OpenLDAP (Debian's slapd) on loopback with TLS, for LDAP login tests and trying LDAP locally.
#
#   eval "$(deploy/local/ldap.sh up)"   install (first time), configure, start, export COUTURE_LDAP_*
#   deploy/local/ldap.sh env            the export lines, when it is running
#   deploy/local/ldap.sh down           stop it
#
# Its own slapd.conf, database, CA and server certificate live in the state directory, never in
# /etc/ldap; the system's slapd service is left alone. It listens on 127.0.0.1 only:
# ldap:// (StartTLS available) on COUTURE_LDAP_PORT and ldaps:// on the next port.
#
# The directory (base dc=couture,dc=test):
#   cn=search,ou=system     the search account (COUTURE_LDAP_BIND_DN / _BIND_PASSWORD, generated)
#   ou=people: uid=alice (staff, in cn=ops), uid=bob (staff), uid=carol (contractor, in cn=ops);
#              each user's password is "<uid>-Passw0rd"; only test data, never real people
#   ou=groups: cn=ops (groupOfNames)
#
# Settings (environment):
#   COUTURE_SERVICES_STATE   state directory, shared with deploy/local/services
#   COUTURE_LDAP_PORT        ldap:// port; ldaps:// is the next one   (50389)
#   COUTURE_SERVICES_TIMEOUT seconds to wait for slapd                 (120)
#
# Only `export` lines go to stdout; progress and errors go to stderr.
set -euo pipefail

STATE="${COUTURE_SERVICES_STATE:-${XDG_STATE_HOME:-$HOME/.local/state}/couture/services}"
LDAP_STATE="$STATE/ldap"
PORT="${COUTURE_LDAP_PORT:-50389}"
TLS_PORT="$((PORT + 1))"
TIMEOUT="${COUTURE_SERVICES_TIMEOUT:-120}"
HOST=127.0.0.1
BASE="dc=couture,dc=test"
BIND_DN="cn=search,ou=system,$BASE"
PID="$LDAP_STATE/slapd.pid"
TLS="$LDAP_STATE/tls"

log() { printf 'ldap: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null; then sudo "$@"
    else die "installing needs root: run '$*' as root first"
    fi
}

install() {
    if [ -x /usr/sbin/slapd ] && command -v ldapsearch >/dev/null && command -v openssl >/dev/null; then
        return
    fi
    log "apt-get update"
    as_root apt-get update -qq >&2
    log "apt-get install slapd ldap-utils openssl"
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq slapd ldap-utils openssl >&2
}

alive() { [ -f "$PID" ] && kill -0 "$(cat "$PID")" 2>/dev/null; }

secret() {
    local file="$LDAP_STATE/$1"
    if [ ! -s "$file" ]; then
        (umask 077 && openssl rand -hex 16 >"$file")
    fi
    cat "$file"
}

certificates() {
    [ -s "$TLS/server.pem" ] && return
    log "generating a CA and a server certificate for 127.0.0.1"
    mkdir -p "$TLS"
    (
        umask 077
        openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=Couture test LDAP CA" \
            -keyout "$TLS/ca.key" -out "$TLS/ca.pem" 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
            -keyout "$TLS/server.key" -out "$TLS/server.csr" 2>/dev/null
        printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$TLS/ext.cnf"
        openssl x509 -req -in "$TLS/server.csr" -CA "$TLS/ca.pem" -CAkey "$TLS/ca.key" -CAcreateserial \
            -days 3650 -extfile "$TLS/ext.cnf" -out "$TLS/server.pem" 2>/dev/null
    )
    chmod 644 "$TLS/ca.pem" "$TLS/server.pem"
}

configure() {
    mkdir -p "$LDAP_STATE/data"
    certificates
    local root_hash
    root_hash="$(slappasswd -s "$(secret admin_password)")"
    cat >"$LDAP_STATE/slapd.conf" <<CONF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile $PID
argsfile $LDAP_STATE/slapd.args
TLSCACertificateFile $TLS/ca.pem
TLSCertificateFile $TLS/server.pem
TLSCertificateKeyFile $TLS/server.key

database mdb
maxsize 104857600
suffix "$BASE"
rootdn "cn=admin,$BASE"
rootpw $root_hash
directory $LDAP_STATE/data
access to attrs=userPassword by self write by anonymous auth by * none
access to * by dn.exact="$BIND_DN" read by self read by * none
CONF
    [ -f "$LDAP_STATE/data/data.mdb" ] && return
    log "loading the test directory"
    {
        entry "dn: $BASE" "objectClass: dcObject" "objectClass: organization" "o: Couture test" "dc: couture"
        for ou in system people groups; do
            entry "dn: ou=$ou,$BASE" "objectClass: organizationalUnit" "ou: $ou"
        done
        entry "dn: $BIND_DN" "objectClass: organizationalRole" "objectClass: simpleSecurityObject" \
            "cn: search" "userPassword: $(slappasswd -s "$(secret bind_password)")"
        person alice Alice Liddell staff
        person bob Bob Builder staff
        person carol Carol Danvers contractor
        entry "dn: cn=ops,ou=groups,$BASE" "objectClass: groupOfNames" "cn: ops" \
            "member: uid=alice,ou=people,$BASE" "member: uid=carol,ou=people,$BASE"
    } >"$LDAP_STATE/data.ldif"
    slapadd -f "$LDAP_STATE/slapd.conf" -l "$LDAP_STATE/data.ldif" >&2
}

entry() { printf '%s\n' "$@" ""; }

person() {
    entry "dn: uid=$1,ou=people,$BASE" "objectClass: inetOrgPerson" "uid: $1" "cn: $2 $3" \
        "givenName: $2" "sn: $3" "mail: $1@couture.test" "employeeType: $4" \
        "userPassword: $(slappasswd -s "$1-Passw0rd")"
}

start() {
    alive && return
    log "starting slapd on $HOST:$PORT (ldap, StartTLS) and $HOST:$TLS_PORT (ldaps)"
    /usr/sbin/slapd -f "$LDAP_STATE/slapd.conf" -h "ldap://$HOST:$PORT/ ldaps://$HOST:$TLS_PORT/" >&2
    local waited=0
    until LDAPTLS_CACERT="$TLS/ca.pem" ldapsearch -x -H "ldaps://$HOST:$TLS_PORT" -D "$BIND_DN" \
        -w "$(secret bind_password)" -b "$BASE" -s base >/dev/null 2>&1; do
        waited=$((waited + 1))
        [ "$waited" -ge "$TIMEOUT" ] && die "slapd did not answer within ${TIMEOUT}s"
        sleep 1
    done
}

print_env() {
    alive || return 0
    printf 'export COUTURE_LDAP_URL=%q\n' "ldap://$HOST:$PORT"
    printf 'export COUTURE_LDAPS_URL=%q\n' "ldaps://$HOST:$TLS_PORT"
    printf 'export COUTURE_LDAP_BASE_DN=%q\n' "$BASE"
    printf 'export COUTURE_LDAP_BIND_DN=%q\n' "$BIND_DN"
    printf 'export COUTURE_LDAP_BIND_PASSWORD=%q\n' "$(secret bind_password)"
    printf 'export COUTURE_LDAP_CA_CERT=%q\n' "$TLS/ca.pem"
}

down() {
    alive || return 0
    log "stopping slapd"
    local pid
    pid="$(cat "$PID")"
    kill "$pid"
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.2
    done
    die "slapd ($pid) did not stop"
}

case "${1:-}" in
    up) install; mkdir -p "$LDAP_STATE"; configure; start; print_env ;;
    env) print_env ;;
    down) down ;;
    *) die "usage: $0 up|down|env" ;;
esac
