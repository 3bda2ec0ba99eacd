# The harness shared by bench/cp.sh and bench/sync.sh: the knobs both take, the frozen Ferry, the loopback S3 server,
# how each tool is run, the data sets, the warm-up, timed runs and their checks, and the report. Sourced after
# lib.sh. A script sets these, then calls the common_* steps in order (cp.sh is the shortest example):
#   bench_script   its file name, for the headings (cp.sh)
#   bench_op       cp or sync: which command of each tool is measured (ferry cp / aws s3 cp --recursive / rclone
#                  copy, or ferry sync / aws s3 sync / rclone sync)
#   run_dir        its own files (logs, results, server objects, downloads); data sets and the server's build
#                  are shared by all scripts under $work

# ---- knobs -------------------------------------------------------------------------------------------------
# common_knobs DIRECTIONS [WORKLOADS [TOOLS]]: reads the BENCH_* variables (bench/README.md); DIRECTIONS, WORKLOADS
# and TOOLS are the script's directions, workloads and tools: the defaults of BENCH_DIRECTIONS, BENCH_WORKLOADS and
# BENCH_TOOLS and all they accept (workloads "large small" and tools "ferry aws rclone" unless given).
common_knobs() {
  local all_directions=$1 all_workloads=${2:-large small} all_tools=${3:-ferry aws rclone} knob w d t
  large_files=${BENCH_LARGE_FILES:-8}
  large_mb=${BENCH_LARGE_MB:-128}
  small_files=${BENCH_SMALL_FILES:-20000}
  small_kb=${BENCH_SMALL_KB:-8}
  repeat=${BENCH_REPEAT:-3}
  work=${BENCH_WORK:-$root/bench/work}
  out_file=${BENCH_OUT:-}
  workloads=${BENCH_WORKLOADS:-$all_workloads}
  directions=${BENCH_DIRECTIONS:-$all_directions}
  tools=${BENCH_TOOLS:-$all_tools}
  run_timeout=${BENCH_TIMEOUT:-1800}
  keep_data=${BENCH_KEEP_DATA:-1}
  ferry_snapshot=${BENCH_FERRY_SNAPSHOT:-1}
  # Best settings per tool, as agreed for this benchmark (bench/README.md says why each).
  ferry_best_args=${BENCH_FERRY_BEST:--j 128}
  rclone_best_small=${BENCH_RCLONE_BEST_SMALL:---transfers 64 --checkers 64}
  rclone_best_large=${BENCH_RCLONE_BEST_LARGE:---transfers 8 --s3-upload-cutoff 64M --s3-upload-concurrency 8 --s3-chunk-size 64M --multi-thread-cutoff 64M --multi-thread-streams 8}
  rclone_best_resync=${BENCH_RCLONE_BEST_RESYNC:---size-only}
  aws_best_concurrency=${BENCH_AWS_BEST_CONCURRENCY:-64}
  aws_best_chunk=${BENCH_AWS_BEST_CHUNK:-64MB}

  for knob in large_files large_mb small_files small_kb repeat run_timeout; do
    [[ ${!knob} =~ ^[1-9][0-9]*$ ]] || bench_die "$knob must be a positive integer, got '${!knob}' (see bench/README.md)"
  done
  for w in $workloads; do
    [[ " $all_workloads " == *" $w "* ]] || bench_die "BENCH_WORKLOADS: unknown workload '$w' (${all_workloads// /, })"
  done
  for d in $directions; do
    [[ " $all_directions " == *" $d "* ]] || bench_die "BENCH_DIRECTIONS: unknown direction '$d' (${all_directions// /, })"
  done
  for t in $tools; do [[ " $all_tools " == *" $t "* ]] || bench_die "BENCH_TOOLS: unknown tool '$t' (${all_tools// /, })"; done
  [[ $work == /* ]] || work="$PWD/$work"
  [ "$(id -u)" -eq 0 ] || bench_log "warning: not root: cannot install packages or drop the page cache"

  bucket=ferry-bench
  # The fixed test credentials of ferry.testing.S3TestServer (ACCESS_KEY, SECRET_KEY): a loopback test server only.
  access_key=ferry-test-access-key
  secret_key=ferry-test-secret-key
  region=us-east-1
  aws_cli=/usr/bin/aws   # Debian's awscli; a pyenv shim may come earlier on PATH
}

# ---- the work folder ---------------------------------------------------------------------------------------
# common_prepare: the folders, a lock (one benchmark at a time: two would measure each other), and the cleanup at exit.
# A script that sets keep_s3=1 keeps the server's objects between runs (it manages them itself; BENCH_KEEP_DATA=0
# still deletes them at exit). A script may add functions to cleanup_hooks: they run first at exit, while the server
# is still up (mount.sh unmounts there).
common_prepare() {
  run_dir=${run_dir:-$work}
  data="$work/data"             # generated data sets, kept between runs (BENCH_KEEP_DATA=0 deletes them at exit)
  s3dir="$run_dir/s3"           # the server's objects: <s3dir>/<bucket>/<key>
  scratch="$run_dir/scratch"    # download destinations, one per run, deleted after each check
  logs="$run_dir/logs"          # tool output of the last run, one file per run
  results="$run_dir/results.tsv"
  summary="$run_dir/summary.tsv"
  server_pid=
  cleanup_paths+=("$scratch" "$run_dir/warmup")
  if [ "${keep_s3:-0}" != 1 ] || [ "$keep_data" != 1 ]; then cleanup_paths+=("$s3dir"); fi

  mkdir -p "$work" "$run_dir" "$logs"
  exec {bench_lock_fd}>"$work/.lock"
  flock -n "$bench_lock_fd" || bench_die "another benchmark is running with the work folder $work"
  trap common_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  [ "${keep_s3:-0}" = 1 ] || rm -rf "$s3dir"
  rm -rf "$scratch" "$logs"/*
  mkdir -p "$s3dir" "$scratch" "$data"
}

common_cleanup() {
  local rc=$? hook
  trap - EXIT INT TERM
  for hook in "${cleanup_hooks[@]}"; do "$hook" || true; done
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "${cleanup_paths[@]}"
  [ "$keep_data" = 1 ] || rm -rf "$data"
  exit "$rc"
}

# ---- the machine, the tools, the build ---------------------------------------------------------------------
# common_tools: prints the heading and the machine, installs the peers, builds and freezes Ferry, builds the server.
# awscli is installed, and Ferry built, only when aws and ferry are among the tools (rclone always: scripts seed with it).
common_tools() {
  machine=$(bench_machine)
  echo "# bench/$bench_script $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  printf '%s\n' "$machine"

  bench_apt_install rclone /usr/bin/rclone
  [[ " $tools " != *" aws "* ]] || bench_apt_install awscli "$aws_cli"
  command -v timeout >/dev/null || bench_die "timeout (coreutils) is missing"
  bench_can_drop_caches || bench_log "warning: cannot drop the page cache (not root?): runs may read from memory"

  ferry_cmd=false ferry_version="ferry not run"
  [[ " $tools " != *" ferry "* ]] || common_build_ferry
  common_build_server
  . "$root/.mvn/jdk.sh"   # sets JAVA_HOME to a JDK 25
  java_version=$("$JAVA_HOME/bin/java" -version 2>&1 | sed -n 1p)
  aws_version="aws not run"
  [[ " $tools " != *" aws "* ]] || aws_version=$("$aws_cli" --version 2>&1 | sed -n 1p)
  rclone_version=$(env -u AWS_CA_BUNDLE rclone version 2>/dev/null | sed -n 1p)
}

# common_build_ferry: builds Ferry with ./ferry --version and freezes a copy of the distribution (BENCH_FERRY_SNAPSHOT).
common_build_ferry() {
  bench_log "building Ferry (./ferry --version builds the distribution on first use)"
  (cd "$root" && ./ferry --version) >"$logs/ferry-build.log" 2>&1 ||
    { tail -n 40 "$logs/ferry-build.log" >&2; bench_die "./ferry --version failed (log above, and $logs/ferry-build.log)"; }
  ferry_version=$(sed -n '$p' "$logs/ferry-build.log")

  # Freeze the distribution just built: the launcher in the checkout rebuilds when a source file changes, and a
  # rebuild inside a timed run (someone editing the tree) would be measured as Ferry's time.
  ferry_cmd="$root/ferry"
  if [ "$ferry_snapshot" = 1 ]; then
    local dist="$run_dir/ferry-dist"
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
}

# common_build_server: builds ferry-testing (the S3 server) and copies its classpath under $work, unless up to date.
common_build_server() {
  # The server's build is skipped when nothing it is made from changed since the last run (BENCH_REBUILD=1 forces
  # it, BENCH_REBUILD=never skips it whenever a build is there). It installs nothing into ~/.m2: the module's jar
  # and every jar of its classpath are copied to $work/server-lib, so that no build of this or another tree can
  # pull one from under the server during a run.
  local server_stamp="$work/server-classpath.txt" rebuild=${BENCH_REBUILD:-0}
  if [ ! -s "$server_stamp" ] || [ ! -s "$work/ferry-testing.jar" ] || [ "$rebuild" = 1 ] ||
    { [ "$rebuild" != never ] && [ -n "$(find "$root/pom.xml" "$root/ferry-core" "$root/ferry-testing" \
      \( -path '*/src/main/*' -o -name pom.xml \) -newer "$server_stamp" -print -quit 2>/dev/null)" ]; }; then
    bench_log "building the S3 server (ferry-testing) and resolving its classpath"
    rm -f "$server_stamp"
    # In one reactor, so that ferry-core resolves to the jar just built, not to whatever ~/.m2 holds.
    (
      cd "$root"
      ./mvnw -q -B -pl ferry-testing -am package dependency:build-classpath -DskipTests -Dmdep.outputFile="$server_stamp.tmp"
    ) >"$logs/server-build.log" 2>&1 ||
      { tail -n 40 "$logs/server-build.log" >&2; bench_die "building ferry-testing failed (log above, and $logs/server-build.log)"; }
    local server_jar jar i=0 classpath=()
    server_jar=$(ls "$root"/ferry-testing/target/ferry-testing-*.jar 2>/dev/null | grep -v -e sources -e javadoc -e tests | sed -n 1p || true)
    [ -n "$server_jar" ] || bench_die "no ferry-testing jar under ferry-testing/target after the build"
    cp "$server_jar" "$work/ferry-testing.jar"
    rm -rf "$work/server-lib"
    mkdir -p "$work/server-lib"
    while IFS= read -r -d : jar; do
      [ -n "$jar" ] || continue
      [ -f "$jar" ] || bench_die "the server's classpath names $jar, which is not a jar file"
      i=$((i + 1))
      classpath+=("$(printf '%s/%03d-%s' "$work/server-lib" "$i" "${jar##*/}")")
      cp "$jar" "${classpath[-1]}"
    done < <(tr -d '\n' <"$server_stamp.tmp"; printf ':')
    (IFS=:; printf '%s\n' "${classpath[*]}") >"$server_stamp"
    rm -f "$server_stamp.tmp"
  fi
}

# ---- the S3 server and how each tool reaches it ------------------------------------------------------------
# common_start_server: starts ferry.testing.S3ServerMain on a free port, waits until it answers, sets $endpoint and
# the environment of each tool.
common_start_server() {
  bench_log "starting the S3 server"
  : >"$logs/server.log"   # before the server's shell opens it: the wait below reads it at once
  # shellcheck disable=SC2086  # BENCH_SERVER_JAVA_OPTS is a list of options
  "$JAVA_HOME/bin/java" ${BENCH_SERVER_JAVA_OPTS:-} -cp "$work/ferry-testing.jar:$(cat "$work/server-classpath.txt")" \
    ferry.testing.S3ServerMain --port 0 --folder "$s3dir" --bucket "$bucket" >"$logs/server.log" 2>&1 </dev/null &
  server_pid=$!
  endpoint=
  local deadline=$((SECONDS + 120)) port
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

  # Every tool gets the same credentials, and none reads the user's own AWS or rclone configuration.
  printf '' >"$run_dir/empty.conf"
  printf '[default]\ns3 =\n    max_concurrent_requests = %s\n    multipart_chunksize = %s\n' \
    "$aws_best_concurrency" "$aws_best_chunk" >"$run_dir/aws-best.conf"
  local common_env=(-u AWS_PROFILE -u AWS_SESSION_TOKEN -u AWS_DEFAULT_PROFILE
    AWS_CONFIG_FILE="$run_dir/empty.conf" AWS_SHARED_CREDENTIALS_FILE="$run_dir/empty.conf"
    AWS_ACCESS_KEY_ID="$access_key" AWS_SECRET_ACCESS_KEY="$secret_key" AWS_EC2_METADATA_DISABLED=true)
  # Ferry's FERRY_HOME is given per run (tool_command).
  ferry_env=("${common_env[@]}" AWS_ENDPOINT_URL="$endpoint" AWS_REGION="$region")
  aws_env=("${common_env[@]}" AWS_REGION="$region" AWS_DEFAULT_REGION="$region"
    AWS_REQUEST_CHECKSUM_CALCULATION=when_required AWS_RESPONSE_CHECKSUM_VALIDATION=when_required)
  # Debian's rclone 1.60 refuses to start while AWS_CA_BUNDLE is set; remote X: is configured by variables only.
  rclone_env=(-u AWS_CA_BUNDLE RCLONE_CONFIG="$run_dir/empty.conf" RCLONE_CONFIG_X_TYPE=s3 RCLONE_CONFIG_X_PROVIDER=Other
    RCLONE_CONFIG_X_ENDPOINT="$endpoint" RCLONE_CONFIG_X_ACCESS_KEY_ID="$access_key"
    RCLONE_CONFIG_X_SECRET_ACCESS_KEY="$secret_key" RCLONE_CONFIG_X_REGION="$region")
}

# s3_uri TOOL PREFIX: how TOOL names s3://bucket/PREFIX/.
s3_uri() { if [ "$1" = rclone ]; then echo "X:$bucket/$2"; else echo "s3://$bucket/$2/"; fi; }

# op_of DIRECTION: what is measured in DIRECTION: cp, sync, or resync (a no-change sync; only bench_op=sync has it).
op_of() { if [ "$bench_op" = cp ]; then echo cp; elif [ "$1" = resync ]; then echo resync; else echo sync; fi; }

# tool_command OP TOOL SETTING WORKLOAD SRC DST FERRY_HOME: prints the command, one word a line (arrays do not
# cross $( )). OP is cp, sync or resync; SETTING defaults or best.
tool_command() {
  local op=$1 tool=$2 setting=$3 workload=$4 src=$5 dst=$6 home=$7 extra=()
  case $tool in
    ferry)
      [ "$setting" = defaults ] || read -r -a extra <<<"$ferry_best_args"
      local command=cp
      [ "$op" = cp ] || command=sync
      printf '%s\n' env "${ferry_env[@]}" FERRY_HOME="$home" "$ferry_cmd" "$command" "${extra[@]}" "$src" "$dst" ;;
    aws)
      local config="$run_dir/empty.conf" command=(cp --recursive)
      [ "$setting" = defaults ] || config="$run_dir/aws-best.conf"
      [ "$op" = cp ] || command=(sync)
      printf '%s\n' env "${aws_env[@]}" AWS_CONFIG_FILE="$config" "$aws_cli" --endpoint-url "$endpoint" \
        s3 "${command[@]}" --only-show-errors --no-progress "$src" "$dst" ;;
    rclone)
      local command=copy
      [ "$op" = cp ] || command=sync
      if [ "$setting" != defaults ]; then read -r -a extra <<<"$(setting_label "$op" rclone best "$workload")"; fi
      printf '%s\n' env "${rclone_env[@]}" rclone "$command" "${extra[@]}" "$src" "$dst" ;;
  esac
}

# setting_label OP TOOL SETTING WORKLOAD: the options a setting stands for.
setting_label() {
  case $2/$3 in
    */defaults) echo defaults ;;
    ferry/best) echo "$ferry_best_args" ;;
    aws/best) echo "max_concurrent_requests=$aws_best_concurrency, multipart_chunksize=$aws_best_chunk" ;;
    rclone/best)
      if [ "$1" = resync ]; then echo "$rclone_best_resync"
      elif [ "$4" = large ]; then echo "$rclone_best_large"
      else echo "$rclone_best_small"; fi ;;
  esac
}

rclone_x() { env "${rclone_env[@]}" rclone "$@"; }

# ---- checks ------------------------------------------------------------------------------------------------
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

# check_upload WORKLOAD PREFIX LOG: empty when PREFIX holds exactly the data set's names and sizes, else why not.
check_upload() {
  remote_listing "$2" >"$run_dir/actual.listing" 2>>"$3" || { echo "cannot list the uploaded objects"; return 0; }
  check_listing "$run_dir/$1.listing" "$run_dir/actual.listing"
}

# check_download WORKLOAD FOLDER: empty when FOLDER holds exactly the data set's names and sizes, and its first and
# last files the same bytes, else why not.
check_download() {
  local w=$1 dir=$2 reason f
  [ -d "$dir" ] || { echo "wrong copy: $dir was not created"; return 0; }
  bench_listing "$dir" >"$run_dir/actual.listing"
  reason=$(check_listing "$run_dir/$w.listing" "$run_dir/actual.listing")
  if [ -z "$reason" ]; then
    for f in "$(head -n 1 "$run_dir/$w.listing" | cut -f 1)" "$(tail -n 1 "$run_dir/$w.listing" | cut -f 1)"; do
      cmp -s "$data/$w/$f" "$dir/$f" || { reason="wrong copy: the bytes of $f differ"; break; }
    done
  fi
  printf '%s' "$reason"
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

# common_data: generates the data sets, lists them ($run_dir/WORKLOAD.listing), sets files_WORKLOAD and bytes_WORKLOAD.
common_data() {
  local w files bytes
  for w in $workloads; do
    "generate_$w"
    bench_listing "$data/$w" >"$run_dir/$w.listing"
    read -r files bytes <<<"$(bench_listing_totals "$run_dir/$w.listing")"
    declare -g "files_$w=$files" "bytes_$w=$bytes"
    bench_log "data set $w: $files files, $(bench_fmt_bytes "$bytes")"
  done
}

# ---- warm-up and download sources --------------------------------------------------------------------------
# common_warmup FERRY_HOME: JIT-compiles the server's request path, and lets Ferry's launcher write its class-data
# archive, before any timed run. 200 objects up and down with each tool, through the command the script measures.
common_warmup() {
  local home=$1 op t cmd
  op=$(op_of upload)
  bench_log "warming up (200 PUTs and 200 GETs per tool)"
  mkdir -p "$run_dir/warmup/src"
  head -c "$((200 * 4096))" /dev/urandom | split -b 4096 -a 3 -d - "$run_dir/warmup/src/w"
  for t in $tools; do
    mapfile -t cmd < <(tool_command "$op" "$t" best small "$run_dir/warmup/src" "$(s3_uri "$t" "warmup/$t")" "$home")
    "${cmd[@]}" >"$logs/warmup-$t-up.log" 2>&1 ||
      { tail -n 20 "$logs/warmup-$t-up.log" >&2; bench_log "warning: warm-up upload with $t failed ($logs/warmup-$t-up.log)"; }
    mapfile -t cmd < <(tool_command "$op" "$t" best small "$(s3_uri "$t" "warmup/$t")" "$run_dir/warmup/$t" "$home")
    "${cmd[@]}" >"$logs/warmup-$t-down.log" 2>&1 ||
      { tail -n 20 "$logs/warmup-$t-down.log" >&2; bench_log "warning: warm-up download with $t failed ($logs/warmup-$t-down.log)"; }
  done
  rm -rf "$run_dir/warmup" "$s3dir/$bucket/warmup"
}

# common_seed: uploads each data set once with rclone, as the source of the download runs (seed/WORKLOAD), and checks it.
common_seed() {
  local w cmd reason
  for w in $workloads; do
    bench_log "uploading the $w data set with rclone as the source of the download runs"
    mapfile -t cmd < <(tool_command cp rclone best "$w" "$data/$w" "$(s3_uri rclone "seed/$w")" -)
    "${cmd[@]}" >"$logs/seed-$w.log" 2>&1 || { tail -n 20 "$logs/seed-$w.log" >&2; bench_die "uploading the $w data set failed"; }
    remote_listing "seed/$w" >"$run_dir/seed-$w.listing"
    reason=$(check_listing "$run_dir/$w.listing" "$run_dir/seed-$w.listing")
    [ -z "$reason" ] || bench_die "the uploaded $w data set is not right: $reason"
  done
}

# ---- timed runs --------------------------------------------------------------------------------------------
# timed_run LOG COMMAND...: drops the page cache and runs COMMAND under the timeout, its command line and output in
# LOG. Sets run_secs (wall-clock seconds) and run_reason (empty, or why it failed).
# After the page cache is dropped, read every tool's own program again (untimed): the data is cold, as on a first
# read, but the tools start as they do for a user who runs them every day. Without this a JVM tool would pay for
# reading its runtime from disk in every run, which says nothing about moving data.
warm_tools() {
  "$ferry_cmd" --version >/dev/null 2>&1 || true
  env "${rclone_env[@]}" rclone version >/dev/null 2>&1 || true
  "$aws_cli" --version >/dev/null 2>&1 || true
}

timed_run() {
  local log=$1 rc=0 t0 t1 msg
  shift
  printf '%q ' "$@" >"$log"
  printf '\n' >>"$log"
  bench_drop_caches
  warm_tools
  t0=$(bench_now)
  timeout --foreground -k 10 "$run_timeout" "$@" >>"$log" 2>&1 || rc=$?
  t1=$(bench_now)
  run_secs=$(bench_elapsed "$t0" "$t1")
  run_reason=
  if [ "$rc" -eq 124 ]; then
    run_reason="timed out after $run_timeout s"
  elif [ "$rc" -ne 0 ]; then
    msg=$(sed 1d "$log" | grep -m 1 -i -E 'error|fail|exception' || true)
    [ -n "$msg" ] || msg=$(sed 1d "$log" | tail -n 1)
    msg=${msg//$'\t'/ }
    run_reason="exit code $rc: ${msg:0:200}"
  fi
}

# record WORKLOAD DIRECTION TOOL SETTING REP SECONDS REASON LOG: logs the outcome of a run and appends
# "workload direction tool setting rep seconds status" to $results (status "ok" or the reason).
record() {
  local id="$1-$2-$3-$4-$5" secs=$6 reason=$7 log=$8
  if [ -z "$reason" ]; then
    bench_log "  $id: $secs s"
  else
    bench_log "  $id: FAILED after $secs s: $reason (log: $log)"
    tail -n 5 "$log" | sed 's/^/      /' >&2
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$secs" "${reason:-ok}" >>"$results"
}

# ---- the report --------------------------------------------------------------------------------------------
# common_summarize GROUP...: one row per GROUP ("workload/direction"), tool and setting in $summary: median seconds
# of the runs that passed (or "-" when one failed), files, bytes, runs passed, the setting's options, first failure.
common_summarize() {
  local g w d t s files_var bytes_var median failures first_failure times
  : >"$summary"
  for g in "$@"; do
    w=${g%/*} d=${g#*/} files_var="files_${g%/*}" bytes_var="bytes_${g%/*}"
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
          "${#times[@]}/$((${#times[@]} + failures))" "$(setting_label "$(op_of "$d")" "$t" "$s" "$w")" "$first_failure" >>"$summary"
      done
    done
  done
}

# The targets of issues 2 and 3: Ferry at its best setting against the fastest peer at its best, as the peer's time
# over Ferry's; a no-change re-sync also has to finish within resync_max_seconds.
target_large=1.0 target_small=1.5 target_resync=3.0 resync_max_seconds=2

# common_report FORMAT: the results table and the ratios, as aligned text ("text") or markdown ("md"); with
# bench_op=sync also the list of target verdicts.
common_report() {
  local format=$1
  awk -F '\t' -v format="$format" -v op="$bench_op" -v t_large="$target_large" -v t_small="$target_small" \
    -v t_resync="$target_resync" -v max_resync="$resync_max_seconds" '
    # A table is collected with add() and printed by flush(): text columns are as wide as their widest cell, at
    # least minwidth; the first row is the heading.
    function add(cells, n,   i) {
      nrows++; ncols = n
      for (i = 1; i <= n; i++) { cell[nrows, i] = cells[i]; if (length(cells[i]) > width[i]) width[i] = length(cells[i]) }
    }
    function flush(   r, i, line) {
      for (r = 1; r <= nrows; r++) {
        if (format == "md") {
          line = "|"; for (i = 1; i <= ncols; i++) line = line " " cell[r, i] " |"; print line
          if (r == 1) { line = "|"; for (i = 1; i <= ncols; i++) line = line (align[i] == "r" ? "---:|" : "---|"); print line }
        } else {
          line = ""; for (i = 1; i <= ncols; i++) line = line sprintf("%-" width[i] "s  ", cell[r, i]); sub(/ +$/, "", line); print line
        }
      }
      nrows = 0
    }
    function columns(widths, aligns, heading,   n, i) {
      n = split(widths, width, " "); split(aligns, align, " "); split(heading, h, "|")
      for (i = 1; i <= n; i++) width[i] += 0
      add(h, n)
    }
    function name(t) {
      if (op == "cp") return t == "ferry" ? "ferry cp" : t == "aws" ? "aws s3 cp --recursive" : "rclone copy"
      return t == "ferry" ? "ferry sync" : t == "aws" ? "aws s3 sync" : "rclone sync"
    }
    function label(d) { return d == "resync" ? "re-sync" : d }
    function rate(x) { return sprintf(x < 10 ? "%.1f" : "%.0f", x) }
    function ratio(peer, mine) { return (peer > 0 && mine > 0) ? sprintf("%.2fx", peer / mine) : "-" }
    function target(key) { return dir[key] == "resync" ? t_resync : wl[key] == "small" ? t_small : t_large }
    function met(key) {
      if (!(key in fbest && key in pbest)) return ""
      return (pbest[key] / fbest[key] >= target(key) && (dir[key] != "resync" || fbest[key] < max_resync + 0)) ? "met" : "MISSED"
    }
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
      columns("8 9 22 8 9 7 8 4", "l l l l r r r r", "workload|direction|tool|setting|median s|MB/s|files/s|runs")
      for (g = 1; g <= groups; g++) {
        key = order[g]
        for (i = 1; i <= count[key]; i++) {
          split(rows[key, i], f, "\t")
          c[1] = f[1]; c[2] = label(f[2]); c[3] = name(f[3]); c[4] = f[4]
          if (f[5] == "-") { c[5] = "FAILED"; c[6] = "-"; c[7] = "-" }
          else {
            # A no-change re-sync moves no data: files/s is the rate at which it checks them.
            c[5] = sprintf("%.2f", f[5]); c[6] = f[2] == "resync" ? "-" : rate(f[7] / 1e6 / f[5]); c[7] = rate(f[6] / f[5])
          }
          c[8] = f[8]
          add(c, 8)
        }
      }
      flush()
      print ""
      columns("8 9 24 16 40 10 14 12", "l l r r l r r l",
        "workload|direction|ferry best s|ferry defaults s|fastest peer s|ratio best|ratio defaults|target")
      for (g = 1; g <= groups; g++) {
        key = order[g]
        c[1] = wl[key]; c[2] = label(dir[key])
        c[3] = (key in fbest) ? sprintf("%.2f (%s)", fbest[key], fbestset[key]) : "FAILED"
        c[4] = (key in fdef) ? sprintf("%.2f", fdef[key]) : "FAILED"
        c[5] = (key in pbest) ? sprintf("%.2f %s", pbest[key], pbestname[key]) : "-"
        c[6] = (key in fbest && key in pbest) ? ratio(pbest[key], fbest[key]) : "-"
        c[7] = (key in fdef && key in pbest) ? ratio(pbest[key], fdef[key]) : "-"
        c[8] = sprintf(">= %.1fx", target(key))
        if (dir[key] == "resync") c[8] = c[8] sprintf(", < %g s", max_resync)
        if (met(key) != "") c[8] = c[8] " " met(key)
        add(c, 8)
      }
      flush()
      if (op != "sync") exit
      # The verdicts, one line per target.
      print ""
      print "Targets of issue 3 (Ferry at the faster of its two settings against the fastest peer run):"
      for (g = 1; g <= groups; g++) {
        key = order[g]
        line = sprintf("- %s %s: ", wl[key] == "small" ? "small files" : "large files", dir[key] == "resync" ? "no-change re-sync" : dir[key])
        if (!(key in fbest)) { print line "ferry FAILED: MISSED"; continue }
        if (!(key in pbest)) { print line sprintf("ferry %.2f s, no peer finished: not judged", fbest[key]); continue }
        if (dir[key] == "resync") line = line sprintf("%.2f s (target < %g s), ", fbest[key], max_resync)
        print line sprintf("%s the faster peer (target >= %.1fx; at defaults %s): %s",
          ratio(pbest[key], fbest[key]), target(key), (key in fdef) ? ratio(pbest[key], fdef[key]) : "FAILED", met(key))
      }
    }' "$summary"
  local failed
  failed=$(awk -F '\t' '$5 == "-" { printf "%s %s %s (%s): %s\n", $1, $2 == "resync" ? "re-sync" : $2, $3, $4, $10 }' "$summary")
  if [ -n "$failed" ]; then
    echo
    echo "Failed (first reason each; logs of the last run under $logs):"
    printf '%s\n' "$failed" | sed 's/^/- /'
  fi
}

# common_finish NOTES: prints the report and the notes (the function NOTES prints them), then the same as markdown
# (to BENCH_OUT when set); exits 1 when a run failed or copied wrongly.
common_finish() {
  local notes=$1
  echo
  echo "== results =="
  common_report text
  echo
  "$notes"
  if [ -n "$out_file" ]; then
    common_markdown "$notes" >"$out_file"
    bench_log "markdown written to $out_file"
  else
    echo
    echo "== markdown (for bench/RESULTS.md) =="
    common_markdown "$notes"
  fi
  # A wrong or failed copy makes the whole run fail, after the report.
  if awk -F '\t' '$7 != "ok" { bad = 1 } END { exit !bad }' "$results"; then
    bench_log "some runs failed: see the report"
    exit 1
  fi
}

common_markdown() {
  echo "### bench/$bench_script, $(date -u +%Y-%m-%d)"
  echo
  printf '%s\n' "$machine" | sed 's/^/- /'
  echo
  common_report md
  echo
  "$1"
}
