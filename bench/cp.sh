#!/usr/bin/env bash
# Copy throughput: `ferry cp` against `aws s3 cp --recursive` and `rclone copy`, all against one loopback S3
# server (s3proxy, ferry.testing.S3ServerMain) in the same run. Large files and many small files, upload and
# download, each tool at its defaults and at its best settings; prints medians, MB/s, files/s and the ratios.
# Run from anywhere as root on Debian:  bench/cp.sh      (knobs: see bench/README.md)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$root/bench/lib.sh"
. "$root/bench/common.sh"

bench_script=cp.sh
bench_op=cp
common_knobs "upload download"
run_dir=$work
common_prepare
common_tools
common_start_server
common_data
common_warmup "$run_dir/ferry-home"
[[ " $directions " != *" download "* ]] || common_seed

# ---- the timed runs ----------------------------------------------------------------------------------------
# run_one WORKLOAD DIRECTION TOOL SETTING REP: one timed copy into a fresh prefix or folder, then its check.
run_one() {
  local w=$1 d=$2 t=$3 s=$4 rep=$5 id="$1-$2-$3-$4-$5" src dst local_dst= prefix= reason cmd
  if [ "$d" = upload ]; then
    prefix="runs/$id"
    src="$data/$w"
    dst=$(s3_uri "$t" "$prefix")
  else
    local_dst="$scratch/$id"
    src=$(s3_uri "$t" "seed/$w")
    dst="$local_dst"
  fi
  local log="$logs/$id.log"
  mapfile -t cmd < <(tool_command cp "$t" "$s" "$w" "$src" "$dst" "$run_dir/ferry-home")
  timed_run "$log" "${cmd[@]}"
  reason=$run_reason
  if [ -z "$reason" ]; then
    if [ "$d" = upload ]; then reason=$(check_upload "$w" "$prefix" "$log"); else reason=$(check_download "$w" "$local_dst"); fi
  fi
  record "$w" "$d" "$t" "$s" "$rep" "$run_secs" "$reason" "$log"
  # Fresh prefix or folder for every run: delete this one's output (objects straight from the server's folder).
  [ -z "$prefix" ] || rm -rf "${s3dir:?}/$bucket/$prefix"
  [ -z "$local_dst" ] || rm -rf "$local_dst"
}

: >"$results"
total_runs=0
for w in $workloads; do for d in $directions; do for t in $tools; do total_runs=$((total_runs + 2 * repeat)); done; done; done
bench_log "timed runs: $total_runs (each tool at defaults and best, $repeat times each, interleaved)"
groups=()
for w in $workloads; do
  for d in $directions; do
    bench_log "$w $d"
    groups+=("$w/$d")
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
notes() {
  local t best=()
  for t in $tools; do
    case $t in
      ferry) best+=("ferry cp \`$ferry_best_args\`") ;;
      aws) best+=("aws \`$(setting_label cp aws best)\`") ;;
      rclone) best+=("rclone copy \`$rclone_best_large\` (large), \`$rclone_best_small\` (small)") ;;
    esac
  done
  echo "- Ratio: the fastest peer's median time / Ferry's median time (above 1: Ferry is faster). MB/s: 10^6 bytes/s."
  echo "- Best settings: $(printf '%s; ' "${best[@]}" | sed 's/; $//')."
  echo "- Data: large = $large_files x $large_mb MiB of random bytes; small = $small_files x $small_kb KiB in folders of 200."
  echo "- Median of $repeat run(s) each, page cache dropped before every run, every copy checked (names, sizes, sample bytes)."
  echo "- Versions: $ferry_version; $aws_version; $rclone_version; $java_version; s3proxy 2.6.0 (filesystem-nio2) on loopback."
}

common_summarize "${groups[@]}"
common_finish notes
