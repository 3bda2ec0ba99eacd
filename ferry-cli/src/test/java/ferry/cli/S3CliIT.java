package ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import ferry.testing.S3TestServer;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line against a real S3-compatible server on loopback: the user's view of issue 2's promises. */
class S3CliIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static S3TestServer server;
    private static int bucketNumber;

    @TempDir
    Path folder;

    private String bucket;
    private Map<String, String> env;
    private Path data;

    @BeforeAll
    static void startServer() {
        server = S3TestServer.newServer();
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    @BeforeEach
    void setUp() throws Exception {
        bucket = "cli-" + (++bucketNumber);
        server.createBucket(bucket);
        env = new HashMap<>(server.environment());
        env.put("FERRY_HOME", folder.resolve("home").toString());
        env.put("HOME", folder.toString());
        data = folder.resolve("data");
        Random random = new Random(7);
        for (int i = 0; i < 40; i++) {
            byte[] bytes = new byte[1000 + i];
            random.nextBytes(bytes);
            Path file = data.resolve("train/c" + (i % 4) + "/" + i + ".bin");
            Files.createDirectories(file.getParent());
            Files.write(file, bytes);
        }
        byte[] large = new byte[9 * 1024 * 1024 + 5]; // above the default part size: a multipart upload
        random.nextBytes(large);
        Files.write(data.resolve("large.bin"), large);
    }

    private CliRun ferry(String... args) {
        return CliRun.run(env, args);
    }

    private static List<String> files(Path root) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(Files::isRegularFile).map(p -> root.relativize(p).toString()).sorted().toList();
        }
    }

    @Test
    void cp_up_and_down_round_trips_every_byte_and_records_checksums() throws Exception {
        String prefix = "s3://" + bucket + "/images/";
        CliRun up = ferry("cp", data.toString(), prefix);
        assertThat(up.exitCode).as(up.toString()).isZero();
        assertThat(up.out).contains("copied 41 objects");

        List<String> lines = ferry("ls", prefix, "--json").out.lines().toList();
        assertThat(lines).hasSize(41);
        JsonNode large = JSON.readTree(ferry("ls", prefix + "large.bin", "--json").out);
        assertThat(large.get("size").asLong()).isEqualTo(Files.size(data.resolve("large.bin")));
        assertThat(large.get("crc32c").asText()).matches("[0-9a-f]{8}");

        Path down = folder.resolve("down");
        CliRun get = ferry("cp", prefix, down.toString());
        assertThat(get.exitCode).as(get.toString()).isZero();
        assertThat(files(down)).isEqualTo(files(data));
        for (String key : files(data)) {
            assertThat(Files.readAllBytes(down.resolve(key))).as(key).isEqualTo(Files.readAllBytes(data.resolve(key)));
        }

        CliRun oneObject = ferry("sync", prefix + "large.bin", folder.resolve("one").toString());
        assertThat(oneObject.exitCode).isEqualTo(1);
        assertThat(oneObject.err).contains("source " + prefix + "large.bin is an object, not a prefix")
                .contains("ferry cp");
    }

    @Test
    void cp_and_sync_between_prefixes_of_the_store_copy_inside_it_keeping_every_byte_and_checksum() throws Exception {
        String a = "s3://" + bucket + "/a/";
        String b = "s3://" + bucket + "/b/";
        String c = "s3://" + bucket + "/c/";
        assertThat(ferry("cp", data.toString(), a).exitCode).isZero();
        long gets = server.requests("GET");
        CliRun large = ferry("cp", a + "large.bin", "s3://" + bucket + "/elsewhere/large.bin");
        assertThat(large.exitCode).as(large.toString()).isZero();
        assertThat(server.requests("GET") - gets).as("GETs of the large object").isZero();
        assertThat(JSON.readTree(ferry("ls", "s3://" + bucket + "/elsewhere/large.bin", "--json").out).get("crc32c")
                .asText()).isEqualTo(JSON.readTree(ferry("ls", a + "large.bin", "--json").out).get("crc32c").asText());

        CliRun cp = ferry("cp", a, b);
        assertThat(cp.exitCode).as(cp.toString()).isZero();
        assertThat(cp.out).contains("copied 41 objects");

        CliRun sync = ferry("sync", a, c, "--read-back");
        assertThat(sync.exitCode).as(sync.toString()).isZero();
        assertThat(sync.out).contains("copied 41 objects");
        CliRun again = ferry("sync", a, c);
        assertThat(again.out).as(again.toString()).contains("copied 0 objects").contains("skipped 41 unchanged");
        for (String prefix : List.of(b, c)) {
            Path down = folder.resolve("down-" + prefix.charAt(prefix.length() - 2));
            assertThat(ferry("cp", prefix, down.toString()).exitCode).isZero();
            assertThat(files(down)).isEqualTo(files(data));
            for (String key : files(data)) {
                assertThat(Files.readAllBytes(down.resolve(key))).as(key)
                        .isEqualTo(Files.readAllBytes(data.resolve(key)));
            }
        }
    }

    @Test
    void datasets_live_in_the_store_and_verify_names_an_object_corrupted_at_rest() throws Exception {
        String prefix = "s3://" + bucket + "/cifar/";
        assertThat(ferry("cp", data.toString(), prefix).exitCode).isZero();
        String store = "s3://" + bucket + "/";

        CliRun create = ferry("--store", store, "dataset", "create", "cifar", "--from", prefix);
        assertThat(create.exitCode).as(create.toString()).isZero();
        assertThat(create.out).contains("created cifar@v1").contains("s3://" + bucket + "/.ferry/datasets/cifar/v1.json");
        assertThat(ferry("--store", store, "dataset", "verify", "cifar").exitCode).isZero();

        flipOneByte(server.objectFile(bucket, "cifar/train/c1/5.bin"));
        CliRun verify = ferry("--store", store, "dataset", "verify", "cifar", "--json");
        assertThat(verify.exitCode).isEqualTo(1);
        JsonNode report = JSON.readTree(verify.out);
        assertThat(report.get("mismatches")).hasSize(1);
        assertThat(report.get("mismatches").get(0).get("key").asText()).isEqualTo("train/c1/5.bin");

        // Copying the corrupted object down is refused too: its bytes no longer match its recorded CRC32C.
        CliRun get = ferry("cp", prefix + "train/c1/5.bin", folder.resolve("one.bin").toString());
        assertThat(get.exitCode).isEqualTo(1);
        assertThat(get.err).contains("the bytes read from " + prefix + "train/c1/5.bin do not match the CRC32C it"
                + " recorded").contains("nothing was written to file://" + folder.resolve("one.bin"));
        assertThat(folder.resolve("one.bin")).doesNotExist();
    }

    @Test
    void part_size_sets_the_parts_of_multipart_uploads_and_a_size_s3_refuses_is_a_usage_error() throws Exception {
        env.put("FERRY_S3_UPLOAD_CUTOFF", "8MiB"); // objects over it go in parts
        Path big = folder.resolve("big/16MiB.bin");
        Files.createDirectories(big.getParent());
        byte[] bytes = new byte[16 << 20];
        new Random(3).nextBytes(bytes);
        Files.write(big, bytes);
        String prefix = "s3://" + bucket + "/parts/";

        long puts = server.requests("PUT");
        assertThat(ferry("cp", big.toString(), prefix + "default.bin").exitCode).isZero();
        assertThat(server.requests("PUT") - puts).as("parts of 8 MiB").isEqualTo(2);
        puts = server.requests("PUT");
        CliRun five = ferry("cp", big.toString(), prefix + "five.bin", "--part-size", "5MiB");
        assertThat(five.exitCode).as(five.toString()).isZero();
        assertThat(server.requests("PUT") - puts).as("parts of 5 MiB").isEqualTo(4);
        puts = server.requests("PUT");
        CliRun sync = ferry("sync", big.getParent().toString(), prefix + "synced/", "--part-size", "6MiB");
        assertThat(sync.exitCode).as(sync.toString()).isZero();
        assertThat(server.requests("PUT") - puts).as("parts of 6 MiB").isEqualTo(3);
        Path down = folder.resolve("five.bin");
        assertThat(ferry("cp", prefix + "five.bin", down.toString(), "--part-size", "5MiB").exitCode).isZero();
        assertThat(Files.readAllBytes(down)).isEqualTo(bytes);

        for (String size : List.of("1MiB", "2GiB")) {
            CliRun refused = ferry("cp", big.toString(), prefix + "refused.bin", "--part-size", size);
            assertThat(refused.exitCode).as(refused.toString()).isEqualTo(2);
            assertThat(refused.err).contains("--part-size").contains("between 5MiB").contains(size);
        }
        CliRun task = ferry("task", "add", "t", big.getParent().toString(), prefix + "t/", "--every", "1h",
                "--part-size", "1MiB");
        assertThat(task.exitCode).as(task.toString()).isEqualTo(2);
        assertThat(ferry("ls", prefix + "refused.bin").exitCode).isEqualTo(1);
        // A task keeps its part size for every run.
        assertThat(ferry("task", "add", "t", big.getParent().toString(), prefix + "t/", "--every", "1h",
                "--part-size", "6MiB").exitCode).isZero();
        puts = server.requests("PUT");
        CliRun run = ferry("task", "run", "t");
        assertThat(run.exitCode).as(run.toString()).isZero();
        assertThat(server.requests("PUT") - puts).as("parts of 6 MiB").isEqualTo(3);
    }

    @Test
    void a_missing_bucket_is_named() {
        CliRun ls = ferry("ls", "s3://no-such-bucket-here/x/");
        assertThat(ls.exitCode).isEqualTo(1);
        assertThat(ls.err).contains("no-such-bucket-here").contains("does not exist");
    }

    @Test
    void an_unreachable_endpoint_says_what_to_check() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        env.put("AWS_ENDPOINT_URL", "http://127.0.0.1:" + closedPort);
        CliRun ls = ferry("ls", "s3://" + bucket + "/");
        assertThat(ls.exitCode).isEqualTo(1);
        assertThat(ls.err).contains("127.0.0.1:" + closedPort).contains("AWS_ENDPOINT_URL");
    }

    @Test
    void wrong_credentials_name_the_variables_and_never_the_secret() {
        env.put("AWS_SECRET_ACCESS_KEY", "not-the-secret-at-all");
        CliRun ls = ferry("ls", "s3://" + bucket + "/");
        assertThat(ls.exitCode).isEqualTo(1);
        assertThat(ls.err).contains("AWS_SECRET_ACCESS_KEY").doesNotContain("not-the-secret-at-all");
    }

    @Test
    void missing_credentials_say_which_variables_or_files_to_set() {
        env.remove("AWS_ACCESS_KEY_ID");
        env.remove("AWS_SECRET_ACCESS_KEY");
        CliRun ls = ferry("ls", "s3://" + bucket + "/");
        assertThat(ls.exitCode).isEqualTo(1);
        assertThat(ls.err).contains("AWS_ACCESS_KEY_ID").contains("credentials");
    }

    @Test
    void sync_to_s3_skips_unchanged_objects_and_its_dataset_verifies() throws Exception {
        String prefix = "s3://" + bucket + "/synced/";
        CliRun first = ferry("sync", data.toString(), prefix, "--dataset", "synced", "--json");
        assertThat(first.exitCode).as(first.toString()).isZero();
        assertThat(JSON.readTree(first.out).get("copied").get("objects").asLong()).isEqualTo(41);

        JsonNode second = JSON.readTree(ferry("sync", data.toString(), prefix, "--json").out);
        assertThat(second.get("copied").get("objects").asLong()).isZero();
        assertThat(second.get("skipped").get("objects").asLong()).isEqualTo(41);
        assertThat(ferry("dataset", "verify", "synced").exitCode).isZero();
    }

    private static void flipOneByte(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer one = java.nio.ByteBuffer.allocate(1);
            channel.read(one, 10);
            one.put(0, (byte) (one.get(0) ^ 0xff));
            one.rewind();
            channel.write(one, 10);
        }
    }
}
