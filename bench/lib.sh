# Helpers shared by the scripts under bench/. Sourced, not run; needs bash 5 (EPOCHREALTIME).

# Progress goes to stderr so that stdout carries only the results.
bench_log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
bench_die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

# Wall-clock seconds with microseconds; some locales write EPOCHREALTIME with a comma.
bench_now() { printf '%s\n' "${EPOCHREALTIME/,/.}"; }
bench_elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", b - a }'; }

# Median of the numbers given as arguments (mean of the middle two for an even count).
bench_median() {
  printf '%s\n' "$@" | LC_ALL=C sort -g | awk '{ v[NR] = $1 }
    END { if (NR == 0) exit 1; m = int((NR + 1) / 2); printf "%.3f\n", (NR % 2) ? v[m] : (v[m] + v[m + 1]) / 2 }'
}

# Empties the page cache so that every run reads its source from disk; harmless where not permitted.
bench_drop_caches() {
  sync
  { echo 3 > /proc/sys/vm/drop_caches; } 2>/dev/null || true
}
bench_can_drop_caches() { sync; { echo 3 > /proc/sys/vm/drop_caches; } 2>/dev/null; }

# One line per fact about the machine, as "key: value".
bench_machine() {
  local cpu mem
  cpu=$(awk -F ': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
  mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
  printf 'host: %s\n' "$(uname -n)"
  printf 'cpus (nproc): %s\n' "$(nproc)"
  printf 'cpu model: %s\n' "${cpu:-unknown}"
  printf 'memory: %s\n' "$mem"
  printf 'kernel: %s\n' "$(uname -srm)"
  printf 'os: %s\n' "$(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-unknown}")"
}

# bench_apt_install PACKAGE COMMAND: installs PACKAGE with apt when COMMAND is not there yet.
bench_apt_install() {
  local package=$1 command=$2
  if [ -x "$command" ] || command -v "$command" >/dev/null 2>&1; then return 0; fi
  [ "$(id -u)" -eq 0 ] || bench_die "$command is missing: install the Debian package '$package' (apt-get install $package) or run as root"
  bench_log "installing $package (apt-get)"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$package" >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$package" >/dev/null ||
      bench_die "apt-get install $package failed"
  fi
}

# bench_port_open PORT: true when something accepts TCP connections on 127.0.0.1:PORT.
bench_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# bench_free_port: a loopback port nobody listens on (a random pick, checked).
bench_free_port() {
  local port tries
  for tries in $(seq 1 100); do
    port=$((20000 + RANDOM % 40000))
    bench_port_open "$port" || { echo "$port"; return 0; }
  done
  bench_die "found no free loopback port"
}

# bench_listing DIR: one line per regular file below DIR, "relative/path<TAB>bytes", sorted.
bench_listing() {
  (cd "$1" && find . -type f -printf '%P\t%s\n') | LC_ALL=C sort
}

# bench_listing_totals FILE: "files bytes" of a listing made by bench_listing.
bench_listing_totals() { awk -F '\t' '{ n++; b += $2 } END { printf "%d %d\n", n, b }' "$1"; }

# bench_fmt_bytes N: N bytes as a short human figure (binary units).
bench_fmt_bytes() {
  awk -v b="$1" 'BEGIN { split("B KiB MiB GiB TiB", u, " "); i = 1
    while (b >= 1024 && i < 5) { b /= 1024; i++ }
    printf (i == 1 ? "%d %s" : "%.1f %s"), b, u[i] }'
}
