package ferry.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import ferry.store.Stores;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * What a job test needs: a Ferry home, a folder holding the request and the scripts (the process's working
 * folder), the runner, and ways to read back what a job produced. Scripts run with the OS python3.
 */
final class TrainFixture implements AutoCloseable {
    static final String PYTHON = "/usr/bin/python3";
    static final ObjectMapper JSON = JsonMapper.builder().build();

    final Path root;
    final Path home;
    final Path work;
    final Map<String, String> environment = new HashMap<>();
    final Stores stores;
    final JobStore jobs;
    final List<String> output = new CopyOnWriteArrayList<>();
    JobRunner.Options options = JobRunner.Options.DEFAULT
            .withGracePeriod(Duration.ofSeconds(5))
            .withIntervals(Duration.ofMillis(20), Duration.ofMillis(50))
            .withConcurrency(8);
    private volatile Consumer<String> listener = line -> {};

    TrainFixture(Path root) throws IOException {
        this(root, Map.of());
    }

    TrainFixture(Path root, Map<String, String> extraEnvironment) throws IOException {
        this.root = root;
        this.home = Files.createDirectories(root.resolve("home"));
        this.work = Files.createDirectories(root.resolve("work"));
        environment.put("PATH", "/usr/local/bin:/usr/bin:/bin");
        environment.put("HOME", root.toString());
        environment.put("FERRY_HOME", home.toString());
        environment.putAll(extraEnvironment);
        this.stores = Stores.fromEnvironment(environment);
        this.jobs = new JobStore(home.resolve("jobs"), Clock.systemUTC());
        for (String script : List.of("train_env.py", "train_optml.py", "fail.py", "fail_silently.py",
                "long_running.py", "checkpoint.py", "write_channel.py", "list_files.py", "fastfile_read.py")) {
            try (InputStream in = TrainFixture.class.getResourceAsStream("/scripts/" + script)) {
                Files.copy(in, work.resolve(script));
            }
        }
    }

    /** A minimal valid request for {@code script}, with OutputDataConfig in a local folder. */
    ObjectNode request(String name, String script) {
        ObjectNode request = JSON.createObjectNode();
        request.put("TrainingJobName", name);
        request.putObject("AlgorithmSpecification").put("TrainingInputMode", "File").putArray("Command")
                .add(PYTHON).add(script);
        request.putObject("OutputDataConfig").put("S3OutputPath", root.resolve("output").toString() + "/");
        request.putObject("StoppingCondition").put("MaxRuntimeInSeconds", 60);
        return request;
    }

    static ObjectNode fileChannel(ObjectNode request, String name, String uri) {
        ObjectNode channel = channels(request).addObject();
        channel.put("ChannelName", name);
        channel.putObject("DataSource").putObject("S3DataSource").put("S3Uri", uri).put("S3DataType", "S3Prefix")
                .put("S3DataDistributionType", "FullyReplicated");
        return channel;
    }

    static ObjectNode fileSystemChannel(ObjectNode request, String name, Path directory, String access) {
        ObjectNode channel = channels(request).addObject();
        channel.put("ChannelName", name);
        channel.putObject("DataSource").putObject("FileSystemDataSource").put("DirectoryPath", directory.toString())
                .put("FileSystemAccessMode", access).put("FileSystemType", "EFS").put("FileSystemId", "fs-local");
        return channel;
    }

    private static com.fasterxml.jackson.databind.node.ArrayNode channels(ObjectNode request) {
        return request.has("InputDataConfig") ? (com.fasterxml.jackson.databind.node.ArrayNode)
                request.get("InputDataConfig") : request.putArray("InputDataConfig");
    }

    TrainingRequest parse(ObjectNode request) throws IOException {
        Path file = work.resolve(request.get("TrainingJobName").asText() + ".json");
        Files.writeString(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(request));
        return new RequestParser(environment, home).parse(file);
    }

    JobRunner runner() {
        return new JobRunner(jobs, stores, environment, Clock.systemUTC(), options, line -> {
            output.add(line);
            listener.accept(line);
        });
    }

    JobDescription run(ObjectNode request) throws IOException, InterruptedException {
        return runner().run(parse(request));
    }

    /** Hands every line of the job's log to {@code lines} as it is written, on the runner's thread. */
    void onLine(Consumer<String> lines) {
        listener = lines;
    }

    /** Something a test does on the runner's thread; an {@link java.io.IOException} fails the job's test. */
    interface Step {
        void run() throws java.io.IOException;
    }

    /** Runs {@code step} on the runner's thread whenever a line it logs contains {@code text}. */
    void when(String text, Step step) {
        onLine(line -> {
            if (line.contains(text)) {
                try {
                    step.run();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        });
    }

    /** Runs a job on another thread and returns once its process printed {@code line}. */
    Background start(ObjectNode request, String line) throws Exception {
        CountDownLatch seen = new CountDownLatch(1);
        listener = l -> {
            if (l.equals(line)) {
                seen.countDown();
            }
        };
        TrainingRequest parsed = parse(request);
        Background background = new Background();
        background.thread = Thread.ofPlatform().start(() -> {
            try {
                background.result = runner().run(parsed);
            } catch (Exception e) {
                background.error = e;
            } finally {
                seen.countDown();
            }
        });
        if (!seen.await(60, TimeUnit.SECONDS)) {
            throw new AssertionError("the job never printed " + line + "; output: " + output);
        }
        if (background.error != null) {
            throw background.error;
        }
        return background;
    }

    static final class Background {
        Thread thread;
        volatile JobDescription result;
        volatile Exception error;

        JobDescription await() throws Exception {
            thread.join(Duration.ofSeconds(90));
            if (thread.isAlive()) {
                throw new AssertionError("the job did not end");
            }
            if (error != null) {
                throw error;
            }
            return result;
        }
    }

    /** Extracts a tar.gz with the system's tar, an independent reader of the format. */
    Path untar(Path archive) throws IOException, InterruptedException {
        Path target = Files.createTempDirectory(root, "untar-");
        Process tar = new ProcessBuilder("tar", "-xzf", archive.toString(), "-C", target.toString())
                .redirectErrorStream(true).start();
        String out = new String(tar.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (tar.waitFor() != 0) {
            throw new AssertionError("tar failed on " + archive + ": " + out);
        }
        return target;
    }

    /** The model.json (or another file) inside a job's model.tar.gz in the local output folder. */
    JsonNode modelFile(String job, String file) throws IOException, InterruptedException {
        Path archive = root.resolve("output").resolve(job).resolve("output/model.tar.gz");
        return JSON.readTree(untar(archive).resolve(file).toFile());
    }

    static List<String> statuses(JobDescription description) {
        List<String> statuses = new ArrayList<>();
        description.json().get("SecondaryStatusTransitions").forEach(t -> statuses.add(t.get("Status").asText()));
        return statuses;
    }

    String log(String job) throws IOException {
        return Files.readString(jobs.log(job));
    }

    @Override
    public void close() throws IOException {
        stores.close();
    }
}
