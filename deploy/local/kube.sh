#!/usr/bin/env bash
# A real local Kubernetes control plane on loopback, for tests and for trying the platform's Kubernetes
# features: etcd, kube-apiserver (RBAC, aggregation layer), kube-controller-manager and kube-scheduler built
# from the Go module proxy, with kwok faking kubelets so pods scheduled by the real scheduler on fake nodes
# (3 nodes in 3 zones by default) become Running and Ready. No containers run; ClusterIPs do not route.
#
#   deploy/local/kube.sh build|start|stop|restart|status|wipe
#   deploy/local/kube.sh kubectl ARGS…
#   deploy/local/kube.sh expose NAMESPACE/SERVICE PORT
#
# `start` prints progress on stderr and the kubeconfig path alone as the last stdout line, so
# `KUBECONFIG=$(deploy/local/kube.sh start)` works; `expose` prints "CERT KEY" as its last line.
# See deploy/README.md for the environment variables.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
MODULES_DIR="$SCRIPT_DIR/kube"

# kwok is installed with `go install …@version` (it builds as is); Kubernetes and etcd versions are the
# `require` lines of the wrapper modules in deploy/local/kube/, the one place they are pinned.
KWOK_VERSION=v0.8.0
KUBE_HOST=127.0.0.1
KUBE_API_PORT=${KUBE_API_PORT:-6443}
KUBE_ETCD_PORT=${KUBE_ETCD_PORT:-2379}
KUBE_ETCD_PEER_PORT=${KUBE_ETCD_PEER_PORT:-2380}
KUBE_CM_PORT=${KUBE_CM_PORT:-10257}
KUBE_SCHEDULER_PORT=${KUBE_SCHEDULER_PORT:-10259}
KUBE_KWOK_PORT=${KUBE_KWOK_PORT:-10247}
KUBE_NODES=${KUBE_NODES:-3}
KUBE_ZONES=${KUBE_ZONES:-zone-a,zone-b,zone-c}
KUBE_NODE_CPU=${KUBE_NODE_CPU:-4}
KUBE_NODE_MEMORY=${KUBE_NODE_MEMORY:-16Gi}
KUBE_NODE_PODS=${KUBE_NODE_PODS:-110}
KUBE_NODE_LABELS=${KUBE_NODE_LABELS:-}
KUBE_NODE_TAINTS=${KUBE_NODE_TAINTS:-}
KUBE_HPA_SYNC_PERIOD=${KUBE_HPA_SYNC_PERIOD:-5s}
KUBE_START_TIMEOUT=${KUBE_START_TIMEOUT:-120}
KUBE_STOP_TIMEOUT=${KUBE_STOP_TIMEOUT:-30}
KUBE_BUILD_TIMEOUT=${KUBE_BUILD_TIMEOUT:-3600}
KUBE_GO=${KUBE_GO:-go}

abs_path() {
  case "$1" in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s\n' "$REPO_ROOT/$1" ;;
  esac
}
# Relative paths are taken from the repository root, so the script behaves the same from any cwd.
DATA_DIR=$(abs_path "${KUBE_DATA_DIR:-data/kube}")
# Outside the clone: a second clone on the machine, and CI after a developer's run, reuse the binaries.
CACHE_ROOT=$(abs_path "${KUBE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/crowsnest/kube}")

PKI_DIR="$DATA_DIR/pki"
LOG_DIR="$DATA_DIR/logs"
RUN_DIR="$DATA_DIR/run"
ETCD_DIR="$DATA_DIR/etcd"
CONFIG_DIR="$DATA_DIR/config"
EXPOSE_DIR="$DATA_DIR/expose"
KUBECONFIG_FILE="$DATA_DIR/kubeconfig"
PORTS_FILE="$RUN_DIR/ports"
# Start order; stop goes the other way.
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)
# kwok manages only nodes carrying this annotation, so nodes created otherwise are left alone.
KWOK_ANNOTATION=kwok.x-k8s.io/node=fake

log() { printf 'kube.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

validate_env() {
  local name
  for name in KUBE_API_PORT KUBE_ETCD_PORT KUBE_ETCD_PEER_PORT KUBE_CM_PORT KUBE_SCHEDULER_PORT KUBE_KWOK_PORT; do
    [[ ${!name} =~ ^[0-9]+$ ]] && ((${!name} > 0 && ${!name} < 65536)) || die "$name must be a port number, got '${!name}'"
  done
  for name in KUBE_NODES KUBE_NODE_PODS KUBE_START_TIMEOUT KUBE_STOP_TIMEOUT KUBE_BUILD_TIMEOUT; do
    [[ ${!name} =~ ^[0-9]+$ ]] || die "$name must be a number, got '${!name}'"
  done
  local ports
  ports=$(printf '%s\n' "$KUBE_API_PORT" "$KUBE_ETCD_PORT" "$KUBE_ETCD_PEER_PORT" "$KUBE_CM_PORT" "$KUBE_SCHEDULER_PORT" "$KUBE_KWOK_PORT" | sort | uniq -d)
  [[ -z $ports ]] || die "KUBE_*_PORT values must differ (repeated: $(echo $ports))"
  [[ -n $KUBE_ZONES ]] || die "KUBE_ZONES must name at least one zone"
  # Checked here: inside the node template's command substitutions a `die` would only end a subshell.
  yaml_map "$KUBE_NODE_LABELS" 4 >/dev/null
  yaml_taints "$KUBE_NODE_TAINTS" >/dev/null
}

# ---------------------------------------------------------------------------------------------
# Build: the six binaries, compiled once per set of versions into $CACHE_ROOT/<key>/bin
# ---------------------------------------------------------------------------------------------
module_version() { sed -n "s|^require $2 \(v[^ ]*\)$|\1|p" "$MODULES_DIR/$1/go.mod"; }
KUBE_VERSION=$(module_version kubernetes k8s.io/kubernetes)
ETCD_VERSION=$(module_version etcd go.etcd.io/etcd/server/v3)

go_version() { "$KUBE_GO" env GOVERSION; }

# Every version that goes into the binaries, plus a digest of the wrapper modules (a changed replace or
# go.sum line is a different build): one cache folder per key, never overwritten.
cache_key() {
  local digest
  digest=$(cat "$MODULES_DIR"/*/go.mod "$MODULES_DIR"/*/go.sum "$MODULES_DIR"/*/tools.go | sha256sum | cut -c1-12)
  printf 'k8s-%s_etcd-%s_kwok-%s_%s_%s\n' "$KUBE_VERSION" "$ETCD_VERSION" "$KWOK_VERSION" "$(go_version)" "$digest"
}

# Where the binaries of this checkout's versions are (or will be). Without Go, the newest complete build
# of these component versions is accepted, so a machine that only runs clusters needs no toolchain.
resolve_bin_dir() {
  if command -v "$KUBE_GO" >/dev/null 2>&1; then
    BUILD_DIR="$CACHE_ROOT/$(cache_key)"
  else
    BUILD_DIR=$(ls -d "$CACHE_ROOT/k8s-${KUBE_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}_"*/ 2>/dev/null | tail -n 1 || true)
    BUILD_DIR=${BUILD_DIR%/}
    [[ -n $BUILD_DIR ]] || die "Go ('$KUBE_GO') not found and no prebuilt binaries in $CACHE_ROOT: install Go ≥ 1.25 to build them"
  fi
  BIN_DIR="$BUILD_DIR/bin"
  STAGES_FILE="$BUILD_DIR/kwok-stages.yaml"
}

# The staging modules k8s.io/kubernetes replaces must all be replaced here too, at the matching release.
check_replaces() {
  local gomod staging want have
  gomod=$(cd "$1" && "$KUBE_GO" mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/^\t"GoMod": "\(.*\)",$/\1/p')
  [[ -f $gomod ]] || die "could not read k8s.io/kubernetes@$KUBE_VERSION's go.mod"
  staging="v0.${KUBE_VERSION#v1.}"
  want=$(awk '/^replace \(/{f=1;next} f&&/^\)/{f=0} f&&$2=="=>"{print $1}' "$gomod" | sort)
  have=$(awk -v v="$staging" '/^replace \(/{f=1;next} f&&/^\)/{f=0} f&&$2=="=>"&&$4==v{print $1}' "$MODULES_DIR/kubernetes/go.mod" | sort)
  [[ $want == "$have" ]] || die "deploy/local/kube/kubernetes/go.mod must replace exactly these modules with $staging: $(echo $want)"
}

build() {
  command -v "$KUBE_GO" >/dev/null 2>&1 || die "Go ('$KUBE_GO') not found: it builds the Kubernetes binaries (see deploy/README.md)"
  resolve_bin_dir
  [[ -f $BUILD_DIR/.complete ]] && return 0
  mkdir -p "$CACHE_ROOT"
  # Data dirs have their own locks but share the binary cache: one build at a time per cache.
  exec 8>"$CACHE_ROOT/.lock"
  flock -w "$KUBE_BUILD_TIMEOUT" 8 || die "another kube.sh is building into $CACHE_ROOT"
  if [[ -f $BUILD_DIR/.complete ]]; then
    exec 8>&-
    return 0
  fi
  # Left behind by an interrupted build; nobody else is building while we hold the lock.
  rm -rf "$CACHE_ROOT"/.build-*
  local staging started
  staging=$(mktemp -d "$CACHE_ROOT/.build-XXXXXX")
  started=$SECONDS
  log "building Kubernetes $KUBE_VERSION, etcd $ETCD_VERSION and kwok $KWOK_VERSION with $(go_version) into $BUILD_DIR"
  log "(cold: about 10 minutes on 2 cores and 5 GB of Go caches; later builds reuse them, and starts reuse the binaries)"
  cp -r "$MODULES_DIR" "$staging/src"
  mkdir -p "$staging/bin"
  # The module's go.mod and go.sum are committed: readonly means a missing or wrong line fails loudly
  # instead of being fetched silently. GOTOOLCHAIN=local: build with the Go that is installed.
  export GOFLAGS="${GOFLAGS:-} -mod=readonly" GOTOOLCHAIN=local CGO_ENABLED=0
  check_replaces "$staging/src/kubernetes"
  local minor=${KUBE_VERSION#v1.}
  minor=${minor%%.*}
  local date
  date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  # Without these stamps /version says v0.0.0-master and kubectl warns about version skew.
  local ldflags="-s -w"
  local pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$date"
  done
  if ! (cd "$staging/src/kubernetes" && "$KUBE_GO" build -trimpath -ldflags "$ldflags" -o "$staging/bin/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl) >"$staging/build.log" 2>&1; then
    tail -n 40 "$staging/build.log" >&2
    die "building Kubernetes $KUBE_VERSION failed (log above)"
  fi
  log "Kubernetes built in $((SECONDS - started))s"
  if ! (cd "$staging/src/etcd" && "$KUBE_GO" build -trimpath -ldflags "-s -w" -o "$staging/bin/etcd" \
    go.etcd.io/etcd/server/v3) >>"$staging/build.log" 2>&1; then
    tail -n 40 "$staging/build.log" >&2
    die "building etcd $ETCD_VERSION failed (log above)"
  fi
  # kwok builds as released; `go install` outside a module, so our GOFLAGS' -mod does not apply.
  if ! (cd "$staging" && GOFLAGS= GOBIN="$staging/bin" "$KUBE_GO" install -trimpath -ldflags "-s -w" \
    "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION") >>"$staging/build.log" 2>&1; then
    tail -n 40 "$staging/build.log" >&2
    die "building kwok $KWOK_VERSION failed (log above)"
  fi
  write_stages "$staging"
  {
    printf 'kubernetes %s\netcd %s\nkwok %s\ngo %s\nbuilt %s in %ss\n' "$KUBE_VERSION" "$ETCD_VERSION" \
      "$KWOK_VERSION" "$(go_version)" "$date" "$((SECONDS - started))"
  } >"$staging/VERSIONS"
  rm -rf "$staging/src"
  touch "$staging/.complete"
  # Rename last: an interrupted build never looks like a usable one.
  rm -rf "$BUILD_DIR"
  mv -T "$staging" "$BUILD_DIR"
  exec 8>&-
  log "built in $((SECONDS - started))s: $(du -sh "$BIN_DIR" | cut -f1) in $BIN_DIR"
}

# kwok refuses to start without Stage objects (what happens to a node or pod, when): take the ones its own
# release ships in kustomize/stage/, from the module the binary was built from.
write_stages() {
  local dir
  dir=$(GOFLAGS= "$KUBE_GO" mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [[ -d $dir/kustomize/stage ]] || die "kwok $KWOK_VERSION's module has no kustomize/stage"
  local f first=1
  for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
    pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
    [[ -f $dir/kustomize/stage/$f ]] || die "kwok $KWOK_VERSION has no stage $f"
    ((first)) || printf -- '---\n'
    first=0
    cat "$dir/kustomize/stage/$f"
  done >"$1/kwok-stages.yaml"
}


# ---------------------------------------------------------------------------------------------
# PKI: one cluster CA, a front-proxy CA for the aggregation layer, service-account keys, and a client
# certificate per component. ECDSA P-256 (fast to make); made once per data dir.
# ---------------------------------------------------------------------------------------------
new_key() {
  (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null)
}

# $1: file stem in $PKI_DIR, $2: common name
new_ca() {
  new_key "$PKI_DIR/$1.key"
  openssl req -x509 -new -key "$PKI_DIR/$1.key" -subj "/CN=$2" -days 3650 -sha256 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,digitalSignature,keyCertSign,cRLSign" \
    -out "$PKI_DIR/$1.crt" 2>/dev/null
}

# $1: CA stem in $PKI_DIR, $2: output stem (path without .crt/.key), $3: subject, $4: serverAuth or
# clientAuth, $5: subjectAltName (server certificates)
sign_cert() {
  local ext="basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=$4"
  [[ -z ${5:-} ]] || ext+="
subjectAltName=$5"
  new_key "$2.key"
  openssl req -new -key "$2.key" -subj "$3" 2>/dev/null |
    openssl x509 -req -CA "$PKI_DIR/$1.crt" -CAkey "$PKI_DIR/$1.key" -set_serial "0x$(openssl rand -hex 16)" \
      -days 825 -sha256 -extfile <(printf '%s\n' "$ext") -out "$2.crt" 2>/dev/null
}

make_pki() {
  [[ -f $PKI_DIR/.complete ]] && return 0
  command -v openssl >/dev/null 2>&1 || die "openssl not found: it makes the cluster's certificates"
  rm -rf "$PKI_DIR"
  mkdir -p "$PKI_DIR"
  log "making the cluster's PKI in $PKI_DIR"
  new_ca ca crowsnest-local-ca
  new_ca front-proxy-ca crowsnest-local-front-proxy-ca
  # The API server's serving certificate: loopback plus the in-cluster names of the kubernetes Service.
  sign_cert ca "$PKI_DIR/apiserver" /CN=kube-apiserver serverAuth \
    "IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  # system:masters for the admin (the user's and the tests' kubeconfig) and kwok, which updates any
  # node's and pod's status as if it were each node's kubelet.
  sign_cert ca "$PKI_DIR/admin" "/O=system:masters/CN=crowsnest-admin" clientAuth
  sign_cert ca "$PKI_DIR/kwok" "/O=system:masters/CN=kwok" clientAuth
  # The names bootstrap RBAC grants the controller manager's and scheduler's permissions to.
  sign_cert ca "$PKI_DIR/controller-manager" /CN=system:kube-controller-manager clientAuth
  sign_cert ca "$PKI_DIR/scheduler" /CN=system:kube-scheduler clientAuth
  # The aggregation layer proxies to extension API servers with this certificate; they trust it through
  # the front-proxy CA published in kube-system/extension-apiserver-authentication.
  sign_cert front-proxy-ca "$PKI_DIR/front-proxy-client" /CN=front-proxy-client clientAuth
  (umask 077 && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$PKI_DIR/sa.key" 2>/dev/null)
  openssl pkey -in "$PKI_DIR/sa.key" -pubout -out "$PKI_DIR/sa.pub" 2>/dev/null
  touch "$PKI_DIR/.complete"
}

b64() { base64 -w0 <"$1"; }

# $1: file, $2: certificate stem in $PKI_DIR, $3: API port. Certificates embedded: the file is self-contained.
write_kubeconfig() {
  local tmp="$1.tmp"
  cat >"$tmp" <<KUBECONFIG
# Generated by deploy/local/kube.sh on every start.
apiVersion: v1
kind: Config
clusters:
  - name: crowsnest-local
    cluster:
      server: https://$KUBE_HOST:$3
      certificate-authority-data: $(b64 "$PKI_DIR/ca.crt")
users:
  - name: $2
    user:
      client-certificate-data: $(b64 "$PKI_DIR/$2.crt")
      client-key-data: $(b64 "$PKI_DIR/$2.key")
contexts:
  - name: crowsnest-local
    context: { cluster: crowsnest-local, user: $2 }
current-context: crowsnest-local
KUBECONFIG
  chmod 600 "$tmp"
  mv "$tmp" "$1"
}

# ---------------------------------------------------------------------------------------------
# Nodes: kwok plays their kubelets
# ---------------------------------------------------------------------------------------------
# "k=v,k2=v2" to YAML map lines at indent $2
yaml_map() {
  local item
  local -a items
  IFS=, read -r -a items <<<"$1"
  for item in ${items[@]+"${items[@]}"}; do
    [[ $item == *=* ]] || die "label '$item' is not key=value (KUBE_NODE_LABELS)"
    printf '%*s%s: "%s"\n' "$2" '' "${item%%=*}" "${item#*=}"
  done
}

# "key=value:Effect,key:Effect" to a YAML taint list at indent 4
yaml_taints() {
  local item key value effect
  local -a items
  IFS=, read -r -a items <<<"$1"
  for item in ${items[@]+"${items[@]}"}; do
    [[ $item == *:* ]] || die "taint '$item' is not key[=value]:Effect (KUBE_NODE_TAINTS)"
    effect=${item##*:}
    key=${item%:*}
    value=""
    if [[ $key == *=* ]]; then
      value=${key#*=}
      key=${key%%=*}
    fi
    [[ $effect =~ ^(NoSchedule|PreferNoSchedule|NoExecute)$ ]] || die "taint effect '$effect' is not NoSchedule, PreferNoSchedule or NoExecute"
    printf '    - { key: "%s", value: "%s", effect: %s }\n' "$key" "$value" "$effect"
  done
}

write_nodes() {
  local -a zones
  IFS=, read -r -a zones <<<"$KUBE_ZONES"
  local i zone name
  for ((i = 0; i < KUBE_NODES; i++)); do
    zone=${zones[i % ${#zones[@]}]}
    name="kwok-node-$i"
    cat <<NODE
---
apiVersion: v1
kind: Node
metadata:
  name: $name
  annotations:
    ${KWOK_ANNOTATION%%=*}: ${KWOK_ANNOTATION#*=}
  labels:
    kubernetes.io/hostname: $name
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    topology.kubernetes.io/region: local
    topology.kubernetes.io/zone: $zone
    type: kwok
$(yaml_map "$KUBE_NODE_LABELS" 4)
spec:
  taints:
$(yaml_taints "$KUBE_NODE_TAINTS")
status:
  allocatable: { cpu: "$KUBE_NODE_CPU", memory: "$KUBE_NODE_MEMORY", pods: "$KUBE_NODE_PODS" }
  capacity: { cpu: "$KUBE_NODE_CPU", memory: "$KUBE_NODE_MEMORY", pods: "$KUBE_NODE_PODS" }
  nodeInfo: { architecture: amd64, operatingSystem: linux, kubeletVersion: fake, kubeProxyVersion: fake }
NODE
  done
}

# ---------------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------------
# The PID in a component's PID file, only if that process is still that component of this data dir: a PID
# reused by an unrelated process after a crash or reboot must never be signalled.
component_pid() {
  local file="$RUN_DIR/$1.pid" pid
  [[ -f $file ]] || return 1
  pid=$(tr -dc '0-9' <"$file" 2>/dev/null || true)
  [[ -n $pid && -r /proc/$pid/cmdline ]] || return 1
  local -a argv
  mapfile -d '' -t argv <"/proc/$pid/cmdline" 2>/dev/null || return 1
  [[ ${#argv[@]} -gt 0 && $(basename -- "${argv[0]}") == "$1" ]] || return 1
  [[ " ${argv[*]} " == *"$DATA_DIR/"* ]] || return 1
  printf '%s\n' "$pid"
}

running_components() {
  local name
  for name in "${COMPONENTS[@]}"; do
    if component_pid "$name" >/dev/null; then printf '%s\n' "$name"; fi
  done
}

port_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/$KUBE_HOST/$1" 2>/dev/null
}

# $1: component, then its arguments. setsid: the cluster outlives this script and the terminal or test
# runner that called it. The inner shell records its PID and becomes the component (exec).
launch() {
  local name=$1
  shift
  rm -f "$RUN_DIR/$name.pid"
  if [[ -s $LOG_DIR/$name.log ]]; then mv -f "$LOG_DIR/$name.log" "$LOG_DIR/$name.log.1"; fi
  setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$RUN_DIR/$name.pid" "$BIN_DIR/$name" "$@" \
    </dev/null >"$LOG_DIR/$name.log" 2>&1 8>&- 9>&- &
}

# $1: component, $2: a command that succeeds once it is ready; $3: deadline (SECONDS)
wait_ready() {
  local name=$1 check=$2 deadline=$3 pid
  while ((SECONDS < deadline)); do
    if ! pid=$(component_pid "$name"); then
      # The PID file is written a moment after the fork; only a recorded process that is gone is fatal.
      pid=$( { tr -dc '0-9' <"$RUN_DIR/$name.pid"; } 2>/dev/null || true)
      if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
        log "last lines of $LOG_DIR/$name.log:"
        tail -n 30 "$LOG_DIR/$name.log" >&2 || true
        die "$name exited during start-up"
      fi
    elif eval "$check" >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.3
  done
  log "last lines of $LOG_DIR/$name.log:"
  tail -n 30 "$LOG_DIR/$name.log" >&2 || true
  die "$name was not ready within ${KUBE_START_TIMEOUT}s (KUBE_START_TIMEOUT)"
}

# The ports a running cluster was started with win over the environment: its kubeconfig already names them.
load_ports() {
  if [[ -f $PORTS_FILE && -n $(running_components) ]]; then
    # shellcheck disable=SC1090
    source "$PORTS_FILE"
  fi
}

save_ports() {
  local name
  for name in KUBE_API_PORT KUBE_ETCD_PORT KUBE_ETCD_PEER_PORT KUBE_CM_PORT KUBE_SCHEDULER_PORT KUBE_KWOK_PORT; do
    printf '%s=%s\n' "$name" "${!name}"
  done >"$PORTS_FILE"
}

kubectl_() { "$BIN_DIR/kubectl" --kubeconfig "$KUBECONFIG_FILE" "$@"; }

api_ready() {
  [[ $(curl -sS --max-time 2 --cacert "$PKI_DIR/ca.crt" --cert "$PKI_DIR/admin.crt" --key "$PKI_DIR/admin.key" \
    "https://$KUBE_HOST:$KUBE_API_PORT/readyz") == ok ]]
}

# $1: port; the components' health endpoints are open to anonymous requests, over their self-signed TLS.
healthz_ok() { [[ $(curl -sSk --max-time 2 "https://$KUBE_HOST:$1/healthz") == ok ]]; }

start_component() {
  local name=$1 deadline=$2
  if component_pid "$name" >/dev/null; then return 0; fi
  case $name in
    etcd)
      port_free "$KUBE_ETCD_PORT" KUBE_ETCD_PORT
      port_free "$KUBE_ETCD_PEER_PORT" KUBE_ETCD_PEER_PORT
      # --unsafe-no-fsync: a throwaway test cluster trades durability on power loss for speed.
      launch etcd --name=crowsnest --data-dir="$ETCD_DIR" \
        --listen-client-urls="http://$KUBE_HOST:$KUBE_ETCD_PORT" --advertise-client-urls="http://$KUBE_HOST:$KUBE_ETCD_PORT" \
        --listen-peer-urls="http://$KUBE_HOST:$KUBE_ETCD_PEER_PORT" --initial-advertise-peer-urls="http://$KUBE_HOST:$KUBE_ETCD_PEER_PORT" \
        --initial-cluster="crowsnest=http://$KUBE_HOST:$KUBE_ETCD_PEER_PORT" --unsafe-no-fsync --log-level=warn
      wait_ready etcd "[[ \$(curl -sS --max-time 2 http://$KUBE_HOST:$KUBE_ETCD_PORT/health) == *'\"health\":\"true\"'* ]]" "$deadline"
      ;;
    kube-apiserver)
      port_free "$KUBE_API_PORT" KUBE_API_PORT
      # --endpoint-reconciler-type=none: the kubernetes Service would otherwise get 127.0.0.1 as its
      # endpoint, which the API rejects. The requestheader/proxy-client flags enable the aggregation
      # layer; --enable-aggregator-routing sends its requests (and webhooks') to a Service's endpoints,
      # which is how `expose` reaches processes on this machine.
      launch kube-apiserver --bind-address="$KUBE_HOST" --advertise-address="$KUBE_HOST" --secure-port="$KUBE_API_PORT" \
        --etcd-servers="http://$KUBE_HOST:$KUBE_ETCD_PORT" \
        --authorization-mode=Node,RBAC --client-ca-file="$PKI_DIR/ca.crt" \
        --tls-cert-file="$PKI_DIR/apiserver.crt" --tls-private-key-file="$PKI_DIR/apiserver.key" \
        --service-cluster-ip-range=10.96.0.0/16 --endpoint-reconciler-type=none --allow-privileged=true \
        --service-account-issuer=https://kubernetes.default.svc.cluster.local \
        --service-account-key-file="$PKI_DIR/sa.pub" --service-account-signing-key-file="$PKI_DIR/sa.key" \
        --requestheader-client-ca-file="$PKI_DIR/front-proxy-ca.crt" --requestheader-allowed-names=front-proxy-client \
        --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
        --requestheader-extra-headers-prefix=X-Remote-Extra- \
        --proxy-client-cert-file="$PKI_DIR/front-proxy-client.crt" --proxy-client-key-file="$PKI_DIR/front-proxy-client.key" \
        --enable-aggregator-routing=true --profiling=false
      wait_ready kube-apiserver api_ready "$deadline"
      ;;
    kube-controller-manager)
      port_free "$KUBE_CM_PORT" KUBE_CM_PORT
      # --use-service-account-credentials: each controller acts as its own service account, so the HPA
      # controller gets the bootstrap role that lets it read custom and external metrics.
      launch kube-controller-manager --bind-address="$KUBE_HOST" --secure-port="$KUBE_CM_PORT" \
        --kubeconfig="$CONFIG_DIR/controller-manager.kubeconfig" \
        --authentication-kubeconfig="$CONFIG_DIR/controller-manager.kubeconfig" \
        --authorization-kubeconfig="$CONFIG_DIR/controller-manager.kubeconfig" \
        --leader-elect=false --use-service-account-credentials=true \
        --service-account-private-key-file="$PKI_DIR/sa.key" --root-ca-file="$PKI_DIR/ca.crt" \
        --cluster-signing-cert-file="$PKI_DIR/ca.crt" --cluster-signing-key-file="$PKI_DIR/ca.key" \
        --horizontal-pod-autoscaler-sync-period="$KUBE_HPA_SYNC_PERIOD" --profiling=false
      wait_ready kube-controller-manager "healthz_ok $KUBE_CM_PORT" "$deadline"
      ;;
    kube-scheduler)
      port_free "$KUBE_SCHEDULER_PORT" KUBE_SCHEDULER_PORT
      launch kube-scheduler --bind-address="$KUBE_HOST" --secure-port="$KUBE_SCHEDULER_PORT" \
        --kubeconfig="$CONFIG_DIR/scheduler.kubeconfig" \
        --authentication-kubeconfig="$CONFIG_DIR/scheduler.kubeconfig" \
        --authorization-kubeconfig="$CONFIG_DIR/scheduler.kubeconfig" \
        --leader-elect=false --profiling=false
      wait_ready kube-scheduler "healthz_ok $KUBE_SCHEDULER_PORT" "$deadline"
      ;;
    kwok)
      port_free "$KUBE_KWOK_PORT" KUBE_KWOK_PORT
      # --server-address: kwok's own server binds 0.0.0.0 otherwise. It manages only the nodes with
      # our annotation, and plays their kubelets through the stages in kwok-stages.yaml.
      launch kwok --kubeconfig="$CONFIG_DIR/kwok.kubeconfig" --config="$STAGES_FILE" \
        --manage-all-nodes=false --manage-nodes-with-annotation-selector="$KWOK_ANNOTATION" \
        --node-lease-duration-seconds=40 --cidr=10.244.0.0/16 --node-ip=10.0.0.1 \
        --server-address="$KUBE_HOST:$KUBE_KWOK_PORT"
      wait_ready kwok "[[ \$(curl -sS --max-time 2 http://$KUBE_HOST:$KUBE_KWOK_PORT/healthz) == ok ]]" "$deadline"
      ;;
  esac
  log "$name ready (pid $(component_pid "$name"), log $LOG_DIR/$name.log)"
}

port_free() {
  if port_open "$1"; then die "port $KUBE_HOST:$1 is taken by another process (set $2)"; fi
}

start_cluster() {
  local running
  running=$(running_components)
  load_ports
  if [[ $(printf '%s\n' "$running" | grep -c .) -eq ${#COMPONENTS[@]} ]] && api_ready; then
    log "already running (API https://$KUBE_HOST:$KUBE_API_PORT)"
    printf '%s\n' "$KUBECONFIG_FILE"
    return 0
  fi
  [[ -z $running ]] || log "partly running ($(echo $running)): starting the rest"
  build
  mkdir -p "$LOG_DIR" "$RUN_DIR" "$ETCD_DIR" "$CONFIG_DIR"
  make_pki
  save_ports
  write_kubeconfig "$KUBECONFIG_FILE" admin "$KUBE_API_PORT"
  local name
  for name in controller-manager scheduler kwok; do
    write_kubeconfig "$CONFIG_DIR/$name.kubeconfig" "$name" "$KUBE_API_PORT"
  done
  write_nodes >"$CONFIG_DIR/nodes.yaml"
  local started=$SECONDS deadline=$((SECONDS + KUBE_START_TIMEOUT))
  log "starting Kubernetes $KUBE_VERSION on https://$KUBE_HOST:$KUBE_API_PORT, data $DATA_DIR"
  for name in "${COMPONENTS[@]}"; do
    start_component "$name" "$deadline"
  done
  log "control plane ready in $((SECONDS - started))s"
  if ((KUBE_NODES > 0)); then
    # Server-side apply: a restart re-asserts labels, taints and capacity without a conflict.
    kubectl_ apply --server-side --force-conflicts --field-manager=kube.sh -f "$CONFIG_DIR/nodes.yaml" >/dev/null
    local nodes_ready=""
    while ((SECONDS < deadline)); do
      if kubectl_ wait --for=condition=Ready node -l type=kwok --timeout=2s >/dev/null 2>&1; then
        nodes_ready=1
        break
      fi
      sleep 0.3
    done
    [[ -n $nodes_ready ]] || die "kwok did not make the nodes Ready within ${KUBE_START_TIMEOUT}s (see $LOG_DIR/kwok.log)"
  fi
  # Pods need their namespace's default service account (the ServiceAccount admission plugin rejects them
  # until the controller manager has made it): ready means a Deployment can be created right away.
  while ! kubectl_ get serviceaccount default -n default >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "no default service account after ${KUBE_START_TIMEOUT}s (see $LOG_DIR/kube-controller-manager.log)"
    sleep 0.3
  done
  log "ready in $((SECONDS - started))s: $KUBE_NODES node(s) in zone(s) $KUBE_ZONES; kubectl: $0 kubectl …"
  printf '%s\n' "$KUBECONFIG_FILE"
}

# $@: components to stop together (SIGTERM to all, then wait for each, SIGKILL after KUBE_STOP_TIMEOUT).
stop_components() {
  local name pid
  local -a names=() pids=()
  for name in "$@"; do
    if pid=$(component_pid "$name"); then
      kill -TERM "$pid" 2>/dev/null || true
      names+=("$name")
      pids+=("$pid")
    else
      rm -f "$RUN_DIR/$name.pid"
    fi
  done
  local i deadline=$((SECONDS + KUBE_STOP_TIMEOUT))
  for i in "${!pids[@]}"; do
    name=${names[i]}
    pid=${pids[i]}
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "$name still running after ${KUBE_STOP_TIMEOUT}s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    fi
    rm -f "$RUN_DIR/$name.pid"
    log "stopped $name (pid $pid)"
  done
}

stop_cluster() {
  local running
  running=$(running_components)
  if [[ -z $running ]]; then
    rm -f "$RUN_DIR"/*.pid 2>/dev/null || true
    [[ ${1:-} == quiet ]] || log "not running"
    return 0
  fi
  # The API server's clients together (each takes ~2 s to shut down), then the API server, then its store.
  stop_components kwok kube-scheduler kube-controller-manager
  stop_components kube-apiserver
  stop_components etcd
}

status_cluster() {
  local running
  running=$(running_components)
  load_ports
  if [[ $(printf '%s\n' "$running" | grep -c .) -eq ${#COMPONENTS[@]} ]]; then
    local pids="" name
    for name in "${COMPONENTS[@]}"; do pids+=" $name=$(component_pid "$name")"; done
    printf 'running https://%s:%s (kubeconfig %s, Kubernetes %s,%s)\n' "$KUBE_HOST" "$KUBE_API_PORT" "$KUBECONFIG_FILE" "$KUBE_VERSION" "$pids"
    return 0
  fi
  if [[ -n $running ]]; then
    printf 'partial https://%s:%s (running: %s; data %s)\n' "$KUBE_HOST" "$KUBE_API_PORT" "$(echo $running)" "$DATA_DIR"
  else
    printf 'stopped https://%s:%s (data %s)\n' "$KUBE_HOST" "$KUBE_API_PORT" "$DATA_DIR"
  fi
  return 3
}

wipe_data() {
  local running
  running=$(running_components)
  [[ -z $running ]] || die "the cluster is running ($(echo $running)): stop it before wiping $DATA_DIR"
  if [[ -d $DATA_DIR ]]; then
    rm -rf "$DATA_DIR"
    log "removed $DATA_DIR (the binaries in $CACHE_ROOT stay)"
  else
    log "nothing to wipe at $DATA_DIR"
  fi
}

# ---------------------------------------------------------------------------------------------
# expose NAMESPACE/SERVICE PORT: a process on this machine as a Service the API server routes to
# ---------------------------------------------------------------------------------------------
# Endpoints and IPv4 EndpointSlices reject loopback addresses; an FQDN EndpointSlice whose "name" is
# 127.0.0.1 is accepted (the API server warns that FQDN slices are deprecated), and the API server, which
# routes to endpoints (--enable-aggregator-routing), dials it. The Service's port 443 (the default port of
# APIService and webhook service references) maps to PORT through the shared port name "https".
expose() {
  local target=${1:-} port=${2:-}
  [[ $target =~ ^([a-z0-9]([-a-z0-9]*[a-z0-9])?)/([a-z]([-a-z0-9]*[a-z0-9])?)$ ]] ||
    die "usage: $0 expose NAMESPACE/SERVICE PORT (DNS labels, e.g. crowsnest/metrics-adapter 6443)"
  local ns=${BASH_REMATCH[1]} svc=${BASH_REMATCH[3]}
  [[ $port =~ ^[0-9]+$ ]] && ((port > 0 && port < 65536)) || die "PORT must be a port number, got '$port'"
  status_cluster >/dev/null || die "the cluster is not running: $0 start"
  resolve_bin_dir
  kubectl_ apply --server-side --force-conflicts --field-manager=kube.sh -f - >/dev/null <<OBJECTS
apiVersion: v1
kind: Namespace
metadata: { name: $ns }
---
apiVersion: v1
kind: Service
metadata:
  name: $svc
  namespace: $ns
  labels: { app.kubernetes.io/managed-by: crowsnest-kube-sh }
spec:
  ports: [{ name: https, port: 443, targetPort: $port, protocol: TCP }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: $svc-host
  namespace: $ns
  labels: { kubernetes.io/service-name: $svc, endpointslice.kubernetes.io/managed-by: crowsnest.local-kube-sh }
addressType: FQDN
endpoints: [{ addresses: ["127.0.0.1"], conditions: { ready: true } }]
ports: [{ name: https, port: $port, protocol: TCP }]
OBJECTS
  local dir="$EXPOSE_DIR/$ns/$svc"
  mkdir -p "$dir"
  # A certificate the API server accepts for the Service: its DNS names, signed by the cluster CA (the
  # caBundle of an APIService or webhook is then pki/ca.crt). Remade when the cluster's CA changed.
  if ! openssl verify -CAfile "$PKI_DIR/ca.crt" "$dir/tls.crt" >/dev/null 2>&1; then
    sign_cert ca "$dir/tls" "/CN=$svc.$ns.svc" serverAuth \
      "DNS:$svc.$ns.svc,DNS:$svc.$ns.svc.cluster.local,DNS:$svc.$ns,DNS:$svc,DNS:localhost,IP:127.0.0.1"
  fi
  log "exposed 127.0.0.1:$port as service $ns/$svc (port 443), CA $PKI_DIR/ca.crt"
  printf '%s %s\n' "$dir/tls.crt" "$dir/tls.key"
}

# Serialize commands on one data dir: two concurrent `start`s must not launch two clusters.
with_lock() {
  mkdir -p "$DATA_DIR"
  exec 9>"$DATA_DIR/.lock"
  flock -w "$((KUBE_BUILD_TIMEOUT + KUBE_START_TIMEOUT))" 9 || die "another kube.sh holds $DATA_DIR/.lock"
  "$@"
}

usage() {
  die "usage: $0 build|start|stop|restart|status|wipe|kubectl ARGS…|expose NAMESPACE/SERVICE PORT"
}

command=${1:-}
[[ $# -gt 0 ]] && shift
case $command in
  build)
    validate_env
    build
    printf '%s\n' "$BIN_DIR"
    ;;
  start)
    validate_env
    with_lock start_cluster
    ;;
  stop) with_lock stop_cluster ;;
  restart)
    validate_env
    with_lock stop_cluster quiet
    with_lock start_cluster
    ;;
  status) status_cluster ;;
  wipe) with_lock wipe_data ;;
  kubectl)
    resolve_bin_dir
    [[ -x $BIN_DIR/kubectl ]] || die "kubectl not built yet: $0 build"
    [[ -f $KUBECONFIG_FILE ]] || die "no cluster in $DATA_DIR: $0 start"
    exec "$BIN_DIR/kubectl" --kubeconfig "$KUBECONFIG_FILE" "$@"
    ;;
  expose) with_lock expose "$@" ;;
  *) usage ;;
esac
