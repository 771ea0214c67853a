# shellcheck shell=bash
# Sourced by scripts/image-test and scripts/compose-test: podman made ready on a machine that
# reaches no container registry (only PyPI and Debian's mirror), and the images they share.
#
#   podman_ready      install podman & co with apt-get when missing; CONTAINERS_CONF set
#   base_image        debian:bookworm-slim made with mmdebstrap from the configured mirror
#   app_image         the Dockerfile built (its build time and size printed)
#   postgres_image    deploy/postgres built from the same base
#   timed NAME CMD... run CMD, then print "NAME: N s"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BASE_IMAGE=docker.io/library/debian:bookworm-slim # the Dockerfile's FROM, fully qualified
APP_IMAGE=localhost/second-look:latest # compose.yaml's image
POSTGRES_IMAGE=localhost/second-look-postgres:15
# Measured on the CI machines: crun fails on their hybrid cgroups, so runc; and the ulimits
# `podman run` needs there. Only podman's own processes read this file.
export CONTAINERS_CONF="$ROOT/deploy/podman/containers.conf"
# Docker's image format: podman's default (OCI) drops HEALTHCHECK and SHELL. podman-compose's
# builds read it too.
export BUILDAH_FORMAT=docker
# With their recommended packages, as measured: netavark and aardvark-dns (the networks, and
# their names), buildah, fuse-overlayfs, catatonit. iptables by name: netavark runs it, podman
# only suggests it, and without it every network fails ("netavark: No such file or directory").
# iproute2: tests/image/drive.py pins the compose bridge's address with `ip link`.
PODMAN_PACKAGES=(podman runc mmdebstrap podman-compose uidmap slirp4netns netavark aardvark-dns
    iptables iproute2)

say() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# Run a command with its output in a log, shown (its end) only when it fails.
quietly() {
    local log status=0
    log=$(mktemp)
    "$@" >"$log" 2>&1 || status=$?
    if ((status)); then
        tail -n 60 "$log" >&2
        say "failed ($status): $1"
    fi
    rm -f "$log"
    return "$status"
}

# Seconds since `start` (from `now`), with a tenth.
now() { date +%s%N; }
since() { local ms=$((($(now) - $1) / 1000000)); printf '%d.%d s' $((ms / 1000)) $((ms % 1000 / 100)); }

timed() {
    local name=$1 start
    shift
    start=$(now)
    "$@"
    printf '%s: %s\n' "$name" "$(since "$start")"
}

podman_ready() {
    local missing=() package
    for package in "${PODMAN_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed' ||
            missing+=("$package")
    done
    if ((${#missing[@]})); then
        if [[ $(id -u) != 0 ]]; then
            say "missing: ${missing[*]}: run as root, or apt-get install them"
            return 1
        fi
        say "installing ${missing[*]}"
        quietly apt-get update
        DEBIAN_FRONTEND=noninteractive quietly apt-get install -y -qq "${missing[@]}"
    fi
}

# The sources the base image installs from: this machine's Debian mirror when it names one.
_debian_sources() {
    local file
    for file in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
        if [[ -s $file ]] && grep -q '^[^#]*debian' "$file"; then
            echo "$file"
            return
        fi
    done
    echo http://deb.debian.org/debian
}

base_image() {
    if podman image exists "$BASE_IMAGE"; then
        return
    fi
    say "making $BASE_IMAGE with mmdebstrap (no registry)"
    local tar
    tar=$(mktemp --suffix=.tar)
    # As Debian's own slim image is made: no documentation, no recommended packages, apt's
    # downloads and caches removed after each use. The machine's own CA certificates go in:
    # HTTPS from a build may pass a re-signing proxy.
    # The hooks are run by mmdebstrap, with the chroot as $1.
    # shellcheck disable=SC2016
    # Merged /usr by symlinks as debootstrap makes it (usr-is-merged, not usrmerge and its perl).
    quietly mmdebstrap --variant=minbase \
        --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
        --include=ca-certificates \
        --aptopt='APT::Install-Recommends "false"' \
        --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' \
        --dpkgopt='path-include=/usr/share/locale/locale.alias' \
        --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-include=/usr/share/doc/*/copyright' \
        --dpkgopt='path-exclude=/usr/share/info/*' \
        --customize-hook='clean="rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"
            printf "%s\n" "DPkg::Post-Invoke { \"$clean\"; };" "APT::Update::Post-Invoke { \"$clean\"; };" \
                "Dir::Cache::pkgcache \"\";" "Dir::Cache::srcpkgcache \"\";" >"$1/etc/apt/apt.conf.d/docker-clean"
            echo "Acquire::Languages \"none\";" >"$1/etc/apt/apt.conf.d/docker-no-languages"
            echo "Acquire::GzipIndexes \"true\";" >"$1/etc/apt/apt.conf.d/docker-gzip-indexes"' \
        --customize-hook='if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
            cp /usr/local/share/ca-certificates/*.crt "$1/usr/local/share/ca-certificates/"
            chroot "$1" update-ca-certificates >/dev/null 2>&1; fi' \
        --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/cache/apt/archives/*.deb' \
        bookworm "$tar" "$(_debian_sources)"
    quietly podman import --change 'CMD ["bash"]' "$tar" "$BASE_IMAGE"
    rm -f "$tar"
}

# pip's settings on this machine (a proxy, an index, a certificate), as build arguments of the
# Dockerfile's builder stage: never in the final image, and never written into a file of it.
_pip_build_args() {
    local name value key
    for name in HTTP_PROXY HTTPS_PROXY NO_PROXY http_proxy https_proxy no_proxy \
        PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_TRUSTED_HOST PIP_CERT; do
        if [[ -n ${!name:-} ]]; then
            printf -- '--build-arg=%s\n' "$name"
        fi
    done
    # The same from pip.conf files (/etc/pip.conf, /etc/xdg/pip, the user's), when not in the env.
    while IFS='=' read -r key value; do
        value=${value#\'} value=${value%\'}
        # A file:// index is this machine's own folder: not there in a build.
        value=$(tr ' ' '\n' <<<"$value" | grep -v '^file:' | paste -sd ' ' || true)
        [[ -z $value ]] && continue
        case $key in
        global.index-url) name=PIP_INDEX_URL ;;
        global.extra-index-url) name=PIP_EXTRA_INDEX_URL ;;
        global.trusted-host) name=PIP_TRUSTED_HOST ;;
        global.cert) name=PIP_CERT ;;
        global.proxy) name=HTTPS_PROXY ;;
        *) continue ;;
        esac
        [[ -n ${!name:-} ]] || printf -- '--build-arg=%s=%s\n' "$name" "$value"
    done < <(python3 -m pip config list 2>/dev/null || true)
}

# What the image is built from (the wheel's sources, the lock, the Dockerfile), as a digest.
_app_digest() {
    (cd "$ROOT" && find bot setup.cfg pyproject.toml README.md Dockerfile .dockerignore \
        deploy/requirements.lock -type f ! -name '*.pyc' -print0 | sort -z |
        xargs -0 sha256sum | sha256sum | cut -c1-16)
}

# Built again only when its sources changed (their digest is a label of the image).
app_image() {
    local args start size digest old
    digest=$(_app_digest)
    if [[ $(podman image inspect --format '{{index .Labels "second-look.source"}}' \
        "$APP_IMAGE" 2>/dev/null) == "$digest" ]]; then
        say "$APP_IMAGE is up to date"
        return
    fi
    old=$(podman image inspect --format '{{.Id}}' "$APP_IMAGE" 2>/dev/null || true)
    mapfile -t args < <(_pip_build_args)
    say "building $APP_IMAGE"
    start=$(now)
    # No layers kept: a build leaves no stage image behind (about 300 MB each time).
    quietly podman build --pull=never --layers=false "${args[@]}" \
        --label "second-look.source=$digest" --tag "$APP_IMAGE" "$ROOT"
    printf 'image build time: %s\n' "$(since "$start")"
    # The image it replaces, now without a name (unless a container still uses it).
    [[ -z $old ]] || podman rmi "$old" >/dev/null 2>&1 || true
    size=$(podman image inspect --format '{{.Size}}' "$APP_IMAGE")
    printf 'image size: %d MB\n' "$((size / 1000000))"
}

# Built again only when deploy/postgres changed (its digest is a label of the image).
postgres_image() {
    local digest
    digest=$(cat "$ROOT"/deploy/postgres/* | sha256sum | cut -c1-16)
    if [[ $(podman image inspect --format '{{index .Labels "second-look.source"}}' \
        "$POSTGRES_IMAGE" 2>/dev/null) == "$digest" ]]; then
        return
    fi
    say "building $POSTGRES_IMAGE"
    quietly podman build --pull=never --label "second-look.source=$digest" \
        --tag "$POSTGRES_IMAGE" "$ROOT/deploy/postgres"
}
