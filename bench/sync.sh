#!/usr/bin/env bash
# Sync: `ferry sync` against `rclone sync` and `aws s3 sync`, all against one loopback S3 server (s3proxy,
# ferry.testing.S3ServerMain) in the same run: the initial upload and download of large files and of many small
# files, and a no-change re-sync of the small files, each tool at its defaults and at its best settings; prints
# medians, MB/s, files/s, the ratios and the verdicts against the targets of issue 3.
# Run from anywhere as root on Debian:  bench/sync.sh      (knobs: see bench/README.md)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$root/bench/lib.sh"
. "$root/bench/common.sh"

bench_script=sync.sh
bench_op=sync
common_knobs "upload download resync"
run_dir="$work/sync"
homes="$run_dir/ferry-homes"   # one FERRY_HOME per initial sync, so that it starts with no sync state
cleanup_paths+=("$homes")
common_prepare
common_tools
common_start_server
common_data
common_warmup "$homes/warmup"
[[ " $directions " != *" download "* ]] || common_seed

wants() { [[ " $directions " == *" $1 "* ]]; }
# The no-change re-sync is measured on the small files only, right after their initial upload.
resync_of() { [ "$1" = small ] && wants resync; }
wants resync && [[ " $workloads " != *" small "* ]] && bench_log "warning: no re-sync runs: they need the small workload"

# ---- the timed runs ----------------------------------------------------------------------------------------
# server_state PREFIX: the server's files below PREFIX with size and change time: any object written again shows.
server_state() {
  (cd "$s3dir/$bucket/$1" && find . -type f -printf '%P\t%s\t%C@\n') | LC_ALL=C sort
}

# run_sync WORKLOAD DIRECTION TOOL SETTING REP: one timed initial sync into a fresh prefix or folder, with an empty
# FERRY_HOME, then its check; after an upload of the small files, also the no-change re-sync of the same pair.
run_sync() {
  local w=$1 d=$2 t=$3 s=$4 rep=$5 id="$1-$2-$3-$4-$5" src dst local_dst= prefix= reason cmd
  local home="$homes/$id" log="$logs/$id.log"
  rm -rf "$home"
  if [ "$d" = upload ]; then
    prefix="runs/$id"
    src="$data/$w"
    dst=$(s3_uri "$t" "$prefix")
  else
    local_dst="$scratch/$id"
    src=$(s3_uri "$t" "seed/$w")
    dst="$local_dst"
  fi
  mapfile -t cmd < <(tool_command sync "$t" "$s" "$w" "$src" "$dst" "$home")
  timed_run "$log" "${cmd[@]}"
  reason=$run_reason
  if [ -z "$reason" ]; then
    if [ "$d" = upload ]; then reason=$(check_upload "$w" "$prefix" "$log"); else reason=$(check_download "$w" "$local_dst"); fi
  fi
  # An upload run only for the sake of the re-sync is not recorded.
  ! wants "$d" || record "$w" "$d" "$t" "$s" "$rep" "$run_secs" "$reason" "$log"
  if [ "$d" = upload ] && resync_of "$w"; then
    if [ -z "$reason" ]; then
      run_resync "$w" "$t" "$s" "$rep" "$src" "$dst" "$prefix" "$home"
    else
      record "$w" resync "$t" "$s" "$rep" 0 "no re-sync: the initial sync failed ($reason)" "$log"
    fi
  fi
  # Fresh prefix, folder and sync state for every run: delete this one's (objects straight from the server's folder).
  [ -z "$prefix" ] || rm -rf "${s3dir:?}/$bucket/$prefix"
  [ -z "$local_dst" ] || rm -rf "$local_dst"
  rm -rf "$home"
}

# run_resync WORKLOAD TOOL SETTING REP SRC DST PREFIX FERRY_HOME: the same sync again, nothing having changed (for
# Ferry with the state its initial run left in FERRY_HOME). It must leave the objects as they were.
run_resync() {
  local w=$1 t=$2 s=$3 rep=$4 src=$5 dst=$6 prefix=$7 home=$8 id="$1-resync-$2-$3-$4" reason cmd changed
  local log="$logs/$id.log"
  server_state "$prefix" >"$run_dir/before.state"
  mapfile -t cmd < <(tool_command resync "$t" "$s" "$w" "$src" "$dst" "$home")
  timed_run "$log" "${cmd[@]}"
  reason=$run_reason
  if [ -z "$reason" ]; then
    server_state "$prefix" >"$run_dir/after.state"
    changed=$(LC_ALL=C comm -13 "$run_dir/before.state" "$run_dir/after.state" | wc -l)
    [ "$changed" -eq 0 ] || reason="not a no-change re-sync: it wrote $changed of the $(wc -l <"$run_dir/before.state") objects again"
  fi
  [ -n "$reason" ] || reason=$(check_upload "$w" "$prefix" "$log")
  record "$w" resync "$t" "$s" "$rep" "$run_secs" "$reason" "$log"
}

: >"$results"
groups=() total_runs=0
for w in $workloads; do
  for d in upload download resync; do
    if wants "$d" && { [ "$d" != resync ] || resync_of "$w"; }; then
      groups+=("$w/$d")
      total_runs=$((total_runs + 2 * repeat * $(wc -w <<<"$tools")))
    fi
  done
done
bench_log "timed runs: $total_runs (each tool at defaults and best, $repeat times each, interleaved)"
for w in $workloads; do
  for d in upload download; do
    wants "$d" || { [ "$d" = upload ] && resync_of "$w"; } || continue
    if [ "$d" = upload ] && resync_of "$w"; then bench_log "$w upload, then no-change re-sync"; else bench_log "$w $d"; fi
    # Repetitions outermost, so that a slow spell of the shared machine touches every tool alike.
    for rep in $(seq 1 "$repeat"); do
      for t in $tools; do
        for s in defaults best; do
          run_sync "$w" "$d" "$t" "$s" "$rep"
        done
      done
    done
  done
done

# ---- the report --------------------------------------------------------------------------------------------
notes() {
  local t best=()
  for t in $tools; do
    case $t in
      ferry) best+=("ferry sync \`$ferry_best_args\`") ;;
      aws) best+=("aws \`$(setting_label sync aws best)\`") ;;
      rclone) best+=("rclone sync \`$rclone_best_large\` (large), \`$rclone_best_small\` (small), \`$rclone_best_resync\` (re-sync)") ;;
    esac
  done
  echo "- Ratio: the fastest peer's median time / Ferry's median time (above 1: Ferry is faster). MB/s: 10^6 bytes/s."
  echo "- Best settings: $(printf '%s; ' "${best[@]}" | sed 's/; $//')."
  echo "- Data: large = $large_files x $large_mb MiB of random bytes; small = $small_files x $small_kb KiB in folders of 200."
  echo "- Initial sync: into a fresh prefix or folder, Ferry with an empty FERRY_HOME (no sync state); uploads go local ->" \
    "s3://$bucket/runs/..., downloads come from s3://$bucket/seed/... (uploaded once by rclone)."
  echo "- No-change re-sync: the upload of the small files run again right after its initial sync, same tool and setting" \
    "(Ferry with that sync's FERRY_HOME: its recorded state); rclone sync compares size and modification time at" \
    "defaults; aws s3 sync compares size and time. Checked to write no object again. files/s: files checked per second."
  echo "- Median of $repeat run(s) each, page cache dropped before every run, every result checked (names, sizes, sample bytes)."
  echo "- Versions: $ferry_version; $aws_version; $rclone_version; $java_version; s3proxy 2.6.0 (filesystem-nio2) on loopback."
}

common_summarize "${groups[@]}"
common_finish notes
