#!/usr/bin/env bash
# Copy throughput: `ferry cp` against `aws s3 cp --recursive` and `rclone copy`, all against one loopback S3
# server (s3proxy, ferry.testing.S3ServerMain) in the same run. Large files and many small files, upload and
# download, each tool at its defaults and at its best settings; prints medians, MB/s, files/s and the ratios.
# Run from anywhere as root on Debian:  bench/cp.sh      (knobs: see bench/README.md)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$root/bench/lib.sh"

# ---- knobs -------------------------------------------------------------------------------------------------
large_files=${BENCH_LARGE_FILES:-8}
large_mb=${BENCH_LARGE_MB:-128}
small_files=${BENCH_SMALL_FILES:-20000}
small_kb=${BENCH_SMALL_KB:-8}
repeat=${BENCH_REPEAT:-3}
work=${BENCH_WORK:-$root/bench/work}
out_file=${BENCH_OUT:-}
workloads=${BENCH_WORKLOADS:-large small}
directions=${BENCH_DIRECTIONS:-upload download}
tools=${BENCH_TOOLS:-ferry aws rclone}
run_timeout=${BENCH_TIMEOUT:-1800}
keep_data=${BENCH_KEEP_DATA:-1}
ferry_snapshot=${BENCH_FERRY_SNAPSHOT:-1}
# Best settings per tool, as agreed for this benchmark (bench/README.md says why each).
ferry_best_args=${BENCH_FERRY_BEST:--j 128}
rclone_best_small=${BENCH_RCLONE_BEST_SMALL:---transfers 64 --checkers 64}
rclone_best_large=${BENCH_RCLONE_BEST_LARGE:---transfers 8 --s3-upload-cutoff 64M --s3-upload-concurrency 8 --s3-chunk-size 64M --multi-thread-cutoff 64M --multi-thread-streams 8}
aws_best_concurrency=${BENCH_AWS_BEST_CONCURRENCY:-64}
aws_best_chunk=${BENCH_AWS_BEST_CHUNK:-64MB}

for knob in large_files large_mb small_files small_kb repeat run_timeout; do
  [[ ${!knob} =~ ^[1-9][0-9]*$ ]] || bench_die "$knob must be a positive integer, got '${!knob}' (see bench/README.md)"
done
for w in $workloads; do [[ $w == large || $w == small ]] || bench_die "BENCH_WORKLOADS: unknown workload '$w' (large, small)"; done
for d in $directions; do [[ $d == upload || $d == download ]] || bench_die "BENCH_DIRECTIONS: unknown direction '$d' (upload, download)"; done
for t in $tools; do [[ $t == ferry || $t == aws || $t == rclone ]] || bench_die "BENCH_TOOLS: unknown tool '$t' (ferry, aws, rclone)"; done
[[ $work == /* ]] || work="$PWD/$work"
[ "$(id -u)" -eq 0 ] || bench_log "warning: not root: cannot install packages or drop the page cache"

bucket=ferry-bench
# The fixed test credentials of ferry.testing.S3TestServer (ACCESS_KEY, SECRET_KEY): a loopback test server only.
access_key=ferry-test-access-key
secret_key=ferry-test-secret-key
region=us-east-1
aws_cli=/usr/bin/aws   # Debian's awscli; a pyenv shim may come earlier on PATH

data="$work/data"          # generated data sets, kept between runs (BENCH_KEEP_DATA=0 deletes them at exit)
s3dir="$work/s3"           # the server's objects: <s3dir>/<bucket>/<key>
scratch="$work/scratch"    # download destinations, one per run, deleted after each check
logs="$work/logs"          # tool output of the last run, one file per run
results="$work/results.tsv"
server_pid=

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$s3dir" "$scratch" "$work/warmup"
  [ "$keep_data" = 1 ] || rm -rf "$data"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$work" "$logs"
rm -rf "$s3dir" "$scratch" "$logs"/*
mkdir -p "$s3dir" "$scratch"

# ---- the machine, the tools, the build ---------------------------------------------------------------------
machine=$(bench_machine)
echo "# bench/cp.sh $(date -u +%Y-%m-%dT%H:%M:%SZ)"
printf '%s\n' "$machine"

bench_apt_install rclone /usr/bin/rclone
bench_apt_install awscli "$aws_cli"
command -v timeout >/dev/null || bench_die "timeout (coreutils) is missing"
bench_can_drop_caches || bench_log "warning: cannot drop the page cache (not root?): runs may read from memory"

bench_log "building Ferry (./ferry --version builds the distribution on first use)"
(cd "$root" && ./ferry --version) >"$logs/ferry-build.log" 2>&1 ||
  { tail -n 40 "$logs/ferry-build.log" >&2; bench_die "./ferry --version failed (log above, and $logs/ferry-build.log)"; }
ferry_version=$(sed -n '$p' "$logs/ferry-build.log")

# Freeze the distribution just built: the launcher in the checkout rebuilds when a source file changes, and a
# rebuild inside a timed run (someone editing the tree) would be measured as Ferry's time.
ferry_cmd="$root/ferry"
if [ "$ferry_snapshot" = 1 ]; then
  dist="$work/ferry-dist"
  rm -rf "$dist"
  mkdir -p "$dist/.mvn" "$dist/ferry-cli/target"
  cp "$root/ferry" "$dist/ferry"
  cp "$root/.mvn/jdk.sh" "$dist/.mvn/jdk.sh"
  cp -r "$root/ferry-cli/target/lib" "$dist/ferry-cli/target/lib"
  cp "$root"/ferry-cli/target/ferry-cli-*.jar "$dist/ferry-cli/target/"
  touch "$dist/ferry-cli/target/ferry.built"
  ferry_cmd="$dist/ferry"
  "$ferry_cmd" --version >/dev/null 2>&1 || bench_die "the frozen copy of Ferry in $dist does not start"
fi

# The server's build is skipped when nothing it is made from changed since the last run (BENCH_REBUILD=1 forces it).
server_stamp="$work/server-classpath.txt"
if [ "${BENCH_REBUILD:-0}" = 1 ] || [ ! -s "$server_stamp" ] || [ ! -s "$work/ferry-testing.jar" ] ||
  [ -n "$(find "$root/pom.xml" "$root/ferry-core" "$root/ferry-testing" \( -path '*/src/main/*' -o -name pom.xml \) \
    -newer "$server_stamp" -print -quit 2>/dev/null)" ]; then
  bench_log "building the S3 server (ferry-testing) and resolving its classpath"
  rm -f "$server_stamp"
  (
    cd "$root"
    ./mvnw -q -B -pl ferry-testing -am install -DskipTests
    ./mvnw -q -B -pl ferry-testing dependency:build-classpath -Dmdep.outputFile="$server_stamp.tmp"
  ) >"$logs/server-build.log" 2>&1 ||
    { tail -n 40 "$logs/server-build.log" >&2; bench_die "building ferry-testing failed (log above, and $logs/server-build.log)"; }
  # A copy of the module's jar, so that a rebuild of the tree during the run cannot pull it from under the server.
  server_jar=$(ls "$root"/ferry-testing/target/ferry-testing-*.jar 2>/dev/null | grep -v -e sources -e javadoc -e tests | sed -n 1p || true)
  [ -n "$server_jar" ] || bench_die "no ferry-testing jar under ferry-testing/target after the build"
  cp "$server_jar" "$work/ferry-testing.jar"
  mv "$server_stamp.tmp" "$server_stamp"
fi

. "$root/.mvn/jdk.sh"   # sets JAVA_HOME to a JDK 25
java_version=$("$JAVA_HOME/bin/java" -version 2>&1 | sed -n 1p)
aws_version=$("$aws_cli" --version 2>&1 | sed -n 1p)
rclone_version=$(env -u AWS_CA_BUNDLE rclone version 2>/dev/null | sed -n 1p)

# ---- the S3 server -----------------------------------------------------------------------------------------
bench_log "starting the S3 server"
# shellcheck disable=SC2086  # BENCH_SERVER_JAVA_OPTS is a list of options
"$JAVA_HOME/bin/java" ${BENCH_SERVER_JAVA_OPTS:-} -cp "$work/ferry-testing.jar:$(cat "$work/server-classpath.txt")" \
  ferry.testing.S3ServerMain --port 0 --folder "$s3dir" --bucket "$bucket" >"$logs/server.log" 2>&1 </dev/null &
server_pid=$!
endpoint=
deadline=$((SECONDS + 120))
while [ -z "$endpoint" ]; do
  kill -0 "$server_pid" 2>/dev/null ||
    { tail -n 40 "$logs/server.log" >&2; bench_die "the S3 server exited at start (log above, and $logs/server.log)"; }
  [ "$SECONDS" -lt "$deadline" ] ||
    { tail -n 40 "$logs/server.log" >&2; bench_die "the S3 server printed no endpoint within 120 s ($logs/server.log)"; }
  endpoint=$(sed -n 's/^endpoint=//p' "$logs/server.log" | sed -n 1p)
  [ -n "$endpoint" ] || sleep 0.2
done
port=${endpoint##*:}
[[ $endpoint == http://127.0.0.1:* && $port =~ ^[0-9]+$ ]] || bench_die "unexpected server endpoint '$endpoint'"
for _ in $(seq 1 100); do bench_port_open "$port" && break; sleep 0.1; done
bench_port_open "$port" || bench_die "the S3 server says $endpoint but the port does not answer"
bench_log "S3 server at $endpoint (pid $server_pid, objects in $s3dir)"

# ---- how each tool is run ----------------------------------------------------------------------------------
# Every tool gets the same credentials, and none reads the user's own AWS or rclone configuration.
printf '' >"$work/empty.conf"
printf '[default]\ns3 =\n    max_concurrent_requests = %s\n    multipart_chunksize = %s\n' \
  "$aws_best_concurrency" "$aws_best_chunk" >"$work/aws-best.conf"
common_env=(-u AWS_PROFILE -u AWS_SESSION_TOKEN -u AWS_DEFAULT_PROFILE
  AWS_CONFIG_FILE="$work/empty.conf" AWS_SHARED_CREDENTIALS_FILE="$work/empty.conf"
  AWS_ACCESS_KEY_ID="$access_key" AWS_SECRET_ACCESS_KEY="$secret_key" AWS_EC2_METADATA_DISABLED=true)
ferry_env=("${common_env[@]}" AWS_ENDPOINT_URL="$endpoint" AWS_REGION="$region" FERRY_HOME="$work/ferry-home")
aws_env=("${common_env[@]}" AWS_REGION="$region" AWS_DEFAULT_REGION="$region"
  AWS_REQUEST_CHECKSUM_CALCULATION=when_required AWS_RESPONSE_CHECKSUM_VALIDATION=when_required)
# Debian's rclone 1.60 refuses to start while AWS_CA_BUNDLE is set; remote X: is configured by variables only.
rclone_env=(-u AWS_CA_BUNDLE RCLONE_CONFIG="$work/empty.conf" RCLONE_CONFIG_X_TYPE=s3 RCLONE_CONFIG_X_PROVIDER=Other
  RCLONE_CONFIG_X_ENDPOINT="$endpoint" RCLONE_CONFIG_X_ACCESS_KEY_ID="$access_key"
  RCLONE_CONFIG_X_SECRET_ACCESS_KEY="$secret_key" RCLONE_CONFIG_X_REGION="$region")

# s3_uri TOOL PREFIX: how TOOL names s3://bucket/PREFIX/.
s3_uri() { if [ "$1" = rclone ]; then echo "X:$bucket/$2"; else echo "s3://$bucket/$2/"; fi; }

# tool_command TOOL SETTING WORKLOAD SRC DST: prints the command, one word a line (arrays do not cross $( )).
tool_command() {
  local tool=$1 setting=$2 workload=$3 src=$4 dst=$5 extra=()
  case $tool in
    ferry)
      [ "$setting" = defaults ] || read -r -a extra <<<"$ferry_best_args"
      printf '%s\n' env "${ferry_env[@]}" "$ferry_cmd" cp "${extra[@]}" "$src" "$dst" ;;
    aws)
      local config="$work/empty.conf"
      [ "$setting" = defaults ] || config="$work/aws-best.conf"
      printf '%s\n' env "${aws_env[@]}" AWS_CONFIG_FILE="$config" "$aws_cli" --endpoint-url "$endpoint" \
        s3 cp --recursive --only-show-errors --no-progress "$src" "$dst" ;;
    rclone)
      if [ "$setting" != defaults ]; then
        if [ "$workload" = large ]; then read -r -a extra <<<"$rclone_best_large"; else read -r -a extra <<<"$rclone_best_small"; fi
      fi
      printf '%s\n' env "${rclone_env[@]}" rclone copy "${extra[@]}" "$src" "$dst" ;;
  esac
}

setting_label() {
  case $1/$2 in
    */defaults) echo defaults ;;
    ferry/best) echo "$ferry_best_args" ;;
    aws/best) echo "max_concurrent_requests=$aws_best_concurrency, multipart_chunksize=$aws_best_chunk" ;;
    rclone/best) if [ "$3" = large ]; then echo "$rclone_best_large"; else echo "$rclone_best_small"; fi ;;
  esac
}

rclone_x() { env "${rclone_env[@]}" rclone "$@"; }

# remote_listing PREFIX: the objects below PREFIX as "relative/key<TAB>bytes", sorted (same form as bench_listing).
remote_listing() {
  rclone_x lsf -R --files-only --format ps --separator $'\t' "X:$bucket/$1" | LC_ALL=C sort
}

# check_listing EXPECTED ACTUAL: empty when they match, else a one-line reason.
check_listing() {
  cmp -s "$1" "$2" && return 0
  local want got
  read -r -a want <<<"$(bench_listing_totals "$1")"
  read -r -a got <<<"$(bench_listing_totals "$2")"
  if [ "${want[0]}" != "${got[0]}" ] || [ "${want[1]}" != "${got[1]}" ]; then
    echo "wrong copy: ${got[0]} files, ${got[1]} bytes; expected ${want[0]} files, ${want[1]} bytes"
  else
    echo "wrong copy: names or sizes differ, e.g. $(diff "$1" "$2" | grep -m 1 '^[<>]' | tr '\t' ' ')"
  fi
}

# ---- data sets ---------------------------------------------------------------------------------------------
# generate_large / generate_small reuse a data set made earlier with the same shape.
generate_large() {
  local spec="files=$large_files mb=$large_mb" dir="$data/large"
  if [ "$(cat "$data/large.spec" 2>/dev/null)" = "$spec" ] && [ -d "$dir" ]; then return 0; fi
  bench_log "generating $large_files files of $large_mb MiB of random bytes in $dir"
  rm -rf "$dir" "$data/large.spec"
  mkdir -p "$dir"
  local i
  for i in $(seq 1 "$large_files"); do
    head -c "$((large_mb * 1048576))" /dev/urandom >"$dir/.tmp" && mv "$dir/.tmp" "$(printf '%s/part-%04d.bin' "$dir" "$i")"
  done
  echo "$spec" >"$data/large.spec"
}

generate_small() {
  local spec="files=$small_files kb=$small_kb" dir="$data/small" per=200
  if [ "$(cat "$data/small.spec" 2>/dev/null)" = "$spec" ] && [ -d "$dir" ]; then return 0; fi
  bench_log "generating $small_files files of $small_kb KiB of random bytes in $dir (200 a folder)"
  rm -rf "$dir" "$data/small.spec"
  mkdir -p "$dir"
  local left=$small_files folder=0 n sub
  while [ "$left" -gt 0 ]; do
    n=$((left < per ? left : per))
    sub=$(printf '%s/d%04d' "$dir" "$folder")
    mkdir -p "$sub"
    # One process a folder: split cuts a stream of random bytes into n files named f0000, f0001, ...
    head -c "$((n * small_kb * 1024))" /dev/urandom | split -b "$((small_kb * 1024))" -a 4 -d - "$sub/f"
    left=$((left - n))
    folder=$((folder + 1))
  done
  echo "$spec" >"$data/small.spec"
}

mkdir -p "$data"
for w in $workloads; do
  "generate_$w"
  bench_listing "$data/$w" >"$work/$w.listing"
  read -r files bytes <<<"$(bench_listing_totals "$work/$w.listing")"
  declare "files_$w=$files" "bytes_$w=$bytes"
  bench_log "data set $w: $files files, $(bench_fmt_bytes "$bytes")"
done

# ---- warm-up and download sources --------------------------------------------------------------------------
# JIT-compiles the server's request path, and lets Ferry's launcher write its class-data archive, before any
# timed run. 200 objects up and down with each tool.
bench_log "warming up (200 PUTs and 200 GETs per tool)"
mkdir -p "$work/warmup/src"
head -c "$((200 * 4096))" /dev/urandom | split -b 4096 -a 3 -d - "$work/warmup/src/w"
for t in $tools; do
  mapfile -t cmd < <(tool_command "$t" best small "$work/warmup/src" "$(s3_uri "$t" "warmup/$t")")
  "${cmd[@]}" >"$logs/warmup-$t-up.log" 2>&1 ||
    { tail -n 20 "$logs/warmup-$t-up.log" >&2; bench_log "warning: warm-up upload with $t failed ($logs/warmup-$t-up.log)"; }
  mapfile -t cmd < <(tool_command "$t" best small "$(s3_uri "$t" "warmup/$t")" "$work/warmup/$t")
  "${cmd[@]}" >"$logs/warmup-$t-down.log" 2>&1 ||
    { tail -n 20 "$logs/warmup-$t-down.log" >&2; bench_log "warning: warm-up download with $t failed ($logs/warmup-$t-down.log)"; }
done
rm -rf "$work/warmup" "$s3dir/$bucket/warmup"

if [[ " $directions " == *" download "* ]]; then
  for w in $workloads; do
    bench_log "uploading the $w data set with rclone as the source of the download runs"
    mapfile -t cmd < <(tool_command rclone best "$w" "$data/$w" "$(s3_uri rclone "seed/$w")")
    "${cmd[@]}" >"$logs/seed-$w.log" 2>&1 || { tail -n 20 "$logs/seed-$w.log" >&2; bench_die "uploading the $w data set failed"; }
    remote_listing "seed/$w" >"$work/seed-$w.listing"
    reason=$(check_listing "$work/$w.listing" "$work/seed-$w.listing")
    [ -z "$reason" ] || bench_die "the uploaded $w data set is not right: $reason"
  done
fi

# ---- the timed runs ----------------------------------------------------------------------------------------
# run_one WORKLOAD DIRECTION TOOL SETTING REP: one timed copy into a fresh prefix or folder, then its check.
# Appends "workload direction tool setting rep seconds status" to $results (status "ok" or the reason).
run_one() {
  local w=$1 d=$2 t=$3 s=$4 rep=$5 id="$1-$2-$3-$4-$5" src dst local_dst= prefix= reason= rc=0 t0 t1 secs
  if [ "$d" = upload ]; then
    prefix="runs/$id"
    src="$data/$w"
    dst=$(s3_uri "$t" "$prefix")
  else
    local_dst="$scratch/$id"
    src=$(s3_uri "$t" "seed/$w")
    dst="$local_dst"
  fi
  local log="$logs/$id.log" cmd
  mapfile -t cmd < <(tool_command "$t" "$s" "$w" "$src" "$dst")
  printf '%q ' "${cmd[@]}" >"$log"
  printf '\n' >>"$log"
  bench_drop_caches
  t0=$(bench_now)
  timeout --foreground -k 10 "$run_timeout" "${cmd[@]}" >>"$log" 2>&1 || rc=$?
  t1=$(bench_now)
  secs=$(bench_elapsed "$t0" "$t1")
  if [ "$rc" -eq 124 ]; then
    reason="timed out after $run_timeout s"
  elif [ "$rc" -ne 0 ]; then
    local msg
    msg=$(sed 1d "$log" | grep -m 1 -i -E 'error|fail|exception' || true)
    [ -n "$msg" ] || msg=$(sed 1d "$log" | tail -n 1)
    msg=${msg//$'\t'/ }
    reason="exit code $rc: ${msg:0:200}"
  elif [ "$d" = upload ]; then
    remote_listing "$prefix" >"$work/actual.listing" 2>>"$log" || reason="cannot list the uploaded objects"
    [ -n "$reason" ] || reason=$(check_listing "$work/$w.listing" "$work/actual.listing")
  else
    if [ -d "$local_dst" ]; then
      bench_listing "$local_dst" >"$work/actual.listing"
      reason=$(check_listing "$work/$w.listing" "$work/actual.listing")
      # Same names and sizes; also compare the bytes of the first and last file.
      if [ -z "$reason" ]; then
        local f
        for f in "$(head -n 1 "$work/$w.listing" | cut -f 1)" "$(tail -n 1 "$work/$w.listing" | cut -f 1)"; do
          cmp -s "$data/$w/$f" "$local_dst/$f" || { reason="wrong copy: the bytes of $f differ"; break; }
        done
      fi
    else
      reason="wrong copy: $local_dst was not created"
    fi
  fi
  if [ -z "$reason" ]; then
    bench_log "  $id: $secs s"
  else
    bench_log "  $id: FAILED after $secs s: $reason (log: $log)"
    tail -n 5 "$log" | sed 's/^/      /' >&2
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$w" "$d" "$t" "$s" "$rep" "$secs" "${reason:-ok}" >>"$results"
  # Fresh prefix or folder for every run: delete this one's output (objects straight from the server's folder).
  [ -z "$prefix" ] || rm -rf "${s3dir:?}/$bucket/$prefix"
  [ -z "$local_dst" ] || rm -rf "$local_dst"
}

: >"$results"
total_runs=0
for w in $workloads; do for d in $directions; do for t in $tools; do total_runs=$((total_runs + 2 * repeat)); done; done; done
bench_log "timed runs: $total_runs (each tool at defaults and best, $repeat times each, interleaved)"
for w in $workloads; do
  for d in $directions; do
    bench_log "$w $d"
    # Repetitions outermost, so that a slow spell of the shared machine touches every tool alike.
    for rep in $(seq 1 "$repeat"); do
      for t in $tools; do
        for s in defaults best; do
          run_one "$w" "$d" "$t" "$s" "$rep"
        done
      done
    done
  done
done

# ---- the report --------------------------------------------------------------------------------------------
# One row per workload, direction, tool and setting: median seconds of the runs, or why it failed.
summary="$work/summary.tsv"
: >"$summary"
for w in $workloads; do
  files_var="files_$w" bytes_var="bytes_$w"
  for d in $directions; do
    for t in $tools; do
      for s in defaults best; do
        mapfile -t times < <(awk -F '\t' -v w="$w" -v d="$d" -v t="$t" -v s="$s" \
          '$1 == w && $2 == d && $3 == t && $4 == s && $7 == "ok" { print $6 }' "$results")
        failures=$(awk -F '\t' -v w="$w" -v d="$d" -v t="$t" -v s="$s" \
          '$1 == w && $2 == d && $3 == t && $4 == s && $7 != "ok" { n++ } END { print n + 0 }' "$results")
        first_failure=$(awk -F '\t' -v w="$w" -v d="$d" -v t="$t" -v s="$s" \
          '$1 == w && $2 == d && $3 == t && $4 == s && $7 != "ok" { print $7; exit }' "$results")
        median=-
        [ "$failures" -gt 0 ] || [ "${#times[@]}" -eq 0 ] || median=$(bench_median "${times[@]}")
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$w" "$d" "$t" "$s" "$median" "${!files_var}" "${!bytes_var}" \
          "${#times[@]}/$((${#times[@]} + failures))" "$(setting_label "$t" "$s" "$w")" "$first_failure" >>"$summary"
      done
    done
  done
done

# report FORMAT: the results table and the ratios, as aligned text ("text") or markdown ("md").
report() {
  local format=$1
  awk -F '\t' -v format="$format" -v tools="$tools" '
    function row(cells, n,   i, line) {
      if (format == "md") { line = "|"; for (i = 1; i <= n; i++) line = line " " cells[i] " |"; print line }
      else { line = ""; for (i = 1; i <= n; i++) line = line sprintf("%-" width[i] "s  ", cells[i]); sub(/ +$/, "", line); print line }
    }
    function rule(n,   i, line) {
      if (format == "md") { line = "|"; for (i = 1; i <= n; i++) line = line (align[i] == "r" ? "---:|" : "---|"); print line }
    }
    function name(t) { return t == "ferry" ? "ferry cp" : t == "aws" ? "aws s3 cp --recursive" : "rclone copy" }
    function rate(x) { return sprintf(x < 10 ? "%.1f" : "%.0f", x) }
    function ratio(peer, mine) { return (peer > 0 && mine > 0) ? sprintf("%.2fx", peer / mine) : "-" }
    {
      key = $1 SUBSEP $2
      if (!(key in seen)) { seen[key] = 1; order[++groups] = key; wl[key] = $1; dir[key] = $2 }
      rows[key, ++count[key]] = $0
      if ($5 != "-") {
        if ($3 == "ferry") {
          if (!(key in fbest) || $5 < fbest[key]) { fbest[key] = $5; fbestset[key] = $4 }
          if ($4 == "defaults") fdef[key] = $5
        } else if (!(key in pbest) || $5 < pbest[key]) { pbest[key] = $5; pbestname[key] = name($3) " (" $4 ")" }
      }
    }
    END {
      split("8 9 22 8 9 7 8 4", width, " "); split("l l l l r r r r", align, " ")
      split("workload|direction|tool|setting|median s|MB/s|files/s|runs", h, "|")
      row(h, 8); rule(8)
      for (g = 1; g <= groups; g++) {
        key = order[g]
        for (i = 1; i <= count[key]; i++) {
          split(rows[key, i], f, "\t")
          c[1] = f[1]; c[2] = f[2]; c[3] = name(f[3]); c[4] = f[4]
          if (f[5] == "-") { c[5] = "FAILED"; c[6] = "-"; c[7] = "-" }
          else { c[5] = sprintf("%.2f", f[5]); c[6] = rate(f[7] / 1e6 / f[5]); c[7] = rate(f[6] / f[5]) }
          c[8] = f[8]
          row(c, 8)
        }
      }
      print ""
      split("8 9 24 16 40 10 14 12", width, " "); split("l l r r l r r l", align, " ")
      split("workload|direction|ferry best s|ferry defaults s|fastest peer s|ratio best|ratio defaults|target", h, "|")
      row(h, 8); rule(8)
      for (g = 1; g <= groups; g++) {
        key = order[g]
        target = wl[key] == "small" ? 1.5 : 1.0
        c[1] = wl[key]; c[2] = dir[key]
        c[3] = (key in fbest) ? sprintf("%.2f (%s)", fbest[key], fbestset[key]) : "FAILED"
        c[4] = (key in fdef) ? sprintf("%.2f", fdef[key]) : "FAILED"
        c[5] = (key in pbest) ? sprintf("%.2f %s", pbest[key], pbestname[key]) : "-"
        c[6] = (key in fbest && key in pbest) ? ratio(pbest[key], fbest[key]) : "-"
        c[7] = (key in fdef && key in pbest) ? ratio(pbest[key], fdef[key]) : "-"
        c[8] = sprintf(">= %.1fx", target)
        if (key in fbest && key in pbest) c[8] = c[8] (pbest[key] / fbest[key] >= target ? " met" : " MISSED")
        row(c, 8)
      }
    }' "$summary"
  local failed
  failed=$(awk -F '\t' '$5 == "-" { printf "%s %s %s (%s): %s\n", $1, $2, $3, $4, $10 }' "$summary")
  if [ -n "$failed" ]; then
    echo
    echo "Failed (first reason each; logs of the last run under $logs):"
    printf '%s\n' "$failed" | sed 's/^/- /'
  fi
}

notes() {
  local t best=()
  for t in $tools; do
    case $t in
      ferry) best+=("ferry cp \`$ferry_best_args\`") ;;
      aws) best+=("aws \`$(setting_label aws best)\`") ;;
      rclone) best+=("rclone copy \`$rclone_best_large\` (large), \`$rclone_best_small\` (small)") ;;
    esac
  done
  echo "- Ratio: the fastest peer's median time / Ferry's median time (above 1: Ferry is faster). MB/s: 10^6 bytes/s."
  echo "- Best settings: $(printf '%s; ' "${best[@]}" | sed 's/; $//')."
  echo "- Data: large = $large_files x $large_mb MiB of random bytes; small = $small_files x $small_kb KiB in folders of 200."
  echo "- Median of $repeat run(s) each, page cache dropped before every run, every copy checked (names, sizes, sample bytes)."
  echo "- Versions: $ferry_version; $aws_version; $rclone_version; $java_version; s3proxy 2.6.0 (filesystem-nio2) on loopback."
}

echo
echo "== results =="
report text
echo
notes

markdown() {
  echo "### bench/cp.sh, $(date -u +%Y-%m-%d)"
  echo
  printf '%s\n' "$machine" | sed 's/^/- /'
  echo
  report md
  echo
  notes
}
if [ -n "$out_file" ]; then
  markdown >"$out_file"
  bench_log "markdown written to $out_file"
else
  echo
  echo "== markdown (for bench/RESULTS.md) =="
  markdown
fi

# A wrong or failed copy makes the whole run fail, after the report.
if awk -F '\t' '$7 != "ok" { bad = 1 } END { exit !bad }' "$results"; then
  bench_log "some runs failed: see the report"
  exit 1
fi
