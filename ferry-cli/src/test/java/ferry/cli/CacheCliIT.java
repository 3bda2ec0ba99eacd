package ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ferry.testing.S3TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ferry cache preload, status and clear, and ferry mount's refusals, against the in-process S3 server. */
class CacheCliIT {
    @TempDir
    Path folder;

    private S3TestServer server;
    private Map<String, String> env;

    @BeforeEach
    void setUp() throws Exception {
        server = S3TestServer.newServer();
        server.createBucket("cached");
        env = new HashMap<>(server.environment());
        env.put("FERRY_HOME", folder.resolve("home").toString());
        env.put("FERRY_STORE", "s3://cached/catalog/");
        Path src = folder.resolve("src");
        Files.createDirectories(src.resolve("train"));
        Random random = new Random(1);
        for (int i = 0; i < 20; i++) {
            byte[] bytes = new byte[1000 + random.nextInt(5000)];
            random.nextBytes(bytes);
            Files.write(src.resolve("train/" + i + ".bin"), bytes);
        }
        byte[] large = new byte[(3 << 20) + 5];
        random.nextBytes(large);
        Files.write(src.resolve("large.bin"), large);
        assertThat(CliRun.run(env, "cp", src.toString(), "s3://cached/data/").exitCode).isZero();
    }

    @AfterEach
    void tearDown() {
        server.close();
    }

    @Test
    void a_fastfile_job_reads_through_the_cache_folder_and_budget_train_is_given() throws Exception {
        Files.writeString(folder.resolve("read.py"), """
                import os
                root = os.environ["SM_CHANNEL_TRAIN"]
                n = sum(len(open(os.path.join(d, f), "rb").read()) for d, _, fs in os.walk(root) for f in fs)
                print(f"read {n} bytes", flush=True)
                """);
        Path request = folder.resolve("job.json");
        Files.writeString(request, """
                {"TrainingJobName": "fastfile-cache",
                 "AlgorithmSpecification": {"TrainingInputMode": "File", "Command": ["/usr/bin/python3", "read.py"]},
                 "InputDataConfig": [{"ChannelName": "train", "InputMode": "FastFile",
                   "DataSource": {"S3DataSource": {"S3Uri": "s3://cached/data/train/", "S3DataType": "S3Prefix"}}}],
                 "OutputDataConfig": {"S3OutputPath": "s3://cached/output/"}}
                """);
        long bytes = 0;
        try (var files = Files.list(folder.resolve("src/train"))) {
            for (Path file : files.toList()) {
                bytes += Files.size(file);
            }
        }
        Map<String, String> jobEnv = new HashMap<>(env);
        jobEnv.put("PATH", "/usr/bin:/bin");
        jobEnv.put("HOME", folder.toString());
        Path cache = folder.resolve("job-cache");

        CliRun refused = CliRun.run(jobEnv, "train", "--cache-size", "0", request.toString());
        assertThat(refused.exitCode).as(refused.toString()).isEqualTo(2);
        assertThat(refused.err).contains("--cache-size must be positive");

        CliRun train = CliRun.run(jobEnv, "train", "--cache-dir", cache.toString(), "--cache-size", "64MiB",
                request.toString());
        assertThat(train.exitCode).as(train.toString()).isZero();
        assertThat(train.out).contains("read " + bytes + " bytes");
        try (var walk = Files.walk(cache.resolve("chunks"))) {
            assertThat(walk.filter(Files::isRegularFile)
                    .filter(p -> p.getFileName().toString().matches("[0-9a-f]{64}\\.[0-9]+"))).hasSize(20);
        }
        assertThat(folder.resolve("home/cache/chunks")).doesNotExist();
    }

    @Test
    void preload_fills_the_cache_once_and_status_and_clear_report_it() {
        CliRun first = CliRun.run(env, "cache", "preload", "--cache-size", "64MiB", "s3://cached/data/");
        assertThat(first.exitCode).as(first.toString()).isZero();
        assertThat(first.out).contains("21 objects");
        long getsAfterFirst = server.requests("GET");

        CliRun again = CliRun.run(env, "cache", "preload", "s3://cached/data/");
        assertThat(again.exitCode).as(again.toString()).isZero();
        assertThat(again.out).contains("(0 B fetched");
        assertThat(server.requests("GET") - getsAfterFirst)
                .as("only the listing, made twice (to measure, then to fetch): one request per folder and pass")
                .isEqualTo(4);

        CliRun status = CliRun.run(env, "cache", "status", "--json");
        assertThat(status.exitCode).as(status.toString()).isZero();
        assertThat(status.out).contains("\"chunks\" : 24").contains("s3://cached/data/")
                .as("the budget the cache was last given, not a default").contains("\"budgetBytes\" : 67108864");

        CliRun clear = CliRun.run(env, "cache", "clear");
        assertThat(clear.exitCode).as(clear.toString()).isZero();
        assertThat(CliRun.run(env, "cache", "status", "--json").out).contains("\"chunks\" : 0");
    }

    @Test
    void a_preload_that_does_not_fit_the_budget_fails_before_fetching_and_says_what_size_would_do() {
        long getsBefore = server.requests("GET");
        CliRun small = CliRun.run(env, "cache", "preload", "--cache-size", "1MiB", "s3://cached/data/");
        assertThat(small.exitCode).as(small.toString()).isEqualTo(1);
        assertThat(small.err).as(small.toString()).contains("cannot preload s3://cached/data/: its 21 objects")
                .contains("the cache's budget is 1.0 MiB").contains("nothing was fetched");
        assertThat(server.requests("GET") - getsBefore).as("only the listing: one request per folder").isEqualTo(2);
        assertThat(CliRun.run(env, "cache", "status", "--json").out).contains("\"chunks\" : 0");

        Matcher suggested = Pattern.compile("give --cache-size (\\S+) or more").matcher(small.err);
        assertThat(suggested.find()).as(small.err).isTrue();
        CliRun enough = CliRun.run(env, "cache", "preload", "--cache-size", suggested.group(1), "s3://cached/data/");
        assertThat(enough.exitCode).as(enough.toString()).isZero();
        CliRun status = CliRun.run(env, "cache", "status", "--json");
        assertThat(status.out).as("the size it suggested holds everything").contains("\"chunks\" : 24")
                .contains("\"evictions\" : 0");

        assertThat(CliRun.run(env, "dataset", "create", "cached", "--from", "s3://cached/data/").exitCode).isZero();
        CliRun dataset = CliRun.run(env, "cache", "preload", "--cache-size", "1MiB", "--dataset", "cached@v1");
        assertThat(dataset.exitCode).as(dataset.toString()).isEqualTo(1);
        assertThat(dataset.err).contains("cannot preload cached@v1: its 21 objects");
        assertThat(CliRun.run(env, "cache", "status", "--json").out)
                .as("a refused preload keeps the cache as it was, its budget too, though it was given a smaller one")
                .contains("\"chunks\" : 24").contains("\"evictions\" : 0")
                .contains("\"budgetBytes\" : " + Sizes.parseBytes(suggested.group(1)));
    }

    @Test
    void preloading_a_prefix_with_no_objects_fails_as_cp_does_and_makes_no_cache() {
        CliRun preload = CliRun.run(env, "cache", "preload", "s3://cached/none/");
        CliRun cp = CliRun.run(env, "cp", "s3://cached/none/", folder.resolve("out").toString());
        assertThat(preload.exitCode).as(preload.toString()).isEqualTo(cp.exitCode).isEqualTo(1);
        assertThat(preload.err).contains("nothing to preload: no object at or under s3://cached/none/");
        assertThat(cp.err).contains("nothing to copy: no object at or under s3://cached/none/");
        assertThat(folder.resolve("home/cache")).doesNotExist();
    }

    @Test
    void a_dataset_version_preloads_from_its_manifest_and_status_says_how_much_of_it_is_cached() {
        assertThat(CliRun.run(env, "dataset", "create", "cached", "--from", "s3://cached/data/train/").exitCode)
                .isZero();
        CliRun before = CliRun.run(env, "cache", "status", "--dataset", "cached");
        assertThat(before.out).contains("cached@v1").contains("(0.0%)");

        CliRun preload = CliRun.run(env, "cache", "preload", "--dataset", "cached@v1");
        assertThat(preload.exitCode).as(preload.toString()).isZero();
        assertThat(preload.out).contains("preloaded cached@v1: 20 objects");

        CliRun after = CliRun.run(env, "cache", "status", "--dataset", "cached");
        assertThat(after.out).as(after.toString()).contains("(100.0%)");

        // an object changed in the store since v1 recorded it: it fails, and is not counted as preloaded
        server.putObject("cached", "data/train/3.bin", new byte[] {1, 2, 3});
        CliRun changed = CliRun.run(env, "cache", "clear");
        assertThat(changed.exitCode).as(changed.toString()).isZero();
        CliRun partial = CliRun.run(env, "cache", "preload", "--dataset", "cached@v1");
        assertThat(partial.exitCode).as(partial.toString()).isEqualTo(1);
        assertThat(partial.out).startsWith("preload of cached@v1: 20 objects").contains("; 1 of them failed (below)");
        assertThat(partial.err).contains("failed: s3://cached/data/train/3.bin");
    }

    @Test
    void every_command_refuses_a_cache_dir_that_holds_other_files_and_writes_nothing_into_it() throws Exception {
        Path data = folder.resolve("src"); // the user's data, given as --cache-dir by mistake
        List<Path> before = tree(data);
        Path request = folder.resolve("job.json");
        Files.writeString(request, """
                {"TrainingJobName": "wrong-cache",
                 "AlgorithmSpecification": {"TrainingInputMode": "File", "Command": ["/bin/true"]},
                 "InputDataConfig": [{"ChannelName": "train", "InputMode": "FastFile",
                   "DataSource": {"S3DataSource": {"S3Uri": "s3://cached/data/train/", "S3DataType": "S3Prefix"}}}],
                 "OutputDataConfig": {"S3OutputPath": "s3://cached/output/"}}
                """);
        String dir = data.toString();
        List<String[]> commands = List.of(
                new String[] {"cache", "status", "--cache-dir", dir},
                new String[] {"cache", "clear", "--cache-dir", dir},
                new String[] {"cache", "preload", "--cache-dir", dir, "s3://cached/data/"},
                new String[] {"mount", "--cache-dir", dir, "s3://cached/data/", folder.resolve("mnt").toString()},
                new String[] {"train", "--cache-dir", dir, request.toString()});
        for (String[] command : commands) {
            CliRun run = CliRun.run(env, command);
            assertThat(run.exitCode).as(run.toString()).isEqualTo(2);
            assertThat(run.err).as(run.toString()).contains(dir + " is not a Ferry cache")
                    .contains("choose an empty or new folder for --cache-dir").doesNotContain("Exception");
            assertThat(tree(data)).as("after %s", command[0] + " " + command[1]).isEqualTo(before);
        }
        assertThat(folder.resolve("home/jobs/wrong-cache")).doesNotExist();

        Path empty = folder.resolve("empty");
        Files.createDirectories(empty);
        CliRun status = CliRun.run(env, "cache", "status", "--cache-dir", empty.toString());
        assertThat(status.exitCode).as(status.toString()).isZero();
    }

    /** Every path under a folder, sorted, to tell that nothing was added. */
    private static List<Path> tree(Path root) throws Exception {
        try (var walk = Files.walk(root)) {
            return walk.sorted().toList();
        }
    }

    @Test
    void mount_refuses_bad_requests_with_a_message_and_a_non_zero_exit() {
        CliRun nothing = CliRun.run(env, "mount", folder.resolve("mnt").toString());
        assertThat(nothing.exitCode).isEqualTo(2);
        assertThat(nothing.err).contains("what should be mounted");

        CliRun both = CliRun.run(env, "mount", "--dataset", "x", "s3://cached/data/", folder.resolve("mnt").toString());
        assertThat(both.exitCode).isEqualTo(2);
        assertThat(both.err).contains("not both");

        CliRun noBucket = CliRun.run(env, "mount", "s3://no-such-bucket/data/", folder.resolve("mnt").toString());
        assertThat(noBucket.exitCode).isEqualTo(1);
        assertThat(noBucket.err).contains("no-such-bucket");

        CliRun badMountPoint = CliRun.run(env, "mount", "s3://cached/data/", "/proc/ferry-no-such-folder/mnt");
        assertThat(badMountPoint.exitCode).isEqualTo(1);
        assertThat(badMountPoint.err).contains("cannot create the mount point /proc/ferry-no-such-folder/mnt")
                .contains("no such file or folder");

        CliRun typo = CliRun.run(env, "mount", "s3://cached/dtaa/", folder.resolve("mnt").toString());
        assertThat(typo.exitCode).as(typo.toString()).isEqualTo(1);
        assertThat(typo.err).contains("nothing to mount: no object at or under s3://cached/dtaa/");

        CliRun oneObject = CliRun.run(env, "mount", "s3://cached/data/large.bin", folder.resolve("mnt").toString());
        assertThat(oneObject.exitCode).as(oneObject.toString()).isEqualTo(2);
        assertThat(oneObject.err).contains("s3://cached/data/large.bin is an object, not a prefix")
                .contains("such as s3://cached/data/");

        CliRun noDataset = CliRun.run(env, "mount", "--dataset", "missing", folder.resolve("mnt").toString());
        assertThat(noDataset.exitCode).isEqualTo(1);
        assertThat(noDataset.err).contains("missing");

        Map<String, String> badLibrary = new HashMap<>(env);
        badLibrary.put("FERRY_LIBFUSE", folder.resolve("nowhere/libfuse3.so.3").toString());
        CliRun noFuse = CliRun.run(badLibrary, "mount", "s3://cached/data/", folder.resolve("mnt").toString());
        assertThat(noFuse.exitCode).isEqualTo(1);
        assertThat(noFuse.err).contains("FERRY_LIBFUSE").contains("not a readable file");
    }
}
