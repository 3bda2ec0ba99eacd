#!/usr/bin/env bash
# FastFile: `ferry mount` (a prefix, and a dataset version with --dataset) against `s3fs` and `rclone mount`, all
# reading from one loopback S3 server (s3proxy, ferry.testing.S3ServerMain) in the same run, with the read patterns
# of issue 10: a sequential read of a large file (against the raw GET ceiling too), many small files read in a
# PyTorch-style loop, 4 KiB random reads, time to first byte, listing a large dataset version, and cached re-reads.
# Every cold run starts from a fresh mount with the tool's cache emptied and the page cache dropped. Prints medians,
# the ratios and the verdicts against the targets of issue 10.
# Run from anywhere as root on Debian:  bench/mount.sh      (knobs: see bench/README.md)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$root/bench/lib.sh"
. "$root/bench/common.sh"

bench_script=mount.sh
bench_op=cp   # the server's warm-up copies with ferry cp and rclone copy
all_workloads="seq small rand ttfb ls cached"
common_knobs "" "$all_workloads" "ferry s3fs rclone"

# ---- knobs of this script (bench/README.md) ----------------------------------------------------------------
file_mb=${BENCH_FILE_MB:-1024}
small_files=${BENCH_SMALL_FILES:-10000}
small_kb=${BENCH_SMALL_KB:-8}
small_workers=${BENCH_SMALL_WORKERS:-1 4}
rand_seconds=${BENCH_RAND_SECONDS:-20}
rand_jobs=${BENCH_RAND_JOBS:-4}
ls_files=${BENCH_LS_FILES:-100000}
ls_tools=${BENCH_LS_TOOLS:-ferry rclone}
warm_mb=${BENCH_WARM_MB:-8}
ttfb_repeat=${BENCH_TTFB_REPEAT:-$repeat}   # one sample a run: a steadier median needs more runs, and they are cheap
tsv_out=${BENCH_TSV:-}
for knob in file_mb small_files small_kb rand_seconds rand_jobs ls_files warm_mb ttfb_repeat; do
  [[ ${!knob} =~ ^[1-9][0-9]*$ ]] || bench_die "$knob must be a positive integer, got '${!knob}' (see bench/README.md)"
done
for n in $small_workers; do [[ $n =~ ^[1-9][0-9]*$ ]] || bench_die "BENCH_SMALL_WORKERS: '$n' is not a process count"; done
for t in $ls_tools; do [[ " ferry s3fs rclone " == *" $t "* ]] || bench_die "BENCH_LS_TOOLS: unknown tool '$t' (ferry, s3fs, rclone)"; done
[ -n "$small_workers" ] || bench_die "BENCH_SMALL_WORKERS is empty"

# Ferry runs at its defaults; BENCH_FERRY_MOUNT_BEST adds a "best" setting with these options.
ferry_mount_best=${BENCH_FERRY_MOUNT_BEST:-}
# The peers' best settings, per workload (bench/README.md says why each); BENCH_S3FS_BEST or BENCH_RCLONE_MOUNT_BEST
# replaces them for every workload. {cache} stands for the run's cache folder (emptied before every cold run).
s3fs_mount_best_seq="-o parallel_count=16 -o multipart_size=16"
s3fs_mount_best_small="-o multireq_max=64 -o parallel_count=8 -o max_stat_cache_size=1000000 -o enable_noobj_cache"
s3fs_mount_best_rand="-o parallel_count=8 -o multipart_size=5"
s3fs_mount_best_ttfb="-o parallel_count=1 -o multipart_size=5"
s3fs_mount_best_ls="-o multireq_max=64 -o max_stat_cache_size=1000000 -o enable_noobj_cache"
s3fs_mount_best_cached="-o parallel_count=16 -o multipart_size=16 -o use_cache={cache} -o kernel_cache"
rclone_mount_best_seq="--vfs-cache-mode full --vfs-read-ahead 256M --buffer-size 64M --use-server-modtime"
rclone_mount_best_small="--use-server-modtime --dir-cache-time 1h --attr-timeout 1h --buffer-size 0"
rclone_mount_best_rand="--vfs-cache-mode full --vfs-read-chunk-size 1M --buffer-size 0 --use-server-modtime"
rclone_mount_best_ttfb="--use-server-modtime"
rclone_mount_best_ls="--use-server-modtime --dir-cache-time 1h --attr-timeout 1h"
rclone_mount_best_cached="--vfs-cache-mode full --vfs-read-ahead 256M --buffer-size 64M --use-server-modtime"
rclone_get_best=${BENCH_RCLONE_GET_BEST:---multi-thread-streams 4 --multi-thread-cutoff 16M}
curl_get_streams=${BENCH_CURL_GET_STREAMS:-8}
[[ $curl_get_streams =~ ^[1-9][0-9]*$ ]] || bench_die "BENCH_CURL_GET_STREAMS must be a positive integer"

# best_options TOOL WORKLOAD: the options of TOOL's best setting for WORKLOAD.
best_options() {
  local class=${2%%-*}   # small-1p -> small
  case $1 in
    ferry | ferry-ds | ferry-remount) echo "$ferry_mount_best" ;;
    s3fs) if [ -n "${BENCH_S3FS_BEST:-}" ]; then echo "$BENCH_S3FS_BEST"; else local v="s3fs_mount_best_$class"; echo "${!v}"; fi ;;
    rclone) if [ -n "${BENCH_RCLONE_MOUNT_BEST:-}" ]; then echo "$BENCH_RCLONE_MOUNT_BEST"; else local v="rclone_mount_best_$class"; echo "${!v}"; fi ;;
    get-rclone) echo "$rclone_get_best" ;;
    get-curl) echo "$curl_get_streams ranged GETs at once" ;;
    *) echo "" ;;
  esac
}

# options_label TOOL SETTING WORKLOAD: what a setting stands for, for the report.
options_label() {
  local o
  case $1/$2 in
    local/*) echo "dd of a local copy, page cache warm" ;;
    get-curl/defaults) echo "one GET" ;;
    */defaults) echo "defaults" ;;
    *) o=$(best_options "$1" "$3"); echo "${o:-defaults}" ;;
  esac
}

has_tool() { [[ " $tools " == *" $1 "* ]]; }
wants() { [[ " $workloads " == *" $1 "* ]]; }
# settings_of TOOL: the settings TOOL runs at.
settings_of() {
  case $1 in
    ferry | ferry-ds) if [ -n "$ferry_mount_best" ]; then echo "defaults best"; else echo defaults; fi ;;
    *) echo "defaults best" ;;
  esac
}

# ---- mounts ------------------------------------------------------------------------------------------------
# mounted MNT: true while something is mounted at MNT (from the mount table: a mount whose daemon died fails stat).
mounted() { findmnt -rn -M "$1" >/dev/null 2>&1; }

# mount_command TOOL SETTING WORKLOAD PREFIX MNT CACHE: the command that mounts PREFIX (ferry-ds: the data set
# version in $dataset_ref) at MNT in the foreground, one word a line.
mount_command() {
  local tool=$1 setting=$2 w=$3 prefix=$4 mnt=$5 cache=$6 extra=()
  [ "$setting" = defaults ] || read -r -a extra <<<"$(best_options "$tool" "$w" | sed "s|{cache}|$cache|g")"
  case $tool in
    ferry | ferry-remount)
      printf '%s\n' env "${ferry_env[@]}" FERRY_HOME="$run_dir/ferry-home" "$ferry_cmd" mount \
        "s3://$bucket/$prefix/" "$mnt" --cache-dir "$cache" "${extra[@]}" ;;
    ferry-ds)
      printf '%s\n' env "${ferry_env[@]}" FERRY_HOME="$run_dir/ferry-home" "$ferry_cmd" --store "s3://$bucket/catalog/" \
        mount --dataset "$dataset_ref" "$mnt" --cache-dir "$cache" "${extra[@]}" ;;
    s3fs)
      # -f: in the foreground, so that it has a pid to stop; ro: as read-only as the others.
      printf '%s\n' s3fs "$bucket:/$prefix" "$mnt" -f -o ro -o "url=$endpoint" -o use_path_request_style \
        -o "passwd_file=$run_dir/s3fs.passwd" "${extra[@]}" ;;
    rclone)
      printf '%s\n' env "${rclone_env[@]}" rclone mount "X:$bucket/$prefix" "$mnt" --read-only --cache-dir "$cache" \
        "${extra[@]}" ;;
  esac
}

# mount_start TOOL SETTING WORKLOAD PREFIX LOG [keep]: mounts at $mnt_root/TOOL-SETTING in the background and waits
# until it is mounted; the tool's cache folder ($cache) is emptied first unless "keep". Sets mnt; on failure returns 1
# with mount_reason.
mount_start() {
  local tool=$1 setting=$2 w=$3 prefix=$4 log=$5 keep=${6:-} cmd pid deadline
  mnt="$mnt_root/${tool%-remount}-$setting"
  cache="$cache_root/${tool%-remount}-$setting"
  mount_reason=
  ! mounted "$mnt" || mount_stop "$mnt"
  [ "$keep" = keep ] || rm -rf "$cache"
  mkdir -p "$mnt" "$cache"
  mapfile -t cmd < <(mount_command "$tool" "$setting" "$w" "$prefix" "$mnt" "$cache")
  { printf '%q ' "${cmd[@]}"; printf '\n'; } >>"$log"
  "${cmd[@]}" >>"$log" 2>&1 </dev/null &
  pid=$!
  mount_pids[$mnt]=$pid
  deadline=$((SECONDS + 120))
  until mounted "$mnt"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      wait "$pid" 2>/dev/null || true
      unset "mount_pids[$mnt]"
      mount_reason="the mount exited at start: $(grep -v '^env ' "$log" | grep -m 1 -i -E 'error|exception|fail' || tail -n 1 "$log")"
      mount_reason=${mount_reason:0:200}
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      mount_stop "$mnt"
      mount_reason="not mounted within 120 s"
      return 1
    fi
    sleep 0.05
  done
  # A mount that answers: stat the root (s3fs and rclone are in the mount table a moment before they answer).
  timeout 60 stat "$mnt/." >/dev/null 2>&1 || { mount_stop "$mnt"; mount_reason="the mount does not answer"; return 1; }
}

# mount_stop MNT: SIGTERM to the mount's process (each tool unmounts on it), then a lazy unmount and SIGKILL if it
# does not go within 20 s.
mount_stop() {
  local mnt=$1 pid=${mount_pids[$1]:-}
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  if mounted "$mnt"; then
    bench_log "warning: $mnt still mounted after SIGTERM: unmounting it lazily"
    fusermount3 -u -z "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
  fi
  if [ -n "$pid" ]; then
    kill -0 "$pid" 2>/dev/null && { bench_log "warning: the mount process $pid did not exit: killing it"; kill -9 "$pid" 2>/dev/null || true; }
    wait "$pid" 2>/dev/null || true
    unset "mount_pids[$mnt]"
  fi
}

# unmount_all: at exit, also after an error or Ctrl-C: every mount this script made, and anything left under mnt/.
unmount_all() {
  local m
  for m in "${!mount_pids[@]}"; do mount_stop "$m"; done
  while read -r m; do
    [[ $m == "$mnt_root"/* ]] || continue
    fusermount3 -u -z "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done < <(findmnt -rn -o TARGET 2>/dev/null || true)
}

# cold_mount TOOL SETTING WORKLOAD PREFIX LOG: a fresh mount with an empty cache, a warm-up read of warm/warm.bin
# (a file no run measures: it opens the tool's connections and, for Ferry, JIT-compiles its read path, as any
# long-running mount would have done), then the page cache dropped.
cold_mount() {
  mount_start "$@" || return 1
  if ! timeout 120 cat "$mnt/warm/warm.bin" >/dev/null 2>>"$5"; then
    mount_reason="the warm-up read of warm/warm.bin failed"
    mount_stop "$mnt"
    return 1
  fi
  bench_drop_caches
}

# ---- the run ----------------------------------------------------------------------------------------------
run_dir="$work/mount"
keep_s3=1   # the data sets stay on the server between runs (uploading 100,000 objects takes minutes): see seed_prefix
mnt_root="$run_dir/mnt"
cache_root="$run_dir/cache"
cleanup_paths+=("$cache_root" /dev/shm/ferry-bench-mount)
cleanup_hooks+=(unmount_all)
declare -A mount_pids=()
common_prepare
common_tools
bench_apt_install s3fs /usr/bin/s3fs
bench_apt_install fio /usr/bin/fio
bench_apt_install fuse3 /usr/bin/fusermount3
bench_apt_install curl /usr/bin/curl
[ -x /usr/bin/python3 ] || bench_die "/usr/bin/python3 is missing"
[ -e /dev/fuse ] || bench_die "/dev/fuse is missing: FUSE mounts cannot work here"
s3fs_version=$(s3fs --version 2>/dev/null | sed -n 1p)
fio_version=$(fio --version 2>/dev/null)
rm -rf "$cache_root" "$mnt_root"
mkdir -p "$cache_root" "$mnt_root"
common_start_server
printf '%s:%s\n' "$access_key" "$secret_key" >"$run_dir/s3fs.passwd"
chmod 600 "$run_dir/s3fs.passwd"

# ---- the data sets, kept on the server between runs --------------------------------------------------------
# Layout under s3://ferry-bench/mnt/: large-<MiB>/big.bin, small-<N>x<KiB>/data/dNNNN/fNNNN (200 a folder) and
# ls-<N>/data/dNNNN/fNNNNN (1,000 a folder, 16 bytes each), each with warm/warm.bin for the warm-up read. The same
# layout is generated locally under $data/mount/ (random bytes; kept for the next run with the same shape).
warm_file() { mkdir -p "$1/warm"; head -c "$((warm_mb * 1048576))" /dev/urandom >"$1/warm/warm.bin"; }

generate_tree() {  # DIR FILES BYTES PER_FOLDER DIGITS
  local dir=$1 left=$2 bytes=$3 per=$4 digits=$5 folder=0 n sub
  while [ "$left" -gt 0 ]; do
    n=$((left < per ? left : per))
    sub=$(printf '%s/data/d%04d' "$dir" "$folder")
    mkdir -p "$sub"
    head -c "$((n * bytes))" /dev/urandom | split -b "$bytes" -a "$digits" -d - "$sub/f"
    left=$((left - n))
    folder=$((folder + 1))
  done
}

# generate NAME SPEC COMMAND...: runs COMMAND DIR to make $data/mount/NAME unless it was made with SPEC.
generate() {
  local name=$1 spec=$2 dir="$data/mount/$1"
  shift 2
  if [ "$(cat "$dir.spec" 2>/dev/null)" = "$spec" ] && [ -d "$dir" ]; then return 0; fi
  bench_log "generating $name ($spec) in $dir"
  rm -rf "$dir" "$dir.spec"
  mkdir -p "$dir"
  "$@" "$dir"
  warm_file "$dir"
  echo "$spec" >"$dir.spec"
}
make_large() { head -c "$((file_mb * 1048576))" /dev/urandom >"$1/big.bin"; }
make_small() { generate_tree "$1" "$small_files" "$((small_kb * 1024))" 200 4; }
make_ls() { generate_tree "$1" "$ls_files" 16 1000 5; }

# seed_prefix NAME: uploads $data/mount/NAME to s3://ferry-bench/mnt/NAME/ unless the server already holds exactly
# it (same names and sizes in its folder: filesystem-nio2 keeps one file per object), then checks the listing.
seed_prefix() {
  local name=$1 prefix="mnt/$1" cmd reason
  bench_listing "$data/mount/$name" >"$run_dir/$name.listing"
  if [ -d "$s3dir/$bucket/$prefix" ] && cmp -s "$run_dir/$name.listing" <(bench_listing "$s3dir/$bucket/$prefix") &&
    [ -f "$run_dir/seeded-$name" ]; then
    bench_log "the server already holds $prefix/ ($(wc -l <"$run_dir/$name.listing") objects)"
    return 0
  fi
  rm -f "$run_dir/seeded-$name" "$run_dir/dataset-$name"
  rm -rf "${s3dir:?}/$bucket/$prefix"
  if has_tool ferry; then
    bench_log "uploading $name to $prefix/ with ferry cp"
    cmd=(env "${ferry_env[@]}" FERRY_HOME="$run_dir/ferry-home" "$ferry_cmd" cp -j 128 "$data/mount/$name" "s3://$bucket/$prefix/")
  else
    bench_log "uploading $name to $prefix/ with rclone copy"
    cmd=(env "${rclone_env[@]}" rclone copy --transfers 64 --checkers 64 "$data/mount/$name" "X:$bucket/$prefix")
  fi
  "${cmd[@]}" >"$logs/seed-$name.log" 2>&1 || { tail -n 20 "$logs/seed-$name.log" >&2; bench_die "uploading $name failed"; }
  remote_listing "$prefix" >"$run_dir/seed-$name.listing"
  reason=$(check_listing "$run_dir/$name.listing" "$run_dir/seed-$name.listing")
  [ -z "$reason" ] || bench_die "the uploaded $name is not right: $reason"
  touch "$run_dir/seeded-$name"
}

# dataset_of NAME: sets dataset_ref to a dataset version of s3://ferry-bench/mnt/NAME/ in the catalog
# s3://ferry-bench/catalog/, created once per upload (ferry dataset create checksums every object).
dataset_of() {
  local name=$1 log="$logs/dataset-$1.log"
  dataset_ref=$(cat "$run_dir/dataset-$name" 2>/dev/null || true)
  if [ -n "$dataset_ref" ] &&
    env "${ferry_env[@]}" FERRY_HOME="$run_dir/ferry-home" "$ferry_cmd" --store "s3://$bucket/catalog/" \
      dataset show "$dataset_ref" >"$log" 2>&1; then
    return 0
  fi
  bench_log "creating the dataset mount-$name from mnt/$name/"
  env "${ferry_env[@]}" FERRY_HOME="$run_dir/ferry-home" "$ferry_cmd" --store "s3://$bucket/catalog/" \
    dataset create "mount-$name" --from "s3://$bucket/mnt/$name/" >"$log" 2>&1 ||
    { tail -n 20 "$log" >&2; bench_die "ferry dataset create mount-$name failed ($log)"; }
  dataset_ref=$(sed -n 's/^created \([^ :]*\):.*/\1/p' "$log" | sed -n 1p)
  [ -n "$dataset_ref" ] || bench_die "cannot read the new dataset version from $log"
  echo "$dataset_ref" >"$run_dir/dataset-$name"
  bench_log "dataset $dataset_ref: $(sed -n 1p "$log")"
}

large_name="large-$file_mb" small_name="small-${small_files}x$small_kb" ls_name="ls-$ls_files"
large_bytes=$((file_mb * 1048576))
mkdir -p "$data/mount"
# Data sets of other shapes stay on the server too (a quick run does not cost the next full run its 100,000 objects);
# BENCH_KEEP_DATA=0 deletes the server's folder at exit.
if wants seq || wants rand || wants ttfb || wants cached; then
  generate "$large_name" "mb=$file_mb warm=$warm_mb" make_large
  seed_prefix "$large_name"
fi
if wants small; then
  generate "$small_name" "files=$small_files kb=$small_kb warm=$warm_mb" make_small
  seed_prefix "$small_name"
  if has_tool ferry; then dataset_of "$small_name"; small_ref=$dataset_ref; fi
fi
if wants ls; then
  generate "$ls_name" "files=$ls_files warm=$warm_mb" make_ls
  seed_prefix "$ls_name"
  if [[ " $ls_tools " == *" ferry "* ]] && has_tool ferry; then dataset_of "$ls_name"; ls_ref=$dataset_ref; fi
fi

# The server's warm-up: 200 PUTs and GETs with rclone (and ferry cp), as in cp.sh.
(if has_tool ferry; then tools="ferry rclone"; else tools=rclone; fi; common_warmup "$run_dir/ferry-home")

# ---- the readers -------------------------------------------------------------------------------------------
# A PyTorch-style loop: the dataset's __init__ walks the tree (os.walk, sorted), then every file is opened and read
# whole, by one process or by W worker processes that take every W-th file (as a DataLoader's workers take batches).
cat >"$run_dir/readtree.py" <<'EOF'
import os, sys, time
from multiprocessing import get_context

def read_files(paths):
    n = b = 0
    for p in paths:
        with open(p, "rb") as f:
            b += len(f.read())
        n += 1
    return n, b

def main():
    root, workers = sys.argv[1], int(sys.argv[2])
    t0 = time.perf_counter()
    paths = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        paths.extend(os.path.join(folder, f) for f in sorted(files))
    t1 = time.perf_counter()
    if workers == 1:
        n, b = read_files(paths)
    else:
        with get_context("fork").Pool(workers) as pool:
            parts = pool.map(read_files, [paths[k::workers] for k in range(workers)])
        n, b = sum(p[0] for p in parts), sum(p[1] for p in parts)
    t2 = time.perf_counter()
    print(f"files={n} bytes={b} walk_s={t1 - t0:.3f} read_s={t2 - t1:.3f} total_s={t2 - t0:.3f}")

main()
EOF
# The rawest GET: curl (SigV4 signing built in) fetches the object in STREAMS ranged GETs at once into /dev/null.
# s3proxy answers 500 (a NullPointerException) to a signed request without x-amz-content-sha256, which curl omits.
cat >"$run_dir/curl-get.sh" <<'EOF'
url=$1 size=$2 streams=$3 region=$4 user=$5
sizes=$(mktemp)
for ((i = 0; i < streams; i++)); do
  curl -sS -f --aws-sigv4 "aws:amz:$region:s3" --user "$user" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' \
    -r "$((i * size / streams))-$(((i + 1) * size / streams - 1))" -o /dev/null -w '%{size_download}\n' "$url" &
done >"$sizes"
rc=0
for ((i = 0; i < streams; i++)); do wait -n || rc=1; done
echo "bytes=$(awk '{ s += $1 } END { print s + 0 }' "$sizes")"
rm -f "$sizes"
exit $rc
EOF
# Time to first byte: open and read one byte, timed in the process (nanosecond clock), interpreter start excluded.
cat >"$run_dir/ttfb.py" <<'EOF'
import os, sys, time
t0 = time.perf_counter_ns()
fd = os.open(sys.argv[1], os.O_RDONLY)
b = os.read(fd, 1)
t1 = time.perf_counter_ns()
os.close(fd)
print(f"ttfb_ms={(t1 - t0) / 1e6:.3f} byte={b.hex()}")
EOF

# ---- timed runs --------------------------------------------------------------------------------------------
# measure LOG COMMAND...: runs COMMAND under the timeout, output appended to LOG; sets run_secs and run_reason.
measure() {
  local log=$1 rc=0 t0 t1 msg
  shift
  { printf '%q ' "$@"; printf '\n'; } >>"$log"
  t0=$(bench_now)
  timeout -k 10 "$run_timeout" "$@" >>"$log" 2>&1 || rc=$?
  t1=$(bench_now)
  run_secs=$(bench_elapsed "$t0" "$t1")
  run_reason=
  if [ "$rc" -eq 124 ]; then
    run_reason="timed out after $run_timeout s"
  elif [ "$rc" -ne 0 ]; then
    msg=$(tail -n 3 "$log" | grep -m 1 -i -E 'error|fail|exception|denied|not connected' || tail -n 1 "$log")
    run_reason="exit code $rc: ${msg:0:200}"
  fi
}

# value_of KEY LOG: the last KEY=value in LOG.
value_of() { grep -o "$1=[^ ]*" "$2" | tail -n 1 | cut -d= -f2; }

# dd_bytes LOG: the byte count of the last dd in LOG.
dd_bytes() { sed -n 's/^\([0-9][0-9]*\) bytes .*copied.*/\1/p' "$1" | tail -n 1; }

# check_sample FILE LOCAL: empty when FILE has LOCAL's size and the same bytes in four 1 MiB samples (start, 1/3,
# 2/3, end), else why not. Untimed, after the timed read.
check_sample() {
  local f=$1 l=$2 size off
  size=$(stat -c %s "$l")
  [ "$(stat -c %s "$f" 2>/dev/null)" = "$size" ] || { echo "wrong size: $(stat -c %s "$f" 2>&1), expected $size"; return 0; }
  for off in 0 $((size / 3 / 1048576)) $((2 * size / 3 / 1048576)) $(((size - 1) / 1048576)); do
    cmp -s <(dd if="$f" bs=1M skip="$off" count=1 2>/dev/null) <(dd if="$l" bs=1M skip="$off" count=1 2>/dev/null) ||
      { echo "wrong bytes in MiB $off of ${f##*/}"; return 0; }
  done
}

# record WORKLOAD TOOL SETTING REP VALUE UNIT REASON LOG: logs the outcome, appends a row to $results.
record() {
  local id="$1-$2-$3-$4" value=$5 unit=$6 reason=$7 log=$8
  if [ -z "$reason" ]; then
    bench_log "  $id: $value $unit"
  else
    bench_log "  $id: FAILED: $reason (log: $log)"
    tail -n 5 "$log" | sed 's/^/      /' >&2
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "${value:--}" "$unit" "${reason:-ok}" >>"$results"
}

mbps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", b / 1e6 / s }'; }

# ceiling_dir: where a raw GET writes: /dev/shm when it has room for two copies of the file, else the scratch folder.
ceiling_dir() {
  local free
  free=$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 { print $4 }')
  if [[ $free =~ ^[0-9]+$ ]] && [ "$free" -gt $((2 * large_bytes / 1024)) ]; then echo "/dev/shm/ferry-bench-mount"; else echo "$scratch/get"; fi
}

# run_get TOOL SETTING REP: the raw GET ceiling: the large file copied to local memory (or disk) by rclone copy or
# ferry cp, or fetched into /dev/null by curl in one GET or in parallel ranged GETs; page cache dropped first.
run_get() {
  local t=$1 s=$2 rep=$3 id="seq-$1-$2-$3" dst cmd extra=() reason value=
  local log="$logs/$id.log"
  dst="$(ceiling_dir)/$id"
  rm -rf "$dst"
  mkdir -p "$dst"
  [ "$s" = defaults ] || read -r -a extra <<<"$(best_options "$t" seq)"
  case $t in
    get-rclone) cmd=(env "${rclone_env[@]}" rclone copy "${extra[@]}" "X:$bucket/mnt/$large_name/big.bin" "$dst") ;;
    get-ferry) cmd=(env "${ferry_env[@]}" FERRY_HOME="$run_dir/ferry-home" "$ferry_cmd" cp "${extra[@]}" \
      "s3://$bucket/mnt/$large_name/big.bin" "$dst/big.bin") ;;
    get-curl) cmd=(bash "$run_dir/curl-get.sh" "$endpoint/$bucket/mnt/$large_name/big.bin" "$large_bytes"
      "$(if [ "$s" = defaults ]; then echo 1; else echo "$curl_get_streams"; fi)" "$region" "$access_key:$secret_key") ;;
  esac
  bench_drop_caches
  # The tool's own program read again after the drop (untimed), as in cp.sh: the data is cold, not the tool.
  case $t in
    get-ferry) "$ferry_cmd" --version ;;
    get-rclone) rclone_x version ;;
    get-curl) curl --version ;;
  esac >/dev/null 2>&1 || true
  measure "$log" "${cmd[@]}"
  reason=$run_reason
  if [ "$t" = get-curl ]; then
    [ -n "$reason" ] || [ "$(value_of bytes "$log")" = "$large_bytes" ] || reason="curl got $(value_of bytes "$log") bytes"
  else
    [ -n "$reason" ] || reason=$(check_sample "$dst/big.bin" "$data/mount/$large_name/big.bin")
  fi
  [ -n "$reason" ] || value=$(mbps "$large_bytes" "$run_secs")
  record seq "$t" "$s" "$rep" "$value" MB/s "$reason" "$log"
  rm -rf "$dst"
}

# run_seq TOOL SETTING REP: a cold sequential read of big.bin through a fresh mount (dd bs=1M).
run_seq() {
  local t=$1 s=$2 rep=$3 id="seq-$1-$2-$3" reason value= f
  local log="$logs/$id.log"
  if cold_mount "$t" "$s" seq "mnt/$large_name" "$log"; then
    f="$mnt/big.bin"
    measure "$log" dd if="$f" of=/dev/null bs=1M
    reason=$run_reason
    [ -n "$reason" ] || [ "$(dd_bytes "$log")" = "$large_bytes" ] || reason="dd read $(dd_bytes "$log") bytes, expected $large_bytes"
    [ -n "$reason" ] || reason=$(check_sample "$f" "$data/mount/$large_name/big.bin")
    [ -n "$reason" ] || value=$(mbps "$large_bytes" "$run_secs")
    mount_stop "$mnt"
  else
    reason=$mount_reason
  fi
  record seq "$t" "$s" "$rep" "$value" MB/s "$reason" "$log"
}

# run_small WORKERS TOOL SETTING REP: the PyTorch-style loop over data/ of the small data set, cold.
run_small() {
  local n=$1 t=$2 s=$3 rep=$4 w="small-${1}p" reason value= files bytes f
  local id="$w-$t-$s-$rep" log="$logs/$w-$t-$s-$rep.log"
  dataset_ref=${small_ref:-}
  if cold_mount "$t" "$s" "$w" "mnt/$small_name" "$log"; then
    measure "$log" /usr/bin/python3 "$run_dir/readtree.py" "$mnt/data" "$n"
    reason=$run_reason
    if [ -z "$reason" ]; then
      files=$(value_of files "$log") bytes=$(value_of bytes "$log")
      [ "$files" = "$small_files" ] && [ "$bytes" = $((small_files * small_kb * 1024)) ] ||
        reason="read $files files, $bytes bytes; expected $small_files files, $((small_files * small_kb * 1024)) bytes"
    fi
    if [ -z "$reason" ]; then
      for f in "$(grep '^data/' "$run_dir/$small_name.listing" | head -n 1 | cut -f 1)" \
        "$(grep '^data/' "$run_dir/$small_name.listing" | tail -n 1 | cut -f 1)"; do
        cmp -s "$mnt/$f" "$data/mount/$small_name/$f" || { reason="wrong bytes in $f"; break; }
      done
    fi
    [ -n "$reason" ] || value=$(awk -v n="$small_files" -v s="$(value_of total_s "$log")" 'BEGIN { printf "%.0f", n / s }')
    mount_stop "$mnt"
  else
    reason=$mount_reason
  fi
  record "$w" "$t" "$s" "$rep" "$value" files/s "$reason" "$log"
}

# run_rand TOOL SETTING REP: fio, 4 KiB random reads within big.bin, rand_jobs jobs, cold mount.
run_rand() {
  local t=$1 s=$2 rep=$3 id="rand-$1-$2-$3" reason value= io_bytes fio_error
  local log="$logs/$id.log" json="$logs/$id.json"
  if cold_mount "$t" "$s" rand "mnt/$large_name" "$log"; then
    measure "$log" fio --name=randread --filename="$mnt/big.bin" --readonly --rw=randread --bs=4k \
      --numjobs="$rand_jobs" --time_based --runtime="$rand_seconds" --group_reporting --direct=0 --ioengine=psync \
      --size="$large_bytes" --output-format=json --output="$json"
    reason=$run_reason
    if [ -z "$reason" ]; then
      value=$(/usr/bin/python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))["jobs"][0]
print("%.0f %d %d" % (j["read"]["iops"], j["read"]["io_bytes"], j["error"]))' "$json" 2>>"$log" || true)
      read -r value io_bytes fio_error <<<"${value:-- 0 1}"
      if [ "$fio_error" != 0 ] || [ "$io_bytes" -le 0 ]; then reason="fio: error $fio_error, $io_bytes bytes read"; value=; fi
    fi
    mount_stop "$mnt"
  else
    reason=$mount_reason
  fi
  record rand "$t" "$s" "$rep" "$value" IOPS "$reason" "$log"
}

# run_ttfb TOOL SETTING REP: open + read of one byte of big.bin, the mount up and warm, the file never read.
run_ttfb() {
  local t=$1 s=$2 rep=$3 id="ttfb-$1-$2-$3" reason value= want
  local log="$logs/$id.log"
  if cold_mount "$t" "$s" ttfb "mnt/$large_name" "$log"; then
    measure "$log" /usr/bin/python3 "$run_dir/ttfb.py" "$mnt/big.bin"
    reason=$run_reason
    want=$(head -c 1 "$data/mount/$large_name/big.bin" | od -An -tx1 | tr -d ' \n')
    [ -n "$reason" ] || [ "$(value_of byte "$log")" = "$want" ] || reason="first byte $(value_of byte "$log"), expected $want"
    [ -n "$reason" ] || value=$(value_of ttfb_ms "$log")
    mount_stop "$mnt"
  else
    reason=$mount_reason
  fi
  record ttfb "$t" "$s" "$rep" "$value" ms "$reason" "$log"
}

# run_ls TOOL SETTING REP: ls -lR, then find -type f, over data/ of the listing data set, cold mount.
run_ls() {
  local t=$1 s=$2 rep=$3 id="ls-$1-$2-$3" reason value=
  local log="$logs/$id.log"
  dataset_ref=${ls_ref:-}
  if cold_mount "$t" "$s" ls "mnt/$ls_name" "$log"; then
    # shellcheck disable=SC2016  # expanded by the inner shell
    measure "$log" bash -c 't0=$EPOCHREALTIME; ls -lR "$1" >/dev/null || exit 1; t1=$EPOCHREALTIME
      n=$(find "$1" -type f | wc -l) || exit 1; t2=$EPOCHREALTIME
      echo "ls_s=$(awk -v a="$t0" -v b="$t1" "BEGIN { print b - a }") find_s=$(awk -v a="$t1" -v b="$t2" "BEGIN { print b - a }") files=$n"' \
      _ "$mnt/data"
    reason=$run_reason
    [ -n "$reason" ] || [ "$(value_of files "$log")" = "$ls_files" ] || reason="find saw $(value_of files "$log") files, expected $ls_files"
    [ -n "$reason" ] || value=$(awk -v s="$run_secs" 'BEGIN { printf "%.3f", s }')
    mount_stop "$mnt"
  else
    reason=$mount_reason
  fi
  record ls "$t" "$s" "$rep" "$value" s "$reason" "$log"
}

# run_cached TOOL SETTING REP: the second sequential read of big.bin through the same mount (the first, cold, is not
# reported); for Ferry also a third read through a fresh mount that finds the Ferry cache warm (tool ferry-remount;
# the page cache is not dropped in between, so the cache's files may be in memory, as on a machine that just
# restarted a mount). "local" reads a local copy whose page cache is warm.
run_cached() {
  local t=$1 s=$2 rep=$3 id="cached-$1-$2-$3" reason value= f src="$data/mount/$large_name/big.bin"
  local log="$logs/$id.log"
  if [ "$t" = local ]; then
    cat "$src" >/dev/null
    measure "$log" dd if="$src" of=/dev/null bs=1M
    reason=$run_reason
    [ -n "$reason" ] || value=$(mbps "$large_bytes" "$run_secs")
    record cached local "$s" "$rep" "$value" MB/s "$reason" "$log"
    return 0
  fi
  if cold_mount "$t" "$s" cached "mnt/$large_name" "$log"; then
    f="$mnt/big.bin"
    measure "$log" dd if="$f" of=/dev/null bs=1M
    reason=$run_reason
    [ -n "$reason" ] || reason=$(check_sample "$f" "$src")
    if [ -z "$reason" ]; then
      measure "$log" dd if="$f" of=/dev/null bs=1M
      reason=$run_reason
      [ -n "$reason" ] || [ "$(dd_bytes "$log")" = "$large_bytes" ] || reason="dd read $(dd_bytes "$log") bytes"
      [ -n "$reason" ] || value=$(mbps "$large_bytes" "$run_secs")
    fi
    mount_stop "$mnt"
  else
    reason=$mount_reason
  fi
  record cached "$t" "$s" "$rep" "$value" MB/s "$reason" "$log"
  [ "$t" = ferry ] || return 0
  # The same cache folder, a new mount.
  local rlog="$logs/cached-ferry-remount-$s-$rep.log" rreason rvalue=
  if [ -n "$reason" ]; then
    rreason="no remount: the first mount failed ($reason)"
  elif mount_start ferry-remount "$s" cached "mnt/$large_name" "$rlog" keep &&
    timeout 120 cat "$mnt/warm/warm.bin" >/dev/null 2>>"$rlog"; then
    measure "$rlog" dd if="$f" of=/dev/null bs=1M
    rreason=$run_reason
    [ -n "$rreason" ] || [ "$(dd_bytes "$rlog")" = "$large_bytes" ] || rreason="dd read $(dd_bytes "$rlog") bytes"
    [ -n "$rreason" ] || rreason=$(check_sample "$f" "$src")
    [ -n "$rreason" ] || rvalue=$(mbps "$large_bytes" "$run_secs")
    mount_stop "$mnt"
  else
    rreason=${mount_reason:-the warm-up read of warm/warm.bin failed}
    mount_stop "$mnt"
  fi
  record cached ferry-remount "$s" "$rep" "$rvalue" MB/s "$rreason" "$rlog"
}

# The tools of each workload, in the order they run within a repetition.
mount_tools() {  # WORKLOAD
  local t list=()
  case $1 in
    small*) for t in ferry ferry-ds s3fs rclone; do has_tool "${t%-ds}" && list+=("$t"); done ;;
    ls) for t in ferry-ds ferry s3fs rclone; do has_tool "${t%-ds}" && [[ " $ls_tools " == *" ${t%-ds} "* ]] && list+=("$t"); done ;;
    *) for t in ferry s3fs rclone; do has_tool "$t" && list+=("$t"); done ;;
  esac
  echo "${list[@]}"
}

: >"$results"
groups=()
for w in $workloads; do
  if [ "$w" = small ]; then for n in $small_workers; do groups+=("small-${n}p"); done; else groups+=("$w"); fi
done
bench_log "workloads: ${groups[*]}; $repeat run(s) each (ttfb: $ttfb_repeat), repetitions outermost"
for g in "${groups[@]}"; do
  bench_log "$g"
  runs=$repeat
  [ "$g" != ttfb ] || runs=$ttfb_repeat
  for rep in $(seq 1 "$runs"); do
    if [ "$g" = seq ]; then
      run_get get-rclone defaults "$rep"
      run_get get-rclone best "$rep"
      ! has_tool ferry || run_get get-ferry defaults "$rep"
      run_get get-curl defaults "$rep"
      run_get get-curl best "$rep"
    fi
    [ "$g" != cached ] || run_cached local page-cache "$rep"
    for t in $(mount_tools "$g"); do
      for s in $(settings_of "$t"); do
        case $g in
          small-*) n=${g#small-}; run_small "${n%p}" "$t" "$s" "$rep" ;;
          *) "run_$g" "$t" "$s" "$rep" ;;
        esac
      done
    done
  done
done

# ---- the report --------------------------------------------------------------------------------------------
# The comparisons and targets of issue 10: "workload|label|ferry side|peer side|target|kind". Higher-is-better units
# (MB/s, files/s, IOPS) give ferry/peer, lower-is-better ones (ms, s) peer/ferry: above 1, Ferry is ahead. kind
# "ratio" compares with the target; "under" checks the Ferry side's own value against it.
comparisons() {
  local g
  for g in "${groups[@]}"; do
    case $g in
      seq) printf '%s\n' "seq|ferry / s3fs|ferry|s3fs|1.0|ratio" "seq|ferry / rclone mount|ferry|rclone|1.5|ratio" \
        "seq|ferry / raw GET ceiling|ferry|get-*,s3fs,rclone|0.85|ratio" ;;
      small-*) printf '%s\n' "$g|ferry / s3fs|ferry|s3fs|3.0|ratio" "$g|ferry / rclone mount|ferry|rclone|1.5|ratio" \
        "$g|ferry --dataset / s3fs|ferry-ds|s3fs|5.0|ratio" "$g|ferry --dataset / rclone mount|ferry-ds|rclone|-|ratio" ;;
      rand) printf '%s\n' "rand|ferry / s3fs|ferry|s3fs|2.0|ratio" "rand|ferry / rclone mount|ferry|rclone|-|ratio" ;;
      ttfb) printf '%s\n' "ttfb|ferry, ms|ferry||20|under" "ttfb|ferry / s3fs|ferry|s3fs|-|ratio" \
        "ttfb|ferry / rclone mount|ferry|rclone|-|ratio" ;;
      ls) printf '%s\n' "ls|ferry --dataset, s|ferry-ds||2|under" "ls|ferry --dataset / rclone mount|ferry-ds|rclone|-|ratio" \
        "ls|ferry prefix / rclone mount|ferry|rclone|-|ratio" "ls|ferry --dataset / s3fs|ferry-ds|s3fs|-|ratio" ;;
      cached) printf '%s\n' "cached|ferry, same mount / local file|ferry|local|0.8|ratio" \
        "cached|ferry, fresh mount, warm cache / local file|ferry-remount|local|0.8|ratio" \
        "cached|s3fs / local file|s3fs|local|-|ratio" "cached|rclone mount / local file|rclone|local|-|ratio" ;;
    esac
  done
}

# summarize: one row per workload, tool and setting in $summary: median of the runs that passed ("-" when one
# failed), unit, runs passed, the options, first failure.
summarize() {
  local g t s median failures first unit values
  : >"$summary"
  for g in "${groups[@]}"; do
    while IFS=$'\t' read -r t s; do
      mapfile -t values < <(awk -F '\t' -v g="$g" -v t="$t" -v s="$s" '$1 == g && $2 == t && $3 == s && $7 == "ok" { print $5 }' "$results")
      failures=$(awk -F '\t' -v g="$g" -v t="$t" -v s="$s" '$1 == g && $2 == t && $3 == s && $7 != "ok" { n++ } END { print n + 0 }' "$results")
      first=$(awk -F '\t' -v g="$g" -v t="$t" -v s="$s" '$1 == g && $2 == t && $3 == s && $7 != "ok" { print $7; exit }' "$results")
      unit=$(awk -F '\t' -v g="$g" -v t="$t" -v s="$s" '$1 == g && $2 == t && $3 == s { print $6; exit }' "$results")
      median=-
      [ "$failures" -gt 0 ] || [ "${#values[@]}" -eq 0 ] || median=$(bench_median "${values[@]}")
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$g" "$t" "$s" "$median" "$unit" "${#values[@]}/$((${#values[@]} + failures))" \
        "$(options_label "$t" "$s" "$g")" "$first" >>"$summary"
    done < <(awk -F '\t' -v g="$g" '$1 == g && !seen[$2 "\t" $3]++ { print $2 "\t" $3 }' "$results")
  done
}

# report FORMAT: per workload the table of medians, then the comparisons with their targets; text or md.
report() {
  comparisons >"$run_dir/comparisons.txt"
  awk -F '\t' -v format="$1" -v cmpfile="$run_dir/comparisons.txt" '
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
      nrows = 0; delete width
    }
    function columns(aligns, heading,   n) { n = split(heading, h, "|"); split(aligns, align, " "); add(h, n) }
    function name(t) {
      if (t == "ferry") return "ferry mount"
      if (t == "ferry-ds") return "ferry mount --dataset"
      if (t == "ferry-remount") return "ferry mount (fresh, warm cache)"
      if (t == "rclone") return "rclone mount"
      if (t == "get-rclone") return "rclone copy (raw GET)"
      if (t == "get-ferry") return "ferry cp (raw GET)"
      if (t == "get-curl") return "curl (raw GET)"
      if (t == "local") return "local file"
      return t
    }
    function higher(u) { return u == "MB/s" || u == "files/s" || u == "IOPS" }
    function fmt(v, u) { return v == "-" ? "FAILED" : u == "ms" || u == "s" ? sprintf("%.2f", v) : v < 10 ? sprintf("%.1f", v) : sprintf("%.0f", v) }
    # matches(t, patterns): t is one of the comma-separated patterns (a trailing * matches any rest).
    function matches(t, patterns,   p, np, j) {
      np = split(patterns, p, ",")
      for (j = 1; j <= np; j++) if (p[j] ~ /\*$/ ? index(t, substr(p[j], 1, length(p[j]) - 1)) == 1 : t == p[j]) return 1
      return 0
    }
    # best(g, pattern, setting): the best median among the tools matching pattern (one setting, or any if "");
    # sets bestlabel; "" when none passed.
    function best(g, pattern, setting,   i, v, b) {
      b = ""; bestlabel = ""
      for (i = 1; i <= n; i++) {
        if (G[i] != g || !matches(T[i], pattern) || (setting != "" && S[i] != setting) || V[i] == "-") continue
        v = V[i] + 0
        if (b == "" || (higher(U[i]) ? v > b : v < b)) { b = v; bestlabel = name(T[i]) " (" S[i] ")" }
      }
      return b
    }
    function ran(g, pattern,   i) { for (i = 1; i <= n; i++) if (G[i] == g && matches(T[i], pattern)) return 1; return 0 }
    function ratio(a, b, u) { if (a == "" || b == "" || a == 0 || b == 0) return ""; return higher(u) ? a / b : b / a }
    { n++; G[n] = $1; T[n] = $2; S[n] = $3; V[n] = $4; U[n] = $5; R[n] = $6; O[n] = $7; F[n] = $8
      if (!($1 in unit)) { order[++groups] = $1; unit[$1] = $5 } }
    END {
      title["seq"] = "sequential read of the large file, cold"; title["rand"] = "4 KiB random reads in the large file, cold"
      title["ttfb"] = "time to first byte of the large file, cold"; title["ls"] = "ls -lR + find -type f over the listing data set, cold"
      title["cached"] = "cached sequential re-read of the large file"
      for (gi = 1; gi <= groups; gi++) {
        g = order[gi]
        t = title[g]; if (g ~ /^small-/) { w = substr(g, 7); sub(/p$/, "", w); t = "PyTorch-style read of the small files, cold, " w " process" (w == 1 ? "" : "es") }
        print (format == "md" ? "#### " : "== ") g ": " t (format == "md" ? "" : " ==")
        if (format == "md") print ""
        columns("l l r l r l", "tool|setting|median|unit|runs|options")
        for (i = 1; i <= n; i++) if (G[i] == g) { c[1] = name(T[i]); c[2] = S[i]; c[3] = fmt(V[i], U[i]); c[4] = U[i]; c[5] = R[i]; c[6] = O[i]; add(c, 6) }
        flush()
        print ""
        columns("l r r l r r l", "comparison|ferry side|other side|best of|ratio|at defaults|target")
        rows = 0
        while ((getline line < cmpfile) > 0) {
          split(line, k, "|")
          # A comparison with a side that did not run at all (not among BENCH_TOOLS) is left out.
          if (k[1] != g || !ran(g, k[3]) || (k[4] != "" && !ran(g, k[4]))) continue
          a = best(g, k[3], ""); alabel = bestlabel
          if (k[6] == "under") {
            c[1] = k[2]; c[2] = a == "" ? "FAILED" : fmt(a, unit[g]); c[3] = "-"; c[4] = alabel; c[5] = "-"; c[6] = "-"
            c[7] = "< " k[5] " " unit[g] (a == "" ? " MISSED" : a < k[5] + 0 ? " met" : " MISSED")
          } else {
            b = best(g, k[4], ""); blabel = bestlabel
            r = ratio(a, b, unit[g]); rd = ratio(best(g, k[3], "defaults"), best(g, k[4], "defaults"), unit[g])
            c[1] = k[2]; c[2] = a == "" ? "FAILED" : fmt(a, unit[g]); c[3] = b == "" ? "-" : fmt(b, unit[g])
            c[4] = blabel; c[5] = r == "" ? "-" : sprintf("%.2fx", r); c[6] = rd == "" ? "-" : sprintf("%.2fx", rd)
            c[7] = k[5] == "-" ? "-" : ">= " k[5] "x" (a == "" ? " MISSED" : r == "" ? "" : r >= k[5] + 0 ? " met" : " MISSED")
          }
          add(c, 7); rows++
        }
        close(cmpfile)
        if (rows) flush(); else nrows = 0
        print ""
      }
    }' "$summary"
  local failed
  failed=$(awk -F '\t' '$4 == "-" { printf "%s %s (%s): %s\n", $1, $2, $3, $8 }' "$summary")
  if [ -n "$failed" ]; then
    echo "Failed (first reason each; logs of the last run under $logs):"
    printf '%s\n' "$failed" | sed 's/^/- /'
    echo
  fi
}

notes() {
  echo "- Ratios: Ferry's best median over the other side's best median for MB/s, files/s and IOPS, the inverse for ms" \
    "and s: above 1, Ferry is ahead. \"at defaults\": both sides at their defaults. MB/s: 10^6 bytes/s."
  echo "- Data: large = one file of $file_mb MiB; small = $small_files files of $small_kb KiB (200 a folder); listing =" \
    "$ls_files files of 16 bytes (1,000 a folder); random bytes, on s3proxy 2.6.0 (filesystem-nio2) on loopback."
  echo "- Cold runs: a fresh mount with the tool's cache folder emptied, one warm-up read of another file" \
    "(warm/warm.bin, $warm_mb MiB), then the page cache dropped; median of $repeat run(s) ($ttfb_repeat for ttfb)."
  echo "- Readers: dd bs=1M (seq, cached); /usr/bin/python3 os.walk + open/read of every file (small); fio randread" \
    "bs=4k numjobs=$rand_jobs psync direct=0 ${rand_seconds}s (rand); python open + read(1) timed in-process (ttfb)."
  echo "- Raw GET ceiling: the fastest median of any client that read the large file in this run: rclone copy" \
    "(defaults, and \`$rclone_get_best\`) and ferry cp to $(ceiling_dir | sed 's|/ferry-bench-mount||'), curl into" \
    "/dev/null (one GET, and $curl_get_streams ranged GETs at once), and the peers' mounts."
  echo "- Cached: the second dd through the same mount (its first, cold read is not reported); Ferry also through a fresh" \
    "mount on the warm cache folder; local = dd of a local copy with a warm page cache."
  local t w line
  for t in s3fs rclone; do
    line="- Best settings of $(if [ "$t" = s3fs ]; then echo s3fs; else echo rclone mount; fi) (the options column):"
    for w in seq small rand ttfb ls cached; do line="$line $w \`$(best_options "$t" "$w")\`;"; done
    echo "${line%;}."
  done
  echo "- Ferry: ${ferry_mount_best:-at its defaults only (BENCH_FERRY_MOUNT_BEST adds a best setting)}."
  echo "- Versions: $ferry_version; $rclone_version; $s3fs_version; $fio_version; $java_version; s3proxy 2.6.0 (filesystem-nio2)."
}

summarize
echo
echo "== results =="
report text
notes
if [ -n "$out_file" ]; then
  { echo "### bench/$bench_script, $(date -u +%Y-%m-%d)"; echo; printf '%s\n' "$machine" | sed 's/^/- /'; echo
    report md; notes; } >"$out_file"
  bench_log "markdown written to $out_file"
else
  echo
  echo "== markdown (for bench/RESULTS.md) =="
  echo "### bench/$bench_script, $(date -u +%Y-%m-%d)"; echo; printf '%s\n' "$machine" | sed 's/^/- /'; echo
  report md
  notes
fi
if [ -n "$tsv_out" ]; then
  { printf 'workload\ttool\tsetting\tmedian\tunit\truns\toptions\tfirst_failure\n'; cat "$summary"; } >"$tsv_out"
  bench_log "medians written to $tsv_out (TSV)"
fi
bench_log "results: $results (every run: workload tool setting run value unit status), $summary (medians)"
if awk -F '\t' '$7 != "ok" { bad = 1 } END { exit !bad }' "$results"; then
  bench_log "some runs failed: see the report"
  exit 1
fi
