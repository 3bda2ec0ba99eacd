package ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** sync, task and agent on local storage. */
class SyncCliTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path folder;

    private Map<String, String> env;
    private Path src;
    private Path dst;

    @BeforeEach
    void setUp() throws Exception {
        env = Map.of("FERRY_HOME", folder.resolve("home").toString(), "HOME", folder.toString());
        src = folder.resolve("src");
        dst = folder.resolve("dst");
        for (int i = 0; i < 12; i++) {
            Path file = src.resolve("part" + (i % 2) + "/" + i + (i == 5 ? ".tmp" : ".bin"));
            Files.createDirectories(file.getParent());
            Files.writeString(file, "record " + i);
        }
    }

    private CliRun ferry(String... args) {
        return CliRun.run(env, args);
    }

    @Test
    void sync_json_reports_copies_then_skips_and_honours_excludes() throws Exception {
        CliRun first = ferry("sync", src.toString(), dst.toString(), "--exclude", "*.tmp", "--json");
        assertThat(first.exitCode).as(first.toString()).isZero();
        JsonNode report = JSON.readTree(first.out);
        assertThat(report.get("copied").get("objects").asLong()).isEqualTo(11);
        assertThat(report.get("ok").asBoolean()).isTrue();
        assertThat(dst.resolve("part1/5.tmp")).doesNotExist();

        JsonNode second = JSON.readTree(ferry("sync", src.toString(), dst.toString(), "--exclude", "*.tmp",
                "--json").out);
        assertThat(second.get("copied").get("objects").asLong()).isZero();
        assertThat(second.get("skipped").get("objects").asLong()).isEqualTo(11);
    }

    @Test
    void sync_with_dataset_records_a_version_whose_checksums_verify() throws Exception {
        CliRun sync = ferry("sync", src.toString(), dst.toString(), "--dataset", "synced");
        assertThat(sync.exitCode).as(sync.toString()).isZero();
        assertThat(sync.out).contains("recorded dataset synced@v1 (12 objects");

        assertThat(ferry("dataset", "verify", "synced").exitCode).isZero();
        Files.writeString(dst.resolve("part0/2.bin"), "RECORD 2");
        CliRun verify = ferry("dataset", "verify", "synced");
        assertThat(verify.exitCode).isEqualTo(1);
        assertThat(verify.err).contains("part0/2.bin").contains("CRC32C mismatch");
    }

    @Test
    void dry_run_prints_the_plan_and_changes_nothing() {
        CliRun dry = ferry("sync", src.toString(), dst.toString(), "--dry-run");
        assertThat(dry.exitCode).isZero();
        assertThat(dry.out).contains("copy").contains("part0/0.bin").contains("dry run of");
        assertThat(dst).doesNotExist();
    }

    @Test
    void a_symbolic_link_out_of_the_destination_fails_its_keys_and_the_dry_run_and_delete_say_the_same()
            throws Exception {
        Path outside = Files.createDirectories(folder.resolve("outside"));
        Files.createDirectories(dst);
        Files.createSymbolicLink(dst.resolve("part1"), outside);

        CliRun plain = ferry("sync", src.toString(), dst.toString());
        CliRun planned = ferry("sync", src.toString(), dst.toString(), "--delete", "-n");
        CliRun deleting = ferry("sync", src.toString(), dst.toString(), "--delete");

        for (CliRun run : List.of(plain, planned, deleting)) {
            assertThat(run.exitCode).as(run.toString()).isEqualTo(1);
            assertThat(run.out).as(run.toString()).contains("6 failed");
            assertThat(run.err).as(run.toString())
                    .contains("FAILED part1/1.bin: refusing object key 'part1/1.bin': a symbolic link on its way leads"
                            + " outside")
                    .contains("remove the link").doesNotContain("--delete");
        }
        assertThat(planned.out).doesNotContain("part1/");
        assertThat(dst.resolve("part1")).isSymbolicLink();
        try (var left = Files.list(outside)) {
            assertThat(left).isEmpty();
        }
    }

    @Test
    void filters_that_take_nothing_copy_nothing_and_with_delete_are_refused_by_name() throws Exception {
        assertThat(ferry("sync", src.toString(), dst.toString()).exitCode).isZero();
        Files.writeString(dst.resolve("extra.bin"), "the destination's own");

        for (String[] filter : new String[][] {{"--include", "*.nomatch"}, {"--min-size", "1G"},
                {"--newer-than", "2099-01-01"}}) {
            CliRun run = ferry("sync", src.toString(), dst.toString(), filter[0], filter[1]);
            assertThat(run.exitCode).as(run.toString()).isZero();
            assertThat(run.out).as(run.toString()).contains("copied 0 objects").contains("left out 12 by the filters");

            CliRun delete = ferry("sync", src.toString(), dst.toString(), filter[0], filter[1], "--delete");
            assertThat(delete.exitCode).as(delete.toString()).isEqualTo(1);
            assertThat(delete.err).as(delete.toString()).contains("the filters " + filter[0])
                    .contains("take none of the objects").contains("refusing to sync with --delete");
        }
        assertThat(dst.resolve("extra.bin")).exists();

        Path empty = Files.createDirectories(folder.resolve("empty"));
        CliRun nothing = ferry("sync", empty.toString(), dst.toString());
        assertThat(nothing.exitCode).as(nothing.toString()).isEqualTo(1);
        assertThat(nothing.err).contains("has no objects");
    }

    @Test
    void bad_sync_options_are_usage_errors() {
        CliRun size = ferry("sync", src.toString(), dst.toString(), "--min-size", "lots");
        assertThat(size.exitCode).isEqualTo(2);
        assertThat(size.err).contains("'lots' is not a size");

        CliRun both = ferry("sync", src.toString(), dst.toString(), "--size-only", "--checksum");
        assertThat(both.exitCode).isEqualTo(2);
        assertThat(both.err).contains("mutually exclusive");

        CliRun missing = ferry("sync", folder.resolve("absent").toString(), dst.toString());
        assertThat(missing.exitCode).isEqualTo(1);
        assertThat(missing.err).contains("absent").contains("does not exist");
    }

    @Test
    void a_second_agent_on_one_ferry_home_is_refused_naming_the_first() throws Exception {
        Path lock = folder.resolve("home/agent.lock");
        Process first = ChildFerry.start(env, folder.resolve("agent.log"), "agent", "--poll", "1s");
        try {
            java.time.Instant deadline = java.time.Instant.now().plusSeconds(30);
            while (!Files.exists(lock) || !Files.readString(lock).startsWith("pid ")) {
                assertThat(first.isAlive()).as(Files.exists(folder.resolve("agent.log"))
                        ? Files.readString(folder.resolve("agent.log")) : "no log").isTrue();
                assertThat(java.time.Instant.now()).as("the first agent took its lock").isBefore(deadline);
                Thread.sleep(20);
            }

            CliRun second = ferry("agent", "--once");

            assertThat(second.exitCode).isEqualTo(1);
            assertThat(second.err).contains("another agent runs the tasks of " + folder.resolve("home"))
                    .contains("pid " + first.pid());
        } finally {
            first.destroy();
            first.waitFor();
        }
        assertThat(ferry("agent", "--once").exitCode).as("free again once the first has stopped").isZero();
    }

    @Test
    void a_task_runs_when_due_keeps_its_report_and_is_not_run_again_before_its_time() throws Exception {
        CliRun add = ferry("task", "add", "nightly", src.toString(), dst.toString(), "--every", "24h",
                "--exclude", "*.tmp");
        assertThat(add.exitCode).as(add.toString()).isZero();
        assertThat(ferry("task", "add", "nightly", src.toString(), dst.toString(), "--every", "1h").err)
                .contains("a task named 'nightly' exists already");

        CliRun agent = ferry("agent", "--once");
        assertThat(agent.exitCode).as(agent.toString()).isZero();
        assertThat(agent.out).contains("task nightly: starting").contains("copied 11 objects");
        assertThat(dst.resolve("part0/0.bin")).exists();

        CliRun again = ferry("agent", "--once");
        assertThat(again.out).doesNotContain("starting");

        JsonNode tasks = JSON.readTree(ferry("task", "ls", "--json").out);
        assertThat(tasks.get(0).get("runs").asInt()).isEqualTo(1);
        assertThat(tasks.get(0).get("lastStatus").asText()).isEqualTo("ok");
        Instant next = Instant.parse(tasks.get(0).get("nextRun").asText());
        Instant last = Instant.parse(tasks.get(0).get("lastRun").asText());
        assertThat(Duration.between(last, next)).isEqualTo(Duration.ofHours(24));
        try (var runs = Files.list(folder.resolve("home/tasks/nightly/runs"))) {
            assertThat(runs.filter(p -> p.toString().endsWith(".json")).count()).isEqualTo(1);
        }

        assertThat(ferry("task", "rm", "nightly").exitCode).isZero();
        CliRun gone = ferry("task", "run", "nightly");
        assertThat(gone.exitCode).as("as for a missing job or dataset").isEqualTo(1);
        assertThat(gone.err).contains("no task named 'nightly'");
        CliRun removeGone = ferry("task", "rm", "nightly");
        assertThat(removeGone.exitCode).isEqualTo(1);
        assertThat(removeGone.err).contains("no task named 'nightly'");
    }

    @Test
    void a_sync_or_task_whose_destination_overlaps_its_source_is_a_usage_error() throws Exception {
        CliRun sync = ferry("sync", src.resolve("part0").toString(), src.toString(), "--delete");
        assertThat(sync.exitCode).as(sync.toString()).isEqualTo(2);
        assertThat(sync.err).contains("overlap");
        assertThat(src.resolve("part1/1.bin")).exists();

        CliRun add = ferry("task", "add", "t", src.toString(), src.resolve("backup").toString(), "--every", "1h");
        assertThat(add.exitCode).as(add.toString()).isEqualTo(2);
        assertThat(add.err).contains("overlap");
        assertThat(JSON.readTree(ferry("task", "ls", "--json").out).size()).isZero();
    }

    @Test
    void a_task_that_cannot_start_is_recorded_and_the_agent_goes_on_with_the_others() throws Exception {
        Path mirror = folder.resolve("mirror");
        assertThat(ferry("task", "add", "a", src.toString(), mirror.toString(), "--every", "1h").exitCode).isZero();
        assertThat(ferry("task", "add", "b", src.toString(), dst.toString(), "--every", "1h").exitCode).isZero();
        // Apart when a was added; now its destination is a link into its source, so a's run is refused.
        Files.createSymbolicLink(mirror, src.resolve("part0"));

        CliRun agent = ferry("agent", "--once");

        assertThat(agent.exitCode).as(agent.toString()).isEqualTo(1);
        assertThat(agent.err).contains("task a: ").contains("overlap");
        assertThat(agent.out).contains("task b: starting").contains("copied 12 objects");
        JsonNode tasks = JSON.readTree(ferry("task", "ls", "--json").out);
        assertThat(tasks.get(0).get("lastStatus").asText()).isEqualTo("error");
        assertThat(tasks.get(1).get("lastStatus").asText()).isEqualTo("ok");
        assertThat(src.resolve("part0/mirror")).doesNotExist();
    }

    @Test
    void a_damaged_task_file_is_named_and_the_agent_and_task_ls_go_on_with_the_others() throws Exception {
        assertThat(ferry("task", "add", "a", src.toString(), folder.resolve("mirror").toString(), "--every", "1h")
                .exitCode).isZero();
        assertThat(ferry("task", "add", "b", src.toString(), dst.toString(), "--every", "1h").exitCode).isZero();
        Path damaged = folder.resolve("home/tasks/a/task.json");
        Files.writeString(damaged, "{\"name\": \"a\", \"sou");

        CliRun agent = ferry("agent", "--once");

        assertThat(agent.exitCode).as(agent.toString()).isEqualTo(1);
        assertThat(agent.err).contains(damaged.toString()).contains("ferry task rm a");
        assertThat(agent.out).contains("task b: starting").contains("copied 12 objects");
        CliRun ls = ferry("task", "ls", "--json");
        assertThat(ls.exitCode).as(ls.toString()).isEqualTo(1);
        assertThat(ls.err).contains(damaged.toString());
        JsonNode tasks = JSON.readTree(ls.out);
        assertThat(tasks.size()).isEqualTo(1);
        assertThat(tasks.get(0).get("name").asText()).isEqualTo("b");
        CliRun run = ferry("task", "run", "a");
        assertThat(run.exitCode).as(run.toString()).isEqualTo(1);
        assertThat(run.err).contains(damaged.toString());
        assertThat(ferry("task", "rm", "a").exitCode).isZero();
        assertThat(ferry("task", "ls").exitCode).isZero();
    }

    @Test
    void a_run_record_whose_start_is_not_a_time_is_no_run_and_stops_nothing() throws Exception {
        assertThat(ferry("task", "add", "t", src.toString(), dst.toString(), "--every", "1h").exitCode).isZero();
        Path runs = Files.createDirectories(folder.resolve("home/tasks/t/runs"));
        Files.writeString(runs.resolve("2026-01-01T00-00-00Z.json"),
                "{\"started\": \"yesterday\", \"status\": \"ok\"}");

        CliRun agent = ferry("agent", "--once");

        assertThat(agent.exitCode).as(agent.toString()).isZero();
        assertThat(agent.out).contains("task t: starting");
        CliRun ls = ferry("task", "ls", "--json");
        assertThat(ls.exitCode).as(ls.toString()).isZero();
        assertThat(JSON.readTree(ls.out).get(0).get("runs").asInt()).isEqualTo(1);
    }

    @Test
    void a_task_run_refused_because_the_same_sync_is_running_is_recorded_as_skipped() throws Exception {
        assertThat(ferry("task", "add", "t", src.toString(), dst.toString(), "--every", "1h").exitCode).isZero();
        Path lock = new ferry.transfer.Syncer(null, folder.resolve("home/sync"), java.time.Clock.systemUTC(),
                ferry.time.Ticker.SYSTEM).stateFolder(ferry.store.Location.of(src), ferry.store.Location.of(dst))
                .resolve("lock");
        Files.createDirectories(lock.getParent());
        // Another process runs the same sync: it holds the pair's lock and names itself in it.
        Process other = new ProcessBuilder("/usr/bin/python3", "-c", """
                import fcntl, sys
                f = open(sys.argv[1], 'a+')
                fcntl.lockf(f, fcntl.LOCK_EX)
                f.write('pid 4242, a sync started by hand'); f.flush()
                print('held', flush=True)
                sys.stdin.read()
                """, lock.toString()).start();
        try {
            assertThat(new String(other.getInputStream().readNBytes(4))).isEqualTo("held");

            CliRun agent = ferry("agent", "--once");

            assertThat(agent.err).contains("another run of this sync is in progress").contains("pid 4242");
            JsonNode task = JSON.readTree(ferry("task", "ls", "--json").out).get(0);
            assertThat(task.get("lastStatus").asText()).isEqualTo("skipped");
        } finally {
            other.getOutputStream().close();
            other.waitFor();
        }
    }

    @Test
    void a_run_record_cut_short_by_a_crash_is_passed_over() throws Exception {
        assertThat(ferry("task", "add", "t", src.toString(), dst.toString(), "--every", "24h").exitCode).isZero();
        assertThat(ferry("agent", "--once").exitCode).isZero();
        JsonNode before = JSON.readTree(ferry("task", "ls", "--json").out).get(0);
        // What a power cut can leave of the next runs' records: their names, and none or part of their bytes.
        Files.createFile(folder.resolve("home/tasks/t/runs/2999-01-01T00-00-00Z.json"));
        Files.writeString(folder.resolve("home/tasks/t/runs/2999-01-02T00-00-00Z.json"), "{\"task\" : \"t\", \"sta");

        CliRun ls = ferry("task", "ls", "--json");
        CliRun agent = ferry("agent", "--once");

        assertThat(ls.exitCode).as(ls.toString()).isZero();
        JsonNode after = JSON.readTree(ls.out).get(0);
        assertThat(after.get("lastRun")).isEqualTo(before.get("lastRun"));
        assertThat(after.get("lastStatus").asText()).isEqualTo("ok");
        assertThat(after.get("runs").asInt()).isEqualTo(1);
        assertThat(agent.exitCode).as(agent.toString()).isZero();
        assertThat(agent.out).doesNotContain("starting");
    }

    @Test
    void the_agent_skips_a_task_removed_while_an_earlier_task_ran() throws Exception {
        Path home = folder.resolve("home");
        Path other = folder.resolve("other");
        // Task a's run deletes task b's definition (it syncs into b's folder with --delete), so b is gone when its
        // turn comes in the same round: the agent must not run what it listed before a ran.
        assertThat(ferry("task", "add", "b", src.toString(), other.toString(), "--every", "1h").exitCode).isZero();
        assertThat(ferry("task", "add", "a", src.toString(), home.resolve("tasks/b").toString(), "--every", "1h",
                "--delete").exitCode).isZero();

        CliRun agent = ferry("agent", "--once");

        assertThat(agent.exitCode).as(agent.toString()).isZero();
        assertThat(agent.out).contains("task a: starting").doesNotContain("task b: starting");
        assertThat(home.resolve("tasks/b/task.json")).doesNotExist();
        assertThat(other).doesNotExist();
    }

    @Test
    void task_schedule_anchored_at_a_time_of_day() {
        Tasks.Task task = new Tasks.Task("t", "file:///a/", "file:///b/", "PT24H", "02:00", "UTC",
                java.util.List.of(), "2026-01-01T00:00:00Z");
        Instant now = Instant.parse("2026-03-10T10:00:00Z");
        assertThat(task.nextRun(null, now)).isEqualTo(Instant.parse("2026-03-11T02:00:00Z"));
        assertThat(task.nextRun(Instant.parse("2026-03-11T02:00:03Z"), now))
                .isEqualTo(Instant.parse("2026-03-12T02:00:00Z"));
        Tasks.Task hourly = new Tasks.Task("h", "file:///a/", "file:///b/", "PT1H", null, "UTC",
                java.util.List.of(), "2026-01-01T00:00:00Z");
        assertThat(hourly.nextRun(null, now)).isEqualTo(now);
        assertThat(hourly.nextRun(now, now)).isEqualTo(now.plusSeconds(3600));
    }

    /** The instants an agent polling every minute from {@code from} to {@code to} would start the task at. */
    private static java.util.List<Instant> runs(Tasks.Task task, Instant from, Instant to) {
        java.util.List<Instant> runs = new java.util.ArrayList<>();
        Instant last = null;
        for (Instant now = from; now.isBefore(to); now = now.plusSeconds(60)) {
            if (!now.isBefore(task.nextRun(last, now))) {
                runs.add(now);
                last = now.plusSeconds(5); // a run starts a little after it is found due
            }
        }
        return runs;
    }

    private static Tasks.Task anchored(String every, String at, String zone) {
        return new Tasks.Task("t", "file:///a/", "file:///b/", every, at, zone, java.util.List.of(),
                "2025-01-01T00:00:00Z");
    }

    @Test
    void anchored_schedules_keep_their_time_of_day_and_interval_across_weeks_and_clock_changes() {
        Instant start = Instant.parse("2025-10-20T12:00:00Z");
        Instant end = Instant.parse("2025-11-10T12:00:00Z");

        assertThat(runs(anchored("P7D", "02:00", "UTC"), start, end)).containsExactly(
                Instant.parse("2025-10-21T02:00:00Z"), Instant.parse("2025-10-28T02:00:00Z"),
                Instant.parse("2025-11-04T02:00:00Z"));
        assertThat(runs(anchored("PT48H", "02:00", "UTC"), start, Instant.parse("2025-10-27T12:00:00Z")))
                .containsExactly(Instant.parse("2025-10-21T02:00:00Z"), Instant.parse("2025-10-23T02:00:00Z"),
                        Instant.parse("2025-10-25T02:00:00Z"), Instant.parse("2025-10-27T02:00:00Z"));
        // Clocks go back in Berlin on 26 October and in New York on 2 November: still once a day, at the local time.
        for (String[] zoneAndTime : new String[][] {{"Europe/Berlin", "02:00"}, {"America/New_York", "09:00"},
                {"Europe/Berlin", "02:30"}}) {
            java.time.ZoneId zone = java.time.ZoneId.of(zoneAndTime[0]);
            java.util.List<Instant> daily = runs(anchored("PT24H", zoneAndTime[1], zoneAndTime[0]), start, end);
            assertThat(daily).as("%s at %s", zoneAndTime[0], zoneAndTime[1]).hasSize(21)
                    .allSatisfy(run -> assertThat(run.atZone(zone).toLocalTime().toString())
                            .isEqualTo(zoneAndTime[1]));
            assertThat(daily.stream().map(run -> run.atZone(zone).toLocalDate()).distinct()).hasSize(21);
        }
        assertThat(runs(anchored("PT6H", "02:00", "UTC"), start, Instant.parse("2025-10-21T12:00:00Z")))
                .containsExactly(Instant.parse("2025-10-20T14:00:00Z"), Instant.parse("2025-10-20T20:00:00Z"),
                        Instant.parse("2025-10-21T02:00:00Z"), Instant.parse("2025-10-21T08:00:00Z"));
    }

    @Test
    void bad_task_definitions_are_refused_by_name() {
        assertThat(ferry("task", "add", "t", src.toString(), dst.toString(), "--every", "soon").err)
                .contains("'soon' is not a duration");
        assertThat(ferry("task", "add", "t", src.toString(), dst.toString(), "--every", "1h", "--at", "25:99").err)
                .contains("--at must be a time of day");
        assertThat(ferry("task", "add", "bad/name", src.toString(), dst.toString(), "--every", "1h").err)
                .contains("not a valid");
        CliRun odd = ferry("task", "add", "t", src.toString(), dst.toString(), "--every", "36h", "--at", "02:00");
        assertThat(odd.exitCode).isEqualTo(2);
        assertThat(odd.err).contains("with --at, --every must be whole days");
    }
}
