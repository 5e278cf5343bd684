#!/usr/bin/env bash
# Install (or upgrade) ajam-gateway as a systemd service, with the system's
# own python3: Debian 12 (3.11.2, the oldest supported) and Ubuntu 24.04 (3.12).
#
#   sudo deploy/install.sh                    # from this source tree
#   sudo deploy/install.sh --from ajam_gateway-0.1.0-py3-none-any.whl
#   sudo deploy/install.sh --instance a --instance b   # ajam-gateway@a, @b
#
# What it does, each step only when needed (running it again upgrades the
# code and leaves your files alone):
#   - the system user and group "ajam-gateway";
#   - a virtual environment in /opt/ajam-gateway (python3 -m venv; Debian's
#     python3-venv is installed with apt when it is missing), and the gateway
#     installed into it with pip: /opt/ajam-gateway/bin/ajam-gateway;
#   - /etc/ajam-gateway/ (0750 root:ajam-gateway) with gateway.toml (or
#     ID.toml per --instance) copied from config/gateway.example.toml only if
#     absent (0640 root:ajam-gateway), and ajam-gateway.env for secrets, only
#     if absent (0600 root:root: systemd reads it as root);
#   - the units ajam-gateway.service and ajam-gateway@.service in
#     /etc/systemd/system, enabled; started (restarted on an upgrade) unless
#     --no-start, or unless a config was just created from the example: it
#     needs your AMI account and users first.
#
# --root DIR (or DESTDIR=DIR) installs into DIR instead of / for tests and
# packaging: no user is created, nothing is chowned, apt and systemctl are not
# run. The venv there is usable in place (its scripts name DIR/opt/...), not
# after being moved.
set -euo pipefail
# The venv's python must import what pip put in the venv, nothing else.
unset PYTHONPATH PYTHONHOME

readonly PREFIX=/opt/ajam-gateway
readonly CONFDIR=/etc/ajam-gateway
readonly UNITDIR=/etc/systemd/system
readonly SERVICE_USER=ajam-gateway
readonly ENV_FILE=ajam-gateway.env
SOURCE_TREE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly SOURCE_TREE

ROOT="${DESTDIR:-}"
FROM=""
PYTHON=/usr/bin/python3
EXTRAS=""
START=yes
INSTANCES=()

usage() {
    cat <<EOF
Usage: $0 [options]
  --from FILE       install this wheel or sdist instead of the source tree
  --python PATH     the interpreter for the venv (default /usr/bin/python3; 3.11.2 or later)
  --extras LIST     pip extras, e.g. mysql,postgresql (to read the PBX's CDR table)
  --instance ID     set up ajam-gateway@ID (node id [a-z0-9]{1,8}) with
                    /etc/ajam-gateway/ID.toml instead of ajam-gateway.service
                    with gateway.toml; repeat for several instances
  --no-start        enable the unit(s) but do not start or restart them
  --root DIR        install into DIR instead of / (also DESTDIR=DIR): no useradd,
                    chown, apt-get or systemctl; for tests and packaging
  -h, --help        this text
EOF
}

say() { printf 'install.sh: %s\n' "$*"; }
die() { printf 'install.sh: error: %s\n' "$*" >&2; exit 1; }

while [ $# -gt 0 ]; do
    case "$1" in
        --from) [ $# -ge 2 ] || die "--from needs a file"; FROM="$2"; shift 2 ;;
        --python) [ $# -ge 2 ] || die "--python needs a path"; PYTHON="$2"; shift 2 ;;
        --extras) [ $# -ge 2 ] || die "--extras needs a list"; EXTRAS="$2"; shift 2 ;;
        --instance) [ $# -ge 2 ] || die "--instance needs an id"; INSTANCES+=("$2"); shift 2 ;;
        --no-start) START=no; shift ;;
        --root) [ $# -ge 2 ] || die "--root needs a directory"; ROOT="$2"; shift 2 ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done

if [ "$ROOT" = "/" ]; then
    ROOT=""
fi
if [ -n "$ROOT" ]; then
    mkdir -p "$ROOT"
    ROOT="$(cd "$ROOT" && pwd)"
    say "staging into $ROOT: no user, no chown, no apt-get, no systemctl"
elif [ "$(id -u)" -ne 0 ]; then
    die "run as root (or with --root DIR to stage into a directory)"
fi
staged() { [ -n "$ROOT" ]; }

for id in "${INSTANCES[@]}"; do
    [[ "$id" =~ ^[a-z0-9]{1,8}$ ]] || die "instance id '$id' is not [a-z0-9]{1,8} (it is the node id)"
done
if [ -n "$EXTRAS" ] && ! [[ "$EXTRAS" =~ ^[a-z0-9,_-]+$ ]]; then
    die "--extras takes names like mysql,postgresql"
fi

# --- Python with venv ------------------------------------------------------------
[ -x "$PYTHON" ] || die "$PYTHON not found (apt-get install python3, or --python PATH)"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11, 2))' \
    || die "$PYTHON is older than 3.11.2 ($("$PYTHON" -V 2>&1))"
if ! "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null; then
    staged && die "$PYTHON has no venv/ensurepip: apt-get install python3-venv"
    say "installing python3-venv"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
fi

# --- The service user ----------------------------------------------------------
if ! staged && ! getent passwd "$SERVICE_USER" >/dev/null; then
    say "creating the system user $SERVICE_USER"
    useradd --system --user-group --home-dir /var/lib/ajam-gateway --no-create-home \
        --shell /usr/sbin/nologin --comment "ajam-gateway AJAM gateway" "$SERVICE_USER"
fi

# --- The venv and the gateway in it -----------------------------------------------
VENV="$ROOT$PREFIX"
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c '' 2>/dev/null; then
    say "upgrading the venv in $VENV"
    "$PYTHON" -m venv --upgrade "$VENV"
else
    # Missing, or broken (e.g. its python went away in a release upgrade).
    say "creating the venv in $VENV"
    "$PYTHON" -m venv --clear "$VENV"
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
if [ -n "$FROM" ]; then
    [ -e "$FROM" ] || die "$FROM not found"
    PACKAGE="$(cd "$(dirname "$FROM")" && pwd)/$(basename "$FROM")"
else
    # pip builds a source directory in place (build/, *.egg-info): build a
    # copy, so the tree stays clean and may be read-only.
    [ -f "$SOURCE_TREE/pyproject.toml" ] || die "no pyproject.toml in $SOURCE_TREE: use --from"
    mkdir "$WORK/src"
    for item in pyproject.toml README.md LICENSE gateway; do
        if [ -e "$SOURCE_TREE/$item" ]; then
            cp -R "$SOURCE_TREE/$item" "$WORK/src/"
        fi
    done
    find "$WORK/src" -name __pycache__ -type d -prune -exec rm -rf {} +
    PACKAGE="$WORK/src"
fi
REQUIREMENT="$PACKAGE"
if [ -n "$EXTRAS" ]; then
    REQUIREMENT="ajam-gateway[$EXTRAS] @ file://$PACKAGE"
fi
say "installing ajam-gateway${EXTRAS:+[$EXTRAS]} from ${FROM:-$SOURCE_TREE}"
# --force-reinstall --no-deps: the same version number from a changed tree is
# installed too; the second call adds or upgrades what is missing.
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    --force-reinstall --no-deps "$PACKAGE"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    "$REQUIREMENT"
"$VENV/bin/ajam-gateway" --help >/dev/null || die "the installed ajam-gateway does not start"

# The operations kit and the example config, for reference.
SHARE="$VENV/share/ajam-gateway"
mkdir -p "$SHARE"
cp "$SOURCE_TREE/config/gateway.example.toml" "$SOURCE_TREE/config/manager.conf.example" "$SHARE/"
for kit in nginx fail2ban prometheus grafana; do
    if [ -d "$SOURCE_TREE/deploy/$kit" ]; then
        rm -rf "${SHARE:?}/$kit"
        cp -R "$SOURCE_TREE/deploy/$kit" "$SHARE/"
    fi
done

# --- /etc/ajam-gateway ----------------------------------------------------------
# own MODE FILE: root:ajam-gateway (root:root for 0600), not when staged.
own() {
    chmod "$1" "$2"
    if ! staged; then
        if [ "$1" = 0600 ]; then chown root:root "$2"; else chown "root:$SERVICE_USER" "$2"; fi
    fi
}
mkdir -p "$ROOT$CONFDIR"
own 0750 "$ROOT$CONFDIR"

CREATED=()
CHECK=()  # check-config's arguments for the first config created: the service's secrets, node id
# new_config NAME [ID]: the example; for instance ID of ajam-gateway@.service its
# SQLite history in its own state directory, /var/lib/ajam-gateway/{node_id}/
# (the unit's StateDirectory=ajam-gateway/%i; its --node-id %i fills {node_id} in).
new_config() {
    local target="$ROOT$CONFDIR/$1"
    if [ -e "$target" ]; then
        say "keeping $CONFDIR/$1"
        return
    fi
    local state=/var/lib/ajam-gateway
    [ $# -lt 2 ] || state="/var/lib/ajam-gateway/{node_id}"
    sed "s#^path = \"/var/lib/ajam-gateway/history.sqlite3\"#path = \"$state/history.sqlite3\"#" \
        "$SOURCE_TREE/config/gateway.example.toml" >"$target.new"
    own 0640 "$target.new"
    mv "$target.new" "$target"
    CREATED+=("$CONFDIR/$1")
    say "created $CONFDIR/$1 from the example: set [ami], [http] and your users"
    if [ ${#CHECK[@]} -eq 0 ]; then
        CHECK=(--env-file "$CONFDIR/$ENV_FILE")
        [ $# -lt 2 ] || CHECK+=("--env-file=-$CONFDIR/$2.env" --node-id "$2")
        CHECK+=("$CONFDIR/$1")
    fi
}
UNITS=()
if [ ${#INSTANCES[@]} -eq 0 ]; then
    new_config gateway.toml
    UNITS+=(ajam-gateway.service)
else
    for id in "${INSTANCES[@]}"; do
        new_config "$id.toml" "$id"
        UNITS+=("ajam-gateway@$id.service")
    done
fi

if [ ! -e "$ROOT$CONFDIR/$ENV_FILE" ]; then
    # umask: the secrets file is never readable by others, not even for a moment.
    (umask 077 && cat >"$ROOT$CONFDIR/$ENV_FILE" <<'EOF'
# Secrets for ajam-gateway, read by systemd (EnvironmentFile=) as root before
# the service starts: NAME=value, one per line. Keep this file mode 0600.
# The config names them with secret_env / password_env.
#AJAM_AMI_SECRET=the-secret-of-the-gateway's-account-in-manager.conf
#AJAM_ADMIN_SECRET=
#AJAM_CDR_DB_PASSWORD=
EOF
    )
    own 0600 "$ROOT$CONFDIR/$ENV_FILE"
    say "created $CONFDIR/$ENV_FILE (0600) for secrets"
fi

# --- systemd ------------------------------------------------------------------------
mkdir -p "$ROOT$UNITDIR"
for unit in ajam-gateway.service ajam-gateway@.service; do
    install -m 0644 "$SOURCE_TREE/deploy/systemd/$unit" "$ROOT$UNITDIR/$unit"
done

# Once the new config has your AMI account and users: the same secrets and
# node id as the service, so that what passes here also starts.
check_hint() {
    if [ ${#CHECK[@]} -gt 0 ]; then
        say "check it with: $PREFIX/bin/ajam-gateway check-config ${CHECK[*]}"
    fi
}
if staged; then
    check_hint
    say "staged: would now run systemctl daemon-reload and enable ${UNITS[*]}"
    exit 0
fi
if [ ! -d /run/systemd/system ]; then
    say "systemd is not running here: enable ${UNITS[*]} yourself"
    exit 0
fi
systemctl daemon-reload
systemctl enable --quiet "${UNITS[@]}"
if [ "$START" = no ]; then
    say "enabled ${UNITS[*]}; not started (--no-start)"
elif [ ${#CREATED[@]} -gt 0 ]; then
    say "enabled ${UNITS[*]}; not started: edit ${CREATED[*]} and $CONFDIR/$ENV_FILE"
    check_hint
    say "then: systemctl start ${UNITS[*]}"
else
    systemctl restart "${UNITS[@]}"
    say "started ${UNITS[*]}"
fi
