package ferry.train;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import ferry.store.Location;
import ferry.store.ObjectOutput;
import ferry.store.ObjectStore;
import ferry.store.WriteOptions;
import ferry.testing.S3TestServer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * FastFile jobs on real parts: channels on the in-process S3 server (and a local folder), mounted with real FUSE by
 * the runner in this JVM, read by python3 scripts in the job's private mount namespace. After every job, whatever
 * its end, this JVM's mount table must hold nothing in the job folder. A deadlock between the mount and the script
 * would fail the test by its timeout rather than hang the build.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class FastFileJobIT {
    private static final String BUCKET = "fastfile";
    private static S3TestServer server;

    @TempDir
    Path folder;

    private TrainFixture fixture;
    private ObjectStore s3;

    @BeforeAll
    static void startServer() {
        server = S3TestServer.newServer();
        server.createBucket(BUCKET);
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    @BeforeEach
    void setUp() throws Exception {
        fixture = new TrainFixture(folder, server.environment());
        s3 = fixture.stores.forLocation(Location.of("s3://" + BUCKET + "/"));
    }

    @AfterEach
    void tearDown() throws Exception {
        fixture.close();
    }

    @Test
    void a_script_reads_every_file_through_the_mount_and_the_channel_is_unmounted_after_success() throws Exception {
        String prefix = "s3://" + BUCKET + "/read-all/";
        Map<String, byte[]> objects = new TreeMap<>();
        objects.put("a.txt", put(prefix + "images/a.txt", "meow".getBytes(UTF_8)));
        objects.put("empty.txt", put(prefix + "images/empty.txt", new byte[0]));
        objects.put("sub/deep/b.bin", put(prefix + "images/sub/deep/b.bin", random(200_000, 1)));
        objects.put("large.bin", put(prefix + "images/large.bin", random(3 * 1024 * 1024 + 12_345, 2)));
        put(prefix + "labels/ignored.txt", "a sibling folder, not below images/".getBytes(UTF_8));
        long total = objects.values().stream().mapToLong(b -> b.length).sum();
        ObjectNode request = fixture.request("fast", "fastfile_read.py");
        fastFileChannel(request, "train", prefix + "images");

        JobDescription job = fixture.run(request);

        assertThat(job.status()).as(fixture.output.toString()).isEqualTo("Completed");
        assertThat(TrainFixture.statuses(job))
                .containsExactly("Starting", "Downloading", "Training", "Uploading", "Completed");
        JobTree tree = fixture.jobs.tree("fast");
        JsonNode summary = summary(tree);
        assertReadExactly(summary, objects);
        assertThat(summary.get("is_mount").asBoolean()).as("the script read a mount, not a staged copy").isTrue();
        assertThat(summary.get("write_errno").asInt()).isEqualTo(summary.get("erofs").asInt());
        assertThat(summary.get("inputdataconfig").get("train").get("TrainingInputMode").asText())
                .isEqualTo("FastFile");
        assertThat(summary.get("sm_input_data_config").get("train").get("TrainingInputMode").asText())
                .isEqualTo("FastFile");
        JsonNode config = TrainFixture.JSON.readTree(tree.inputConfig().resolve("inputdataconfig.json").toFile());
        assertThat(config.get("train").get("TrainingInputMode").asText()).isEqualTo("FastFile");

        assertThat(mountsIn(tree.root())).isEmpty();
        try (var left = Files.list(tree.channel("train"))) {
            assertThat(left).as("nothing was staged into the channel folder").isEmpty();
        }
        JsonNode channel = job.json().get("Ferry").get("Channels").get(0);
        assertThat(channel.get("ChannelName").asText()).isEqualTo("train");
        assertThat(channel.get("InputMode").asText()).isEqualTo("FastFile");
        assertThat(channel.get("FilesDelivered").asLong()).isEqualTo(4);
        assertThat(channel.get("BytesDelivered").asLong()).isEqualTo(total);
        assertThat(channel.get("BytesFetched").asLong()).as("a cold cache fetches every byte read")
                .isGreaterThanOrEqualTo(total);
        assertThat(fixture.log("fast")).contains("channel train: mounted " + prefix + "images at ")
                .contains("channel train: unmounted " + tree.channel("train"));

        // The cache is shared with later jobs (and ferry mount): the same objects are not fetched again.
        ObjectNode again = fixture.request("fast-again", "fastfile_read.py");
        fastFileChannel(again, "train", prefix + "images/");
        JobDescription second = fixture.run(again);
        assertThat(second.status()).as(fixture.output.toString()).isEqualTo("Completed");
        assertReadExactly(summary(fixture.jobs.tree("fast-again")), objects);
        assertThat(second.json().get("Ferry").get("Channels").get(0).get("BytesFetched").asLong()).isZero();
        assertThat(mountsIn(fixture.jobs.tree("fast-again").root())).isEmpty();
    }

    @Test
    void a_failing_script_fails_the_job_and_its_channel_is_unmounted() throws Exception {
        String prefix = "s3://" + BUCKET + "/failing/";
        Map<String, byte[]> objects = Map.of("x.bin", put(prefix + "x.bin", random(10_000, 3)));
        ObjectNode request = fixture.request("fails", "fastfile_read.py");
        request.putObject("HyperParameters").put("fail", "yes");
        fastFileChannel(request, "train", prefix);

        JobDescription job = fixture.run(request);

        assertThat(job.status()).isEqualTo("Failed");
        assertThat(job.failureReason())
                .isEqualTo("AlgorithmError: RuntimeError: failing on purpose after reading the channel");
        JobTree tree = fixture.jobs.tree("fails");
        assertReadExactly(summary(tree), objects);
        assertThat(mountsIn(tree.root())).isEmpty();
        assertThat(fixture.log("fails")).contains("channel train: unmounted");
    }

    @Test
    void a_stopped_job_is_unmounted() throws Exception {
        String prefix = "s3://" + BUCKET + "/stopped/";
        put(prefix + "x.txt", "x".getBytes(UTF_8));
        ObjectNode request = fixture.request("to-stop", "long_running.py");
        fastFileChannel(request, "train", prefix);

        TrainFixture.Background running = fixture.start(request, "READY");
        JobTree tree = fixture.jobs.tree("to-stop");
        assertThat(mountsIn(tree.root())).as("mounted while the script runs").containsExactly(tree.channel("train"));
        assertThat(fixture.jobs.stop("to-stop")).isTrue();
        JobDescription job = running.await();

        assertThat(job.status()).isEqualTo("Stopped");
        assertThat(mountsIn(tree.root())).isEmpty();
    }

    @Test
    void a_failure_after_mounting_unmounts_what_was_mounted() throws Exception {
        String prefix = "s3://" + BUCKET + "/late-failure/";
        put(prefix + "fast/x.txt", "mounted first".getBytes(UTF_8));
        put(prefix + "staged/part-0.bin", "payload number 0".getBytes(UTF_8));
        try (var file = java.nio.channels.FileChannel.open(
                server.objectFile(BUCKET, "late-failure/staged/part-0.bin"), StandardOpenOption.WRITE)) {
            file.write(ByteBuffer.wrap("X".getBytes(UTF_8)), 0); // same size, one byte off: staging fails
        }
        ObjectNode request = fixture.request("late-failure", "fastfile_read.py");
        fastFileChannel(request, "train", prefix + "fast/");
        TrainFixture.fileChannel(request, "staged", prefix + "staged/");

        JobDescription job = fixture.run(request);

        assertThat(job.status()).isEqualTo("Failed");
        assertThat(job.failureReason()).startsWith("ClientError: channel 'staged': ");
        assertThat(TrainFixture.statuses(job)).containsExactly("Starting", "Downloading", "Failed");
        JobTree tree = fixture.jobs.tree("late-failure");
        assertThat(fixture.log("late-failure")).contains("channel train: mounted")
                .contains("channel train: unmounted");
        assertThat(mountsIn(tree.root())).isEmpty();
    }

    @Test
    void sharded_by_s3_key_mounts_the_share_file_mode_would_stage_and_the_hosts_cover_every_object_once()
            throws Exception {
        String prefix = "s3://" + BUCKET + "/sharded/";
        Map<String, String> objects = new TreeMap<>();
        for (int i = 0; i < 11; i++) {
            String key = "part-" + i + ".rec";
            put(prefix + key, ("record " + i).getBytes(UTF_8));
            objects.put(key, "record " + i);
        }
        List<String> hosts = List.of("algo-1", "algo-2");
        Map<String, String> covered = new TreeMap<>();
        for (String host : hosts) {
            fixture.options = fixture.options.withHosts(hosts, host);
            Map<String, JsonNode> shares = new LinkedHashMap<>();
            for (String mode : List.of("FastFile", "File")) {
                String name = mode.toLowerCase(java.util.Locale.ROOT) + "-shards";
                ObjectNode request = fixture.request(name, "list_files.py");
                ObjectNode channel = TrainFixture.fileChannel(request, "train", prefix).put("InputMode", mode);
                ((ObjectNode) channel.get("DataSource").get("S3DataSource")).put("S3DataDistributionType",
                        "ShardedByS3Key");
                channel.putObject("ShuffleConfig").put("Seed", 7);
                assertThat(fixture.run(request).status()).as(fixture.output.toString()).isEqualTo("Completed");
                JobTree tree = fixture.jobs.tree(name + "@" + host);
                shares.put(mode, TrainFixture.JSON.readTree(tree.model().resolve("files.json").toFile())
                        .get("train"));
                assertThat(mountsIn(tree.root())).isEmpty();
            }
            assertThat(shares.get("FastFile")).as("host " + host).isEqualTo(shares.get("File"));
            shares.get("FastFile").fields().forEachRemaining(e -> {
                assertThat(covered.put(e.getKey(), e.getValue().asText())).as("given to two hosts: " + e.getKey())
                        .isNull();
            });
            assertThat(fixture.log("fastfile-shards@" + host)).contains("objects for " + host + ", ShardedByS3Key");
        }
        assertThat(covered).isEqualTo(objects);
    }

    @Test
    void a_local_prefix_and_a_single_object_mount_too_even_without_a_namespace() throws Exception {
        Path local = folder.resolve("local-data");
        Files.createDirectories(local.resolve("x"));
        Files.writeString(local.resolve("x/1.txt"), "one");
        Files.writeString(local.resolve("2.txt"), "two");
        String prefix = "s3://" + BUCKET + "/single/";
        put(prefix + "a.txt", "just me".getBytes(UTF_8));
        put(prefix + "a.txt.bak", "me too".getBytes(UTF_8)); // an S3Prefix matches every key that starts with it
        put(prefix + "b.txt", "not me".getBytes(UTF_8));
        fixture.options = fixture.options.withIsolation(Isolation.Mode.OFF);
        ObjectNode request = fixture.request("local-and-one", "list_files.py");
        fastFileChannel(request, "local", "file://" + local + "/");
        fastFileChannel(request, "one", prefix + "a.txt");

        JobDescription job = fixture.run(request);

        assertThat(job.status()).as(fixture.output.toString()).isEqualTo("Completed");
        JobTree tree = fixture.jobs.tree("local-and-one");
        JsonNode files = TrainFixture.JSON.readTree(tree.model().resolve("files.json").toFile());
        assertThat(files.get("local"))
                .isEqualTo(TrainFixture.JSON.readTree("{\"x/1.txt\": \"one\", \"2.txt\": \"two\"}"));
        assertThat(files.get("one"))
                .isEqualTo(TrainFixture.JSON.readTree("{\"a.txt\": \"just me\", \"a.txt.bak\": \"me too\"}"));
        assertThat(fixture.log("local-and-one")).contains("not using a private mount namespace");
        assertThat(mountsIn(tree.root())).isEmpty();
    }

    @Test
    void a_runner_ended_with_sigterm_stops_the_script_and_unmounts_on_its_way_out() throws Exception {
        String prefix = "s3://" + BUCKET + "/terminated/";
        put(prefix + "x.txt", "x".getBytes(UTF_8));
        ObjectNode request = fixture.request("terminated", "long_running.py");
        fastFileChannel(request, "train", prefix);
        Path file = fixture.work.resolve("terminated.json");
        Files.writeString(file, TrainFixture.JSON.writeValueAsString(request));
        JobTree tree = fixture.jobs.tree("terminated");

        Process runner = startRunner(file, folder.resolve("runner.log"));
        try {
            waitFor(() -> read(tree.log()).contains("\nREADY\n"), "the script to start");
            assertThat(mountsIn(tree.root())).containsExactly(tree.channel("train"));
            runner.destroy(); // SIGTERM, as Ctrl-C or a service manager ends ferry train
            assertThat(runner.waitFor(60, TimeUnit.SECONDS)).as("the runner exits").isTrue();
        } finally {
            runner.destroyForcibly();
        }

        assertThat(mountsIn(tree.root())).isEmpty();
        assertThat(read(tree.log())).contains("got SIGTERM, saved the model").contains("channel train: unmounted");
        // Stopped as `ferry jobs stop` stops a job: what the script saved on SIGTERM is uploaded, and the runner
        // wrote the final description itself (a dead runner's job would only be inferred Stopped).
        var description = TrainFixture.JSON.readTree(tree.description().toFile());
        assertThat(description.get("TrainingJobStatus").asText()).isEqualTo("Stopped");
        assertThat(description.get("SecondaryStatusTransitions").findValuesAsText("Status"))
                .endsWith("Training", "Uploading", "Stopped");
        assertThat(fixture.untar(fixture.root.resolve("output/terminated/output/model.tar.gz")).resolve("model.txt"))
                .hasContent("saved on SIGTERM\n");
        try (var leftovers = Files.walk(fixture.root.resolve("output"))) {
            assertThat(leftovers.filter(p -> p.toString().endsWith(".ferry-tmp")).toList())
                    .as("no upload was cut short").isEmpty();
        }
    }

    @Test
    void jobs_rm_detaches_the_mount_a_killed_runner_left_and_the_job_can_run_again() throws Exception {
        String prefix = "s3://" + BUCKET + "/killed/";
        Map<String, byte[]> objects = Map.of("x.bin", put(prefix + "x.bin", random(50_000, 4)));
        ObjectNode request = fixture.request("killed", "long_running.py");
        fastFileChannel(request, "train", prefix);
        Path file = fixture.work.resolve("killed.json");
        Files.writeString(file, TrainFixture.JSON.writeValueAsString(request));
        JobTree tree = fixture.jobs.tree("killed");

        Process runner = startRunner(file, folder.resolve("runner.log"));
        try {
            waitFor(() -> read(tree.log()).contains("\nREADY\n"), "the script to start");
            assertThat(mountsIn(tree.root())).containsExactly(tree.channel("train"));
        } finally {
            runner.destroyForcibly(); // SIGKILL: the runner gets no chance to unmount
            runner.waitFor();
        }
        assertThat(mountsIn(tree.root())).as("left behind by the killed runner").isNotEmpty();
        // The script outlives its runner (its own session): removing the job would lose the pid that ends it.
        assertThatThrownBy(() -> fixture.jobs.delete("killed")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("stop it first");

        assertThat(fixture.jobs.stop("killed")).isTrue(); // its runner is gone: the script is killed from here
        fixture.jobs.delete("killed");

        assertThat(mountsIn(tree.root())).isEmpty();
        assertThat(tree.root()).doesNotExist();
        request.putObject("AlgorithmSpecification").put("TrainingInputMode", "File").putArray("Command")
                .add(TrainFixture.PYTHON).add("fastfile_read.py");
        JobDescription again = fixture.run(request);
        assertThat(again.status()).as(fixture.output.toString()).isEqualTo("Completed");
        assertReadExactly(summary(tree), objects);
        assertThat(mountsIn(tree.root())).isEmpty();
    }

    private static ObjectNode fastFileChannel(ObjectNode request, String name, String uri) {
        return TrainFixture.fileChannel(request, name, uri).put("InputMode", "FastFile");
    }

    private byte[] put(String uri, byte[] bytes) throws IOException {
        try (ObjectOutput out = s3.createOrOverwrite(Location.of(uri), WriteOptions.DEFAULT)) {
            out.write(bytes);
            out.commit();
        }
        return bytes;
    }

    private static byte[] random(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private static String sha256(byte[] bytes, int offset, int length) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            digest.update(bytes, offset, length);
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static JsonNode summary(JobTree tree) throws IOException {
        return TrainFixture.JSON.readTree(tree.model().resolve("summary.json").toFile());
    }

    /** The script saw exactly these files, whole and from the middle, byte for byte. */
    private static void assertReadExactly(JsonNode summary, Map<String, byte[]> objects) {
        Map<String, String> whole = new TreeMap<>();
        summary.get("files").fields().forEachRemaining(e -> whole.put(e.getKey(),
                e.getValue().get("size").asLong() + " " + e.getValue().get("sha256").asText()));
        Map<String, String> expected = new TreeMap<>();
        Map<String, String> expectedSlices = new TreeMap<>();
        objects.forEach((key, bytes) -> {
            expected.put(key, bytes.length + " " + sha256(bytes, 0, bytes.length));
            if (bytes.length > 0) {
                int offset = bytes.length / 3;
                int length = Math.min(1_500_000, bytes.length - offset);
                expectedSlices.put(key, offset + "+" + length + " " + sha256(bytes, offset, length));
            }
        });
        assertThat(whole).isEqualTo(expected);
        Map<String, String> slices = new TreeMap<>();
        summary.get("slices").fields().forEachRemaining(e -> slices.put(e.getKey(),
                e.getValue().get("offset").asInt() + "+" + e.getValue().get("length").asInt() + " "
                        + e.getValue().get("sha256").asText()));
        assertThat(slices).isEqualTo(expectedSlices);
    }

    /** Mount points in {@code folder} or below, as this JVM's mount table lists them. */
    private static List<Path> mountsIn(Path folder) throws IOException {
        List<Path> found = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            Path mountPoint = Path.of(line.split(" ")[4]);
            if (mountPoint.startsWith(folder)) {
                found.add(mountPoint);
            }
        }
        return found;
    }

    private Process startRunner(Path request, Path log) throws IOException {
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-cp",
                System.getProperty("java.class.path"), RunJobMain.class.getName(), request.toString());
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        builder.environment().clear();
        builder.environment().putAll(fixture.environment);
        builder.environment().put("AWS_EC2_METADATA_DISABLED", "true");
        return builder.start();
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "";
        }
    }

    /** Polls for a condition that another process brings about, failing after a minute. */
    private static void waitFor(BooleanSupplier condition, String what) throws InterruptedException {
        Instant deadline = Instant.now().plus(Duration.ofMinutes(1));
        while (!condition.getAsBoolean()) {
            if (Instant.now().isAfter(deadline)) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }
}
