package ferry.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import ferry.store.Location;
import ferry.store.ObjectOutput;
import ferry.store.ObjectStore;
import ferry.store.WriteOptions;
import ferry.testing.S3TestServer;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Jobs whose channels, checkpoints and outputs live on the in-process S3 server. */
class S3JobTest {
    private static S3TestServer server;

    @TempDir
    Path folder;

    private TrainFixture fixture;
    private ObjectStore s3;

    @BeforeAll
    static void startServer() {
        server = S3TestServer.newServer();
        server.createBucket("training");
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    @BeforeEach
    void setUp() throws Exception {
        fixture = new TrainFixture(folder, server.environment());
        s3 = fixture.stores.forLocation(Location.of("s3://training/"));
    }

    @AfterEach
    void tearDown() throws Exception {
        fixture.close();
    }

    private void put(String uri, String content) throws Exception {
        try (ObjectOutput out = s3.createOrOverwrite(Location.of(uri), WriteOptions.DEFAULT)) {
            out.write(content.getBytes(StandardCharsets.UTF_8));
            out.commit();
        }
    }

    private Path download(String uri) throws Exception {
        Path file = Files.createTempFile(folder, "download-", ".tar.gz");
        try (InputStream in = s3.openStream(Location.of(uri))) {
            Files.copy(in, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        return file;
    }

    @Test
    void a_job_reads_its_channel_from_s3_and_writes_its_model_and_checkpoints_there() throws Exception {
        String prefix = "s3://training/" + getClass().getSimpleName() + "/";
        for (int i = 0; i < 30; i++) {
            put(prefix + "images/class" + (i % 3) + "/" + i + ".txt", "image " + i);
        }
        put(prefix + "labels/ignored.txt", "a sibling folder, not below images/");
        ObjectNode request = fixture.request("s3-job", "train_env.py");
        request.putObject("HyperParameters").put("epochs", "1");
        TrainFixture.fileChannel(request, "train", prefix + "images");
        request.putObject("OutputDataConfig").put("S3OutputPath", prefix + "output");
        request.putObject("CheckpointConfig").put("S3Uri", prefix + "checkpoints/");

        JobDescription job = fixture.run(request);

        assertThat(job.status()).as(fixture.output.toString()).isEqualTo("Completed");
        assertThat(job.modelArtifacts()).isEqualTo(prefix + "output/s3-job/output/model.tar.gz");
        Path model = fixture.untar(download(job.modelArtifacts()));
        JsonNode json = TrainFixture.JSON.readTree(model.resolve("model.json").toFile());
        assertThat(json.get("files")).hasSize(30);
        assertThat(json.get("files").get("class2/29.txt").asText()).isEqualTo("image 29");
        Path output = fixture.untar(download(prefix + "output/s3-job/output/output.tar.gz"));
        assertThat(output.resolve("metrics.json")).exists();
        JsonNode channel = job.json().get("Ferry").get("Channels").get(0);
        assertThat(channel.get("Source").asText()).isEqualTo(prefix + "images");
        assertThat(channel.get("FilesDelivered").asLong()).isEqualTo(30);
    }

    @Test
    void an_s3_prefix_without_a_slash_delivers_every_key_that_starts_with_it_named_as_in_its_folder()
            throws Exception {
        // As on SageMaker: s3://b/data/train matches data/train-part1.csv, staged under its own name.
        String data = "s3://training/partial/data/";
        put(data + "train-part1.csv", "1,a");
        put(data + "train-part2.csv", "2,b");
        put(data + "train_extra/part3.csv", "3,c");
        put(data + "test.csv", "not matched");
        ObjectNode request = fixture.request("partial", "list_files.py");
        TrainFixture.fileChannel(request, "train", data + "train");

        JobDescription job = fixture.run(request);

        assertThat(job.status()).as(fixture.output.toString()).isEqualTo("Completed");
        JsonNode files = TrainFixture.JSON.readTree(fixture.jobs.tree("partial").model().resolve("files.json")
                .toFile()).get("train");
        List<String> names = new ArrayList<>();
        files.fieldNames().forEachRemaining(names::add);
        assertThat(names).containsExactly("train-part1.csv", "train-part2.csv", "train_extra/part3.csv");
        assertThat(files.get("train-part1.csv").asText()).isEqualTo("1,a");
    }

    @Test
    void an_s3_prefix_without_a_slash_matching_a_folder_and_other_names_is_refused_naming_both() throws Exception {
        String data = "s3://training/both/data/";
        put(data + "train/a.csv", "in the folder");
        put(data + "train-old.csv", "beside it");
        for (String mode : List.of("File", "FastFile")) {
            ObjectNode request = fixture.request("both", "list_files.py");
            TrainFixture.fileChannel(request, "train", data + "train").put("InputMode", mode);

            assertThatThrownBy(() -> fixture.run(request))
                    .as(mode)
                    .isInstanceOf(PreflightException.class)
                    .hasMessageContaining("channel 'train': S3Uri " + data + "train matches the folder " + data
                            + "train/ and other keys that start with it (" + data + "train-old.csv)")
                    .hasMessageContaining("end S3Uri with '/'");
        }
        assertThat(fixture.jobs.list()).isEmpty();
    }

    @Test
    void sharded_by_s3_key_from_s3_covers_every_object_exactly_once_across_two_hosts() throws Exception {
        String prefix = "s3://training/sharded/";
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
            String key = "part-" + i + ".rec";
            put(prefix + key, "record " + i);
            keys.add(key);
        }
        Map<String, List<String>> shares = new HashMap<>();
        for (String host : List.of("algo-1", "algo-2")) {
            fixture.options = fixture.options.withHosts(List.of("algo-1", "algo-2"), host);
            ObjectNode request = fixture.request("shards", "list_files.py");
            ObjectNode channel = TrainFixture.fileChannel(request, "train", prefix);
            ((ObjectNode) channel.get("DataSource").get("S3DataSource")).put("S3DataDistributionType",
                    "ShardedByS3Key");
            channel.putObject("ShuffleConfig").put("Seed", 7);

            assertThat(fixture.run(request).status()).as(fixture.output.toString()).isEqualTo("Completed");
            JsonNode files = TrainFixture.JSON.readTree(fixture.jobs.tree("shards@" + host).model()
                    .resolve("files.json").toFile()).get("train");
            List<String> names = new ArrayList<>();
            files.fieldNames().forEachRemaining(names::add);
            shares.put(host, names);
        }
        assertThat(shares.get("algo-1")).hasSize(13).doesNotContainAnyElementsOf(shares.get("algo-2"));
        assertThat(shares.get("algo-2")).hasSize(12);
        List<String> all = new ArrayList<>(shares.get("algo-1"));
        all.addAll(shares.get("algo-2"));
        assertThat(all).containsExactlyInAnyOrderElementsOf(keys);
    }

    @Test
    void an_object_corrupted_at_rest_fails_staging_by_name_and_the_script_never_runs() throws Exception {
        String prefix = "s3://training/corrupt/";
        for (int i = 0; i < 3; i++) {
            put(prefix + "part-" + i + ".bin", "payload number " + i);
        }
        try (var file = java.nio.channels.FileChannel.open(server.objectFile("training", "corrupt/part-1.bin"),
                java.nio.file.StandardOpenOption.WRITE)) {
            file.write(java.nio.ByteBuffer.wrap("X".getBytes(StandardCharsets.UTF_8)), 0); // same size, one byte off
        }
        ObjectNode request = fixture.request("corrupt", "train_env.py");
        TrainFixture.fileChannel(request, "train", prefix);

        JobDescription job = fixture.run(request);

        assertThat(job.status()).isEqualTo("Failed");
        assertThat(job.failureReason()).startsWith("ClientError: channel 'train': 1 of 3 object(s) could not be"
                + " staged; the first: part-1.bin: ").containsIgnoringCase("CRC32C");
        assertThat(TrainFixture.statuses(job)).containsExactly("Starting", "Downloading", "Failed");
        assertThat(fixture.jobs.tree("corrupt").channel("train").resolve("part-1.bin")).doesNotExist();
    }

    @Test
    void a_manifest_in_a_bucket_that_names_files_on_this_machine_is_refused_before_anything_is_read()
            throws Exception {
        // Whoever can write to the bucket must not be able to copy this machine's files into a job.
        Path secrets = Files.createDirectories(folder.resolve("secrets"));
        Files.writeString(secrets.resolve("credentials"), "aws_secret_access_key = do-not-stage");
        put("s3://training/manifests/train.manifest", "[{\"prefix\": \"" + secrets.toUri() + "\"}, \"credentials\"]");
        put("s3://training/manifests/labels.jsonl", "{\"source-ref\": \"file://" + secrets.resolve("credentials")
                + "\", \"class\": 1}\n");
        ObjectNode request = fixture.request("remote-manifests", "list_files.py");
        ((ObjectNode) TrainFixture.fileChannel(request, "train", "s3://training/manifests/train.manifest")
                .get("DataSource").get("S3DataSource")).put("S3DataType", "ManifestFile");
        ObjectNode augmented = (ObjectNode) TrainFixture.fileChannel(request, "labelled",
                "s3://training/manifests/labels.jsonl").get("DataSource").get("S3DataSource");
        augmented.put("S3DataType", "AugmentedManifestFile");
        augmented.putArray("AttributeNames").add("source-ref").add("class");

        assertThatThrownBy(() -> fixture.run(request))
                .isInstanceOf(PreflightException.class)
                .hasMessageContaining("channel 'train': the manifest s3://training/manifests/train.manifest is in"
                        + " a bucket but names a file on this machine")
                .hasMessageContaining("channel 'labelled': the manifest s3://training/manifests/labels.jsonl is"
                        + " in a bucket but names a file on this machine");
        assertThat(fixture.jobs.list()).isEmpty();
    }

    @Test
    void preflight_names_a_missing_bucket_and_bad_credentials_by_field() throws Exception {
        ObjectNode request = fixture.request("no-bucket", "train_env.py");
        TrainFixture.fileChannel(request, "train", "s3://no-such-bucket/images/");
        request.putObject("OutputDataConfig").put("S3OutputPath", "s3://also-missing/output/");

        assertThatThrownBy(() -> fixture.run(request))
                .isInstanceOf(PreflightException.class)
                .hasMessageContaining("channel 'train': ")
                .hasMessageContaining("no-such-bucket")
                .hasMessageContaining("OutputDataConfig.S3OutputPath: ")
                .hasMessageContaining("also-missing");

        Map<String, String> wrongKeys = new HashMap<>(server.environment());
        wrongKeys.put("AWS_SECRET_ACCESS_KEY", "not-the-secret");
        try (TrainFixture wrong = new TrainFixture(folder.resolve("wrong"), wrongKeys)) {
            ObjectNode denied = wrong.request("denied", "train_env.py");
            TrainFixture.fileChannel(denied, "train", "s3://training/sharded/");
            assertThatThrownBy(() -> wrong.run(denied))
                    .isInstanceOf(PreflightException.class)
                    .hasMessageContaining("channel 'train': ")
                    .hasMessageNotContaining("not-the-secret");
        }
        assertThat(fixture.jobs.list()).isEmpty();
    }
}
