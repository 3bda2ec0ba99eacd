package ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line against local storage: what users type, what they see, and the exit codes. */
class FerryCliTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path folder;

    private Map<String, String> env;
    private Path data;

    @BeforeEach
    void setUp() throws Exception {
        env = Map.of("FERRY_HOME", folder.resolve("home").toString(), "HOME", folder.toString());
        data = folder.resolve("data");
        for (int i = 0; i < 20; i++) {
            Path file = data.resolve("train/class" + (i % 3) + "/" + i + ".bin");
            Files.createDirectories(file.getParent());
            Files.writeString(file, "sample " + i);
        }
    }

    private CliRun ferry(String... args) {
        return CliRun.run(env, args);
    }

    @Test
    void cache_status_and_clear_of_a_cache_folder_that_is_not_there_say_so_and_create_nothing() {
        Path typo = folder.resolve("cahce");
        for (String command : new String[] {"status", "clear"}) {
            CliRun run = ferry("cache", command, "--cache-dir", typo.toString());

            assertThat(run.exitCode).as(run.toString()).isEqualTo(2);
            assertThat(run.err).contains("no cache folder at " + typo).contains("--cache-dir");
            assertThat(typo).doesNotExist();
        }
    }

    @Test
    void a_cache_folder_inside_the_mount_point_or_around_it_is_refused_and_nothing_is_made() {
        // The mount would hide the cache (every chunk then went uncached, "Read-only file system") or its chunks.
        // FUSE is never reached: a mount that got so far fails on this library instead of running on.
        Map<String, String> noFuse = new java.util.HashMap<>(env);
        noFuse.put("FERRY_LIBFUSE", folder.resolve("nowhere/libfuse3.so.3").toString());
        Path mnt = folder.resolve("mnt");
        Path cache = folder.resolve("cache");
        for (String[] at : new String[][] {{mnt.toString(), mnt.resolve("cache").toString()},
                {cache.resolve("chunks").toString(), cache.toString()}, {mnt.toString(), mnt + "/"}}) {
            CliRun run = CliRun.run(noFuse, "mount", data.toString(), at[0], "--cache-dir", at[1]);

            assertThat(run.exitCode).as(run.toString()).isEqualTo(2);
            assertThat(run.err).contains("the mount point " + at[0]).contains("cache folder");
            assertThat(mnt).doesNotExist();
            assertThat(cache).doesNotExist();
        }
    }

    @Test
    void demo_runs_end_to_end_on_the_default_store() {
        CliRun demo = ferry("demo", "--images", "40");

        assertThat(demo.exitCode).as(demo.toString()).isZero();
        assertThat(demo.out).contains("40 PNG files").contains("cifar10-demo@v1").contains("0 mismatches")
                .contains("dataset verify");
        assertThat(folder.resolve("home/store/.ferry/datasets/cifar10-demo/v1.json")).exists();
        CliRun ls = ferry("dataset", "ls");
        assertThat(ls.out).contains("cifar10-demo").contains("v1").contains("40");
    }

    @Test
    void ls_and_a_sync_plan_write_control_characters_in_a_name_as_escapes_and_json_keeps_the_name() throws Exception {
        Path odd = folder.resolve("odd");
        Files.createDirectories(odd);
        Files.writeString(odd.resolve("two\nlines\u001b[31mred\u0085.txt"), "x");

        CliRun ls = ferry("ls", odd.toString());
        assertThat(ls.exitCode).as(ls.toString()).isZero();
        assertThat(ls.out.lines()).singleElement().asString()
                .endsWith("$'two\\nlines\\x1b[31mred\\x85.txt'").doesNotContain("\u001b");

        CliRun json = ferry("ls", odd.toString(), "--json");
        assertThat(JSON.readTree(json.out).get("key").asText()).isEqualTo("two\nlines\u001b[31mred\u0085.txt");

        CliRun plan = ferry("sync", odd.toString(), folder.resolve("odd-copy").toString(), "--dry-run");
        assertThat(plan.exitCode).as(plan.toString()).isZero();
        assertThat(plan.out).contains("$'two\\nlines\\x1b[31mred\\x85.txt'").doesNotContain("\u001b");

        Files.writeString(odd.resolve("two\\nlines"), "a backslash, not a newline");
        assertThat(ferry("ls", odd.toString()).out.lines()).as("two names never print alike")
                .anySatisfy(line -> assertThat(line).endsWith(" two\\nlines"))
                .anySatisfy(line -> assertThat(line).endsWith(" $'two\\nlines\\x1b[31mred\\x85.txt'"));
    }

    @Test
    void cp_then_ls_json_lists_every_object_with_its_size() throws Exception {
        Path copy = folder.resolve("copy");
        CliRun cp = ferry("cp", data.toString(), copy.toString(), "--json");
        assertThat(cp.exitCode).as(cp.toString()).isZero();
        JsonNode report = JSON.readTree(cp.out);
        assertThat(report.get("objects").asLong()).isEqualTo(20);
        assertThat(report.get("failures")).isEmpty();

        CliRun ls = ferry("ls", copy.toString(), "--json");
        List<String> lines = ls.out.lines().toList();
        assertThat(lines).hasSize(20);
        JsonNode first = JSON.readTree(lines.getFirst());
        assertThat(first.get("key").asText()).isEqualTo("train/class0/0.bin");
        assertThat(first.get("size").asLong()).isEqualTo("sample 0".length());
    }

    @Test
    void what_is_not_a_file_in_a_source_folder_is_passed_over_by_name_by_every_command_that_lists_it()
            throws Exception {
        Path elsewhere = folder.resolve("elsewhere");
        Files.createDirectories(elsewhere);
        Files.writeString(elsewhere.resolve("behind.bin"), "behind a link to a folder");
        Files.createSymbolicLink(data.resolve("train/extra"), elsewhere);
        assertThat(new ProcessBuilder("mkfifo", data.resolve("train/pipe").toString()).start().waitFor()).isZero();
        String[][] commands = {
            {"ls", data.toString()},
            {"cp", data.toString(), folder.resolve("copy").toString()},
            {"sync", data.toString(), folder.resolve("synced").toString()},
            {"dataset", "create", "toy", "--from", data.toString()}};

        for (String[] command : commands) {
            CliRun run = ferry(command);

            assertThat(run.exitCode).as(run.toString()).isZero();
            assertThat(run.err).as(run.toString()).contains("passed over 2 entries of the source that are not a file")
                    .contains("train/extra: a symbolic link to a folder, not followed")
                    .contains("train/pipe: a named pipe");
        }
        assertThat(folder.resolve("copy/train/extra")).doesNotExist();

        CliRun json = ferry("cp", data.toString(), folder.resolve("copy2").toString(), "--json");
        JsonNode passed = JSON.readTree(json.out).get("passedOver");
        assertThat(passed).hasSize(2);
        assertThat(passed.get(1).get("key").asText()).isEqualTo("train/pipe");
        assertThat(passed.get(1).get("what").asText()).isEqualTo("a named pipe");
    }

    @Test
    void cp_and_sync_with_follow_links_copy_what_a_link_to_a_folder_holds_and_a_task_keeps_the_choice()
            throws Exception {
        Path elsewhere = Files.createDirectories(folder.resolve("elsewhere"));
        Files.writeString(elsewhere.resolve("behind.bin"), "behind a link to a folder");
        Files.createSymbolicLink(data.resolve("train/extra"), elsewhere);

        CliRun plain = ferry("cp", data.toString(), folder.resolve("plain").toString());
        assertThat(plain.err).as(plain.toString()).contains("train/extra: a symbolic link to a folder, not followed")
                .contains("--follow-links");
        assertThat(folder.resolve("plain/train/extra")).doesNotExist();
        for (String command : List.of("cp", "sync")) {
            Path copy = folder.resolve(command + "-followed");
            CliRun run = ferry(command, data.toString(), copy.toString(), "-L");

            assertThat(run.exitCode).as(run.toString()).isZero();
            assertThat(run.err).as(run.toString()).doesNotContain("passed over");
            assertThat(copy.resolve("train/extra/behind.bin")).hasContent("behind a link to a folder");
            assertThat(Files.isSymbolicLink(copy.resolve("train/extra"))).isFalse();
        }

        // A link into the destination is not followed: each run would copy the last run's copy again, one level deeper.
        Path into = Files.createDirectories(folder.resolve("into"));
        Files.createSymbolicLink(data.resolve("to-destination"), into);
        for (int i = 0; i < 2; i++) {
            CliRun run = ferry("sync", data.toString(), into.toString(), "-L");
            assertThat(run.exitCode).as(run.toString()).isZero();
            assertThat(run.err).as(run.toString()).contains("to-destination: a symbolic link into the destination");
        }
        assertThat(into.resolve("to-destination")).doesNotExist();
        Files.delete(data.resolve("to-destination"));

        assertThat(ferry("task", "add", "linked", data.toString(), folder.resolve("task-copy").toString(),
                "--every", "24h", "--follow-links").exitCode).isZero();
        CliRun task = ferry("task", "run", "linked");
        assertThat(task.exitCode).as(task.toString()).isZero();
        assertThat(folder.resolve("task-copy/train/extra/behind.bin")).hasContent("behind a link to a folder");
    }

    @Test
    void dataset_create_show_and_verify_and_a_corrupted_object_fails_verify_by_name() throws Exception {
        CliRun create = ferry("dataset", "create", "toy", "--from", data.toString());
        assertThat(create.exitCode).as(create.toString()).isZero();
        assertThat(create.out).contains("created toy@v1").contains("20 objects");

        CliRun show = ferry("dataset", "show", "toy@v1", "--json");
        JsonNode manifest = JSON.readTree(show.out);
        assertThat(manifest.get("format").asText()).isEqualTo("ferry.manifest/1");
        assertThat(manifest.get("entries")).hasSize(20);
        assertThat(manifest.get("entries").get(0).get("crc32c").asText()).matches("[0-9a-f]{8}");

        assertThat(ferry("dataset", "verify", "toy").exitCode).isZero();

        Files.writeString(data.resolve("train/class1/4.bin"), "sample X"); // same size, different bytes
        CliRun verify = ferry("dataset", "verify", "toy", "--json");
        assertThat(verify.exitCode).isEqualTo(1);
        JsonNode result = JSON.readTree(verify.out);
        assertThat(result.get("ok").asBoolean()).isFalse();
        assertThat(result.get("mismatches").get(0).get("key").asText()).isEqualTo("train/class1/4.bin");
    }

    @Test
    void verbose_prints_the_stack_trace_given_before_or_after_the_command() {
        String missing = folder.resolve("missing").toString();
        String[][] runs = {{"-v", "ls", missing}, {"ls", missing, "-v"}, {"ls", "--verbose", missing}};
        for (String[] args : runs) {
            CliRun run = ferry(args);
            assertThat(run.exitCode).as(run.toString()).isEqualTo(1);
            assertThat(run.err).as(String.join(" ", args)).contains("ferry: ").contains("\tat ferry.");
        }
        assertThat(ferry("ls", missing).err).doesNotContain("\tat ");
    }

    @Test
    void every_command_has_help() {
        for (String[] command : new String[][] {{}, {"cp"}, {"sync"}, {"ls"}, {"dataset"}, {"dataset", "create"},
                {"dataset", "ls"}, {"dataset", "show"}, {"dataset", "verify"}, {"demo"}, {"task"}, {"task", "add"},
                {"task", "ls"}, {"task", "rm"}, {"task", "run"}, {"agent"}, {"mount"}, {"cache"}, {"cache", "preload"},
                {"cache", "status"}, {"cache", "clear"}, {"train"}, {"jobs"}}) {
            String[] args = java.util.stream.Stream.concat(java.util.Arrays.stream(command),
                    java.util.stream.Stream.of("--help")).toArray(String[]::new);
            CliRun help = ferry(args);
            assertThat(help.exitCode).as(String.join(" ", args)).isZero();
            assertThat(help.out).contains("Usage: ferry").doesNotContainPattern("\\bnull\\b");
        }
    }

    @Test
    void usage_errors_exit_2_and_say_what_is_wrong() {
        CliRun unknown = ferry("cp", "--no-such-option", "a", "b");
        assertThat(unknown.exitCode).isEqualTo(2);
        assertThat(unknown.err).contains("--no-such-option");

        CliRun scheme = ferry("ls", "gs://bucket/x");
        assertThat(scheme.exitCode).isEqualTo(2);
        assertThat(scheme.err).contains("unsupported scheme 'gs'");

        CliRun name = ferry("dataset", "create", "no/slashes", "--from", data.toString());
        assertThat(name.exitCode).isEqualTo(2);
        assertThat(name.err).contains("'no/slashes' is not a valid dataset name");

        // Values parsed once the command runs are usage errors too, not unexpected ones.
        CliRun age = ferry("sync", data.toString(), folder.resolve("dst").toString(), "--newer-than", "garbage");
        assertThat(age.exitCode).as(age.toString()).isEqualTo(2);
        assertThat(age.err).contains("garbage").doesNotContain("unexpected");
        Path mnt = folder.resolve("mnt");
        CliRun chunk = ferry("mount", "--chunk-size", "4GiB", data.toString(), mnt.toString());
        assertThat(chunk.exitCode).as(chunk.toString()).isEqualTo(2);
        assertThat(chunk.err).contains("chunk size must be between 4 KiB and 64 MiB, not 4294967296");
        for (String days : new String[] {"200000", "99999999999999999999"}) { // past what a Duration holds in ns
            CliRun ttl = ferry("mount", "--metadata-ttl", days + "d", data.toString(), mnt.toString());
            assertThat(ttl.exitCode).as(ttl.toString()).isEqualTo(2);
            assertThat(ttl.err).contains(days).contains("too long").doesNotContain("unexpected");
        }
        CliRun poll = ferry("agent", "--once", "--poll", "0s");
        assertThat(poll.exitCode).as(poll.toString()).isEqualTo(2);
        assertThat(poll.err).contains("--poll must be at least 1s");
    }

    @Test
    void missing_things_exit_1_and_are_named() {
        CliRun cp = ferry("cp", folder.resolve("absent").toString(), folder.resolve("dst").toString());
        assertThat(cp.exitCode).isEqualTo(1);
        assertThat(cp.err).contains("absent");

        CliRun show = ferry("dataset", "show", "ghost");
        assertThat(show.exitCode).isEqualTo(1);
        assertThat(show.err).contains("no dataset named 'ghost'");
    }

    @Test
    void copying_a_folder_onto_a_file_says_the_destination_is_a_file() throws Exception {
        Path file = folder.resolve("a-file");
        java.nio.file.Files.writeString(file, "in the way");

        CliRun cp = ferry("cp", data.toString(), file.toString());

        assertThat(cp.exitCode).isEqualTo(1);
        assertThat(cp.err).contains("cannot copy into " + file + ": it is a file, not a folder");
        CliRun below = ferry("cp", data.toString(), file.resolve("below/deeper").toString());
        assertThat(below.exitCode).isEqualTo(1);
        assertThat(below.err).contains("cannot copy into " + file.resolve("below/deeper") + ": " + file
                + " is a file, not a folder");
        assertThat(java.nio.file.Files.readString(file)).isEqualTo("in the way");
    }

    @Test
    void a_corrupt_manifest_is_reported_by_location() throws Exception {
        assertThat(ferry("dataset", "create", "toy", "--from", data.toString()).exitCode).isZero();
        Files.writeString(folder.resolve("home/store/.ferry/datasets/toy/v1.json"), "not json");

        CliRun show = ferry("dataset", "show", "toy");
        assertThat(show.exitCode).isEqualTo(1);
        assertThat(show.err).contains("toy/v1.json is not a valid Ferry manifest");
    }

    @Test
    void dataset_ls_lists_every_dataset_and_flags_one_whose_manifest_is_damaged() throws Exception {
        assertThat(ferry("dataset", "create", "other", "--from", data.toString()).exitCode).isZero();
        assertThat(ferry("dataset", "create", "toy", "--from", data.toString()).exitCode).isZero();
        Files.writeString(folder.resolve("home/store/.ferry/datasets/toy/v1.json"), "not json");

        CliRun ls = ferry("dataset", "ls");
        assertThat(ls.exitCode).as(ls.toString()).isEqualTo(1);
        assertThat(ls.out).contains("other").containsPattern("toy +v1 +\\(its manifest is damaged");
        assertThat(ls.err).contains("toy/v1.json is not a valid Ferry manifest");

        CliRun json = ferry("dataset", "ls", "--json");
        assertThat(json.exitCode).isEqualTo(1);
        JsonNode rows = JSON.readTree(json.out);
        assertThat(rows).hasSize(2);
        assertThat(rows.get(0).get("name").asText()).isEqualTo("other");
        assertThat(rows.get(0).get("objects").asLong()).isEqualTo(20);
        assertThat(rows.get(1).get("error").asText()).contains("not a valid Ferry manifest");
    }
}
