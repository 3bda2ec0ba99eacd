package ferry.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Whole jobs on local storage: real python3 processes, real namespaces, real signals. */
class JobRunnerTest {
    @TempDir
    Path folder;

    private TrainFixture fixture;
    private Path data;

    @BeforeEach
    void setUp() throws Exception {
        fixture = new TrainFixture(folder);
        data = folder.resolve("data/train");
        for (int i = 0; i < 12; i++) {
            Path file = data.resolve("class" + (i % 3) + "/" + i + ".txt");
            Files.createDirectories(file.getParent());
            Files.writeString(file, "sample " + i);
        }
    }

    @AfterEach
    void tearDown() throws Exception {
        fixture.close();
    }

    @Test
    void file_channel_gives_the_script_its_data_hyperparameters_and_environment_and_uploads_the_model()
            throws Exception {
        ObjectNode request = fixture.request("env-job", "train_env.py");
        request.putObject("HyperParameters").put("epochs", "3").put("lr", "0.05").put("name", "\"resnet\"")
                .put("batch-size", "8");
        request.putObject("Environment").put("FROM_REQUEST", "yes");
        TrainFixture.fileChannel(request, "train", data.toString() + "/").put("ContentType", "text/plain");

        JobDescription job = fixture.run(request);

        assertThat(job.status()).as(fixture.output.toString()).isEqualTo("Completed");
        assertThat(TrainFixture.statuses(job))
                .containsExactly("Starting", "Downloading", "Training", "Uploading", "Completed");
        JsonNode model = fixture.modelFile("env-job", "model.json");
        assertThat(model.get("epochs").asInt()).isEqualTo(3);
        assertThat(model.get("lr").asDouble()).isEqualTo(0.05);
        assertThat(model.get("name").asText()).isEqualTo("resnet");
        assertThat(model.get("files")).hasSize(12);
        assertThat(model.get("files").get("class1/4.txt").asText()).isEqualTo("sample 4");
        assertThat(model.get("cwd").asText()).isEqualTo(fixture.work.toString());

        JsonNode env = model.get("env");
        assertThat(env.get("SM_CHANNEL_TRAIN").asText()).isEqualTo("/opt/ml/input/data/train");
        assertThat(env.get("SM_MODEL_DIR").asText()).isEqualTo("/opt/ml/model");
        assertThat(env.get("SM_OUTPUT_DATA_DIR").asText()).isEqualTo("/opt/ml/output/data");
        assertThat(env.get("SM_INPUT_CONFIG_DIR").asText()).isEqualTo("/opt/ml/input/config");
        assertThat(env.get("SM_CHANNELS").asText()).isEqualTo("[\"train\"]");
        assertThat(env.get("SM_HPS").asText())
                .isEqualTo("{\"epochs\":3,\"lr\":0.05,\"name\":\"resnet\",\"batch-size\":8}");
        assertThat(env.get("SM_HP_EPOCHS").asText()).isEqualTo("3");
        assertThat(env.get("SM_HP_NAME").asText()).isEqualTo("resnet");
        // Not a name a shell can set, but one SageMaker gives: the job's shell must pass it on.
        assertThat(env.get("SM_HP_BATCH-SIZE")).as("SM_HP_BATCH-SIZE in %s", env).isNotNull();
        assertThat(env.get("SM_HP_BATCH-SIZE").asText()).isEqualTo("8");
        assertThat(env.get("SM_USER_ARGS").asText())
                .isEqualTo("[\"--epochs\",\"3\",\"--lr\",\"0.05\",\"--name\",\"resnet\",\"--batch-size\",\"8\"]");
        assertThat(env.get("SM_CURRENT_HOST").asText()).isEqualTo("algo-1");
        assertThat(env.get("SM_HOSTS").asText()).isEqualTo("[\"algo-1\"]");
        assertThat(env.get("SM_NUM_GPUS").asText()).isEqualTo("0");
        assertThat(env.get("TRAINING_JOB_NAME").asText()).isEqualTo("env-job");
        assertThat(env.get("FROM_REQUEST").asText()).isEqualTo("yes");
        JsonNode training = TrainFixture.JSON.readTree(env.get("SM_TRAINING_ENV").asText());
        assertThat(training.get("channel_input_dirs").get("train").asText()).isEqualTo("/opt/ml/input/data/train");
        assertThat(training.get("hps").get("epochs").asInt()).isEqualTo(3);
        assertThat(training.get("input_data_config").get("train").get("ContentType").asText())
                .isEqualTo("text/plain");
        assertThat(training.get("resource_config").get("current_host").asText()).isEqualTo("algo-1");

        JobTree tree = fixture.jobs.tree("env-job");
        JsonNode hyperparameters = TrainFixture.JSON.readTree(tree.inputConfig().resolve("hyperparameters.json")
                .toFile());
        assertThat(hyperparameters.get("epochs").isTextual()).isTrue();
        JsonNode resources = TrainFixture.JSON.readTree(tree.inputConfig().resolve("resourceconfig.json").toFile());
        assertThat(resources.get("current_group_name").asText()).isEqualTo("homogeneousCluster");
        assertThat(resources.get("instance_groups").get(0).get("hosts").get(0).asText()).isEqualTo("algo-1");

        Path outputData = fixture.untar(folder.resolve("output/env-job/output/output.tar.gz"));
        assertThat(outputData.resolve("metrics.json")).hasContent("{\"accuracy\": 0.5}");
        Path unpacked = fixture.untar(folder.resolve("output/env-job/output/model.tar.gz"));
        assertThat(Files.readAllBytes(unpacked.resolve("sub/weights.bin"))).hasSize(1024);

        JsonNode described = job.json();
        assertThat(described.get("ModelArtifacts").get("S3ModelArtifacts").asText())
                .isEqualTo("file://" + folder.resolve("output/env-job/output/model.tar.gz"));
        assertThat(described.get("TrainingTimeInSeconds").asLong()).isPositive();
        assertThat(described.get("BillableTimeInSeconds").asLong())
                .isEqualTo(described.get("TrainingTimeInSeconds").asLong());
        for (JsonNode transition : described.get("SecondaryStatusTransitions")) {
            Instant start = Instant.parse(transition.get("StartTime").asText());
            assertThat(Instant.parse(transition.get("EndTime").asText())).isAfterOrEqualTo(start);
            assertThat(transition.get("StatusMessage").asText()).isNotBlank();
        }
        JsonNode channel = described.get("Ferry").get("Channels").get(0);
        assertThat(channel.get("ChannelName").asText()).isEqualTo("train");
        assertThat(channel.get("FilesDelivered").asLong()).isEqualTo(12);
        assertThat(channel.get("BytesDelivered").asLong()).isEqualTo(12 * "sample 1".length() + 2);
        assertThat(described.get("Ferry").get("PhaseSeconds").get("Downloading").asDouble()).isGreaterThan(0);
        assertThat(described.get("Ferry").get("SecondsBeforeTraining").asDouble()).isGreaterThan(0);

        String log = fixture.log("env-job");
        assertThat(log).contains("epoch 3/3: 12 files, lr 0.05").contains("saved model")
                .contains("bound at /opt/ml").contains("channel train: staged 12 file(s)");
        assertThat(JobDescription.read(tree.description()).status()).isEqualTo("Completed");
    }

    @Test
    void hyperparameters_the_sagemaker_sdk_adds_for_the_toolkit_are_not_passed_to_the_script() throws Exception {
        // What the SageMaker Python SDK and the tuner put in every request: the toolkit keeps them for itself.
        ObjectNode request = fixture.request("sdk-job", "train_env.py");
        request.putObject("HyperParameters").put("epochs", "2").put("sagemaker_program", "\"train_env.py\"")
                .put("sagemaker_submit_directory", "\"s3://bucket/code/sourcedir.tar.gz\"")
                .put("sagemaker_container_log_level", "20").put("_tuning_objective_metric", "\"loss\"");
        TrainFixture.fileChannel(request, "train", data.toString());

        JobDescription job = fixture.run(request);

        assertThat(job.status()).as(fixture.log("sdk-job")).isEqualTo("Completed");
        JsonNode env = fixture.modelFile("sdk-job", "model.json").get("env");
        assertThat(env.get("SM_USER_ARGS").asText()).isEqualTo("[\"--epochs\",\"2\"]");
        assertThat(env.get("SM_HPS").asText()).isEqualTo("{\"epochs\":2}");
        assertThat(env.has("SM_HP_SAGEMAKER_PROGRAM")).isFalse();
        JsonNode training = TrainFixture.JSON.readTree(env.get("SM_TRAINING_ENV").asText());
        assertThat(training.get("hyperparameters").toString()).isEqualTo("{\"epochs\":2}");
        JsonNode file = TrainFixture.JSON.readTree(fixture.jobs.tree("sdk-job").inputConfig()
                .resolve("hyperparameters.json").toFile());
        assertThat(file.get("sagemaker_program").asText()).as("the file keeps the request's every value")
                .isEqualTo("\"train_env.py\"");
    }

    @Test
    void a_script_that_hard_codes_opt_ml_paths_finds_everything_there() throws Exception {
        ObjectNode request = fixture.request("opt-ml-job", "train_optml.py");
        request.putObject("HyperParameters").put("epochs", "2");
        TrainFixture.fileChannel(request, "train", data.toString());

        JobDescription job = fixture.run(request);

        assertThat(job.status()).as(fixture.output.toString()).isEqualTo("Completed");
        JsonNode model = fixture.modelFile("opt-ml-job", "model.json");
        assertThat(model.get("hps").get("epochs").asText()).isEqualTo("2");
        assertThat(model.get("files")).extracting(JsonNode::asText).containsExactly("class0", "class1", "class2");
        assertThat(model.get("channels").get("train").get("TrainingInputMode").asText()).isEqualTo("File");
        assertThat(model.get("resources").get("hosts").get(0).asText()).isEqualTo("algo-1");
    }

    @Test
    void without_a_namespace_paths_point_into_the_job_folder_and_the_log_says_so() throws Exception {
        fixture.options = fixture.options.withIsolation(Isolation.Mode.OFF);
        ObjectNode request = fixture.request("no-namespace", "train_env.py");
        TrainFixture.fileChannel(request, "train", data.toString());

        JobDescription job = fixture.run(request);

        assertThat(job.status()).isEqualTo("Completed");
        JobTree tree = fixture.jobs.tree("no-namespace");
        JsonNode env = fixture.modelFile("no-namespace", "model.json").get("env");
        assertThat(env.get("SM_CHANNEL_TRAIN").asText()).isEqualTo(tree.channel("train").toString());
        assertThat(env.get("SM_MODEL_DIR").asText()).isEqualTo(tree.model().toString());
        assertThat(fixture.log("no-namespace")).contains("not using a private mount namespace")
                .contains("scripts that hard-code /opt/ml will not find it");
        assertThat(job.json().get("Ferry").get("Isolation").asText()).contains("not using a private mount namespace");
    }

    @Test
    void a_filesystem_channel_is_read_in_place_and_is_read_only() throws Exception {
        ObjectNode request = fixture.request("fs-ro", "write_channel.py");
        TrainFixture.fileSystemChannel(request, "train", data, "ro");

        JobDescription job = fixture.run(request);

        assertThat(job.status()).as(fixture.output.toString()).isEqualTo("Completed");
        JsonNode model = fixture.modelFile("fs-ro", "model.json");
        assertThat(model.get("files")).extracting(JsonNode::asText).containsExactly("class0", "class1", "class2");
        assertThat(model.get("write").asText()).isEqualTo("refused: Read-only file system");
        assertThat(data.resolve("written-by-job.txt")).doesNotExist();
        assertThat(fixture.jobs.tree("fs-ro").channel("train")).isEmptyDirectory(); // used in place, not copied
        JsonNode channel = job.json().get("Ferry").get("Channels").get(0);
        assertThat(channel.get("InputMode").asText()).isEqualTo("FileSystem");
        assertThat(channel.get("FilesDelivered").asLong()).isEqualTo(12);
        assertThat(fixture.log("fs-ro")).contains("FileSystemDataSource.FileSystemType")
                .contains("FileSystemDataSource.FileSystemId");
    }

    @Test
    void a_filesystem_channel_in_rw_mode_takes_writes() throws Exception {
        ObjectNode request = fixture.request("fs-rw", "write_channel.py");
        TrainFixture.fileSystemChannel(request, "train", data, "rw");

        JobDescription job = fixture.run(request);

        assertThat(job.status()).isEqualTo("Completed");
        assertThat(fixture.modelFile("fs-rw", "model.json").get("write").asText()).isEqualTo("written");
        assertThat(data.resolve("written-by-job.txt")).hasContent("hello");
    }

    @Test
    void without_a_namespace_a_filesystem_channel_is_a_symbolic_link() throws Exception {
        fixture.options = fixture.options.withIsolation(Isolation.Mode.OFF);
        ObjectNode request = fixture.request("fs-link", "write_channel.py");
        TrainFixture.fileSystemChannel(request, "train", data, "ro");

        JobDescription job = fixture.run(request);

        assertThat(job.status()).isEqualTo("Completed");
        JsonNode model = fixture.modelFile("fs-link", "model.json");
        assertThat(model.get("is_link").asBoolean()).isTrue();
        assertThat(Files.readSymbolicLink(fixture.jobs.tree("fs-link").channel("train"))).isEqualTo(data);
        assertThat(fixture.log("fs-link")).contains("read-only FileSystem channels are not enforced");
    }

    @Test
    void a_failing_script_fails_the_job_with_the_reason_it_wrote_to_output_failure() throws Exception {
        ObjectNode request = fixture.request("failing", "fail.py");

        JobDescription job = fixture.run(request);

        assertThat(job.status()).isEqualTo("Failed");
        assertThat(job.secondaryStatus()).isEqualTo("Failed");
        assertThat(job.failureReason())
                .isEqualTo("AlgorithmError: ValueError: learning rate must be positive, was -1");
        assertThat(TrainFixture.statuses(job))
                .containsExactly("Starting", "Downloading", "Training", "Uploading", "Failed");
        assertThat(job.modelArtifacts()).isNull();
        assertThat(folder.resolve("output/failing/output/model.tar.gz")).doesNotExist();
        assertThat(job.json().get("Ferry").get("ExitCode").asInt()).isEqualTo(2);
        assertThat(fixture.log("failing")).contains("loading data").contains("exited with code 2");
    }

    @Test
    void a_script_that_fails_without_a_reason_gets_its_last_log_lines_as_the_reason() throws Exception {
        JobDescription job = fixture.run(fixture.request("failing-silently", "fail_silently.py"));

        assertThat(job.status()).isEqualTo("Failed");
        assertThat(job.failureReason()).startsWith("AlgorithmError: the process exited with code 3")
                .contains("RuntimeError: CUDA out of memory (pretend)");
    }

    @Test
    void a_process_that_cannot_be_started_fails_the_job_with_the_reason_it_could_not() throws Exception {
        // One argument over Linux's 128 KiB limit for a single string: exec fails with E2BIG, and the reason said
        // "the process exited with code 127 and printed nothing".
        ObjectNode request = fixture.request("unstarted", "train_env.py");
        request.putObject("HyperParameters").put("notes", "x".repeat(200_000));

        JobDescription job = fixture.run(request);

        assertThat(job.status()).isEqualTo("Failed");
        assertThat(job.failureReason()).startsWith("ClientError: cannot start the training process")
                .contains("Argument list too long");
    }

    @Test
    void a_script_that_outlives_max_runtime_gets_sigterm_saves_its_model_and_the_job_is_stopped() throws Exception {
        ObjectNode request = fixture.request("too-long", "long_running.py");
        request.putObject("StoppingCondition").put("MaxRuntimeInSeconds", 1);

        JobDescription job = fixture.run(request);

        assertThat(job.status()).as(fixture.output.toString()).isEqualTo("Stopped");
        assertThat(job.secondaryStatus()).isEqualTo("MaxRuntimeExceeded");
        assertThat(TrainFixture.statuses(job))
                .containsExactly("Starting", "Downloading", "Training", "Uploading", "MaxRuntimeExceeded");
        assertThat(fixture.log("too-long")).contains("got SIGTERM, saved the model")
                .contains("MaxRuntimeInSeconds (1) reached");
        Path model = fixture.untar(folder.resolve("output/too-long/output/model.tar.gz"));
        assertThat(model.resolve("model.txt")).hasContent("saved on SIGTERM");
        assertThat(job.json().get("SecondaryStatusTransitions").get(4).get("StatusMessage").asText())
                .isEqualTo("Training job runtime exceeded MaxRuntimeInSeconds provided");
    }

    @Test
    void a_script_that_ignores_sigterm_is_killed_after_the_grace_period() throws Exception {
        fixture.options = fixture.options.withGracePeriod(Duration.ofMillis(300));
        ObjectNode request = fixture.request("stubborn", "long_running.py");
        request.putObject("HyperParameters").put("on-term", "ignore");
        request.putObject("StoppingCondition").put("MaxRuntimeInSeconds", 1);

        JobDescription job = fixture.run(request);

        assertThat(job.status()).isEqualTo("Stopped");
        assertThat(job.secondaryStatus()).isEqualTo("MaxRuntimeExceeded");
        assertThat(fixture.log("stubborn")).contains("the grace period is over: SIGKILL")
                .doesNotContain("not stopped in time");
        assertThat(job.json().get("Ferry").get("ExitCode").asInt()).isEqualTo(137);
    }

    @Test
    void a_process_that_cannot_be_recorded_once_started_is_killed_and_the_job_fails() throws Exception {
        // A full disk just after the start must not leave the process running with no runner to watch or stop it.
        String marker = "unrecorded-" + System.nanoTime(); // long_running.py ignores SIGTERM for any value but save
        ObjectNode request = fixture.request("no-pid", "long_running.py");
        request.putObject("HyperParameters").put("on-term", marker);
        fixture.when("Training in progress", () -> { // on the runner's thread, just before the process starts
            Files.createDirectories(fixture.jobs.tree("no-pid").processPid()); // the pid file cannot be written
        });
        try {
            JobDescription job = fixture.run(request);

            assertThat(job.status()).as(fixture.output.toString()).isEqualTo("Failed");
            assertThat(job.failureReason()).startsWith("ClientError: cannot record the training process")
                    .contains(fixture.jobs.tree("no-pid").processPid().toString());
            assertThat(processesWith(marker)).as("the training process is not left running").isEmpty();
            assertThat(fixture.log("no-pid")).contains("the training process was killed");
        } finally {
            processesWith(marker).forEach(ProcessHandle::destroyForcibly);
        }
    }

    private static List<ProcessHandle> processesWith(String marker) {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().map(line -> line.contains(marker)).orElse(false)).toList();
    }

    @Test
    void the_job_is_recorded_stopping_during_the_grace_period_and_still_counts_as_running() throws Exception {
        fixture.options = fixture.options.withGracePeriod(Duration.ofMillis(300));
        ObjectNode request = fixture.request("stopping", "long_running.py");
        request.putObject("HyperParameters").put("on-term", "ignore");
        request.putObject("StoppingCondition").put("MaxRuntimeInSeconds", 1);
        List<String> seen = new java.util.ArrayList<>();
        fixture.when("MaxRuntimeInSeconds (1) reached", () -> { // on the runner's thread, in the grace period
            JobStore.Job job = fixture.jobs.get("stopping");
            seen.add(job.description().status() + " running=" + job.running());
        });

        JobDescription job = fixture.run(request);

        assertThat(seen).containsExactly("Stopping running=true");
        assertThat(job.status()).isEqualTo("Stopped");
    }

    @Test
    void a_stop_asked_while_the_input_is_staged_ends_the_job_before_the_algorithm_starts() throws Exception {
        ObjectNode request = fixture.request("stop-staging", "long_running.py");
        TrainFixture.fileChannel(request, "train", data.toString());
        fixture.when("Downloading input data", () -> { // on the runner's thread, before staging begins
            assertThat(fixture.jobs.stop("stop-staging")).isTrue();
        });

        JobDescription job = fixture.run(request);

        assertThat(job.status()).isEqualTo("Stopped");
        assertThat(job.json().get("SecondaryStatusTransitions").findValuesAsText("Status"))
                .containsExactly("Starting", "Downloading", "Stopped");
        assertThat(fixture.log("stop-staging")).contains("stop requested before the training started")
                .doesNotContain("READY");
    }

    @Test
    void a_stop_asked_once_staging_has_begun_stops_the_staging_too() throws Exception {
        // A large channel takes minutes to stage: jobs stop (and Ctrl-C, which waits for the job) must not wait
        // for every object to arrive first.
        fixture.options = fixture.options.withConcurrency(1);
        ObjectNode request = fixture.request("stop-mid-staging", "long_running.py");
        TrainFixture.fileChannel(request, "train", data.toString());
        TrainFixture.fileChannel(request, "eval", data.toString());
        fixture.when("channel train: staging", () -> { // on the runner's thread, as staging begins
            assertThat(fixture.jobs.stop("stop-mid-staging")).isTrue();
        });

        JobDescription job = fixture.run(request);

        assertThat(job.status()).isEqualTo("Stopped");
        assertThat(TrainFixture.statuses(job)).containsExactly("Starting", "Downloading", "Stopped");
        JobTree tree = fixture.jobs.tree("stop-mid-staging");
        try (var files = Files.walk(tree.root().resolve("input/data"))) {
            assertThat(files.filter(Files::isRegularFile).toList()).as("nothing staged after the stop").isEmpty();
        }
        assertThat(fixture.log("stop-mid-staging")).contains("stop requested")
                .doesNotContain("channel eval: staging").doesNotContain("READY");
    }

    @Test
    void jobs_stop_stops_a_running_job_which_still_uploads_what_it_saved() throws Exception {
        TrainFixture.Background running = fixture.start(fixture.request("to-stop", "long_running.py"), "READY");
        JobStore.Job during = fixture.jobs.get("to-stop");
        assertThat(during.running()).isTrue();
        assertThat(during.description().secondaryStatus()).isEqualTo("Training");
        assertThat(fixture.jobs.list()).extracting(JobStore.Job::id).containsExactly("to-stop");

        assertThat(fixture.jobs.stop("to-stop")).isTrue();
        JobDescription job = running.await();

        assertThat(job.status()).isEqualTo("Stopped");
        assertThat(job.secondaryStatus()).isEqualTo("Stopped");
        assertThat(fixture.untar(folder.resolve("output/to-stop/output/model.tar.gz")).resolve("model.txt"))
                .hasContent("saved on SIGTERM");
        assertThat(fixture.jobs.get("to-stop").running()).isFalse();
        assertThat(fixture.jobs.stop("to-stop")).as("already ended").isFalse();
    }

    @Test
    void jobs_stop_sends_sigterm_once_so_a_handler_that_saves_the_model_is_not_entered_twice() throws Exception {
        // The usual handler saves the model and exits; saving takes a while. A second SIGTERM re-enters it half-way.
        Files.writeString(fixture.work.resolve("slow_save.py"), """
                import os, signal, sys, time
                calls = []
                def save(signum, frame):
                    calls.append(signum)
                    with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w") as f:
                        time.sleep(1)  # a large model being written
                        f.write("sigterm received %d time(s)" % len(calls))
                    sys.exit(0)
                signal.signal(signal.SIGTERM, save)
                print("READY", flush=True)
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline:
                    time.sleep(0.05)
                """);
        TrainFixture.Background running = fixture.start(fixture.request("slow-save", "slow_save.py"), "READY");

        assertThat(fixture.jobs.stop("slow-save")).isTrue();
        JobDescription job = running.await();

        assertThat(job.status()).isEqualTo("Stopped");
        assertThat(fixture.jobs.tree("slow-save").model().resolve("model.txt"))
                .hasContent("sigterm received 1 time(s)");
    }

    @Test
    void checkpoints_are_uploaded_while_the_job_runs_and_restored_by_the_next_run() throws Exception {
        Path store = folder.resolve("checkpoint-store");
        for (String name : List.of("first-run", "second-run")) {
            ObjectNode request = fixture.request(name, "checkpoint.py");
            request.putObject("HyperParameters").put("uploaded", store.resolve("state.json").toString());
            request.putObject("CheckpointConfig").put("S3Uri", store.toString());

            JobDescription job = fixture.run(request);

            assertThat(job.status()).as(fixture.output.toString()).isEqualTo("Completed");
        }
        JsonNode first = fixture.modelFile("first-run", "model.json");
        assertThat(first.get("resumed_after").asInt()).isZero();
        assertThat(first.get("uploaded_while_running").asBoolean()).isTrue();
        JsonNode second = fixture.modelFile("second-run", "model.json");
        assertThat(second.get("resumed_after").asInt()).isEqualTo(1);
        assertThat(second.get("uploaded_while_running").asBoolean()).isTrue();
        assertThat(fixture.log("second-run")).contains("restored 1 checkpoint file(s)");
        assertThat(TrainFixture.JSON.readTree(store.resolve("state.json").toFile()).get("runs").asInt()).isEqualTo(2);
    }

    @Test
    void an_output_path_below_a_file_is_refused_naming_the_file() throws Exception {
        Path file = Files.writeString(folder.resolve("results"), "a file");
        ObjectNode request = fixture.request("below-a-file", "list_files.py");
        ((ObjectNode) request.get("OutputDataConfig")).put("S3OutputPath", file.resolve("run-1") + "/");

        assertThatThrownBy(() -> fixture.run(request)).isInstanceOf(PreflightException.class)
                .hasMessageContaining("OutputDataConfig.S3OutputPath: " + file + " is a file, not a folder")
                .hasMessageNotContaining("owner and mode");
        assertThat(fixture.jobs.list()).isEmpty();
    }

    @Test
    void a_checkpoint_folder_outside_opt_ml_that_holds_files_is_refused_as_another_jobs_leftovers() throws Exception {
        Path shared = Files.createDirectories(folder.resolve("shared-checkpoints"));
        Files.writeString(shared.resolve("other-job.pt"), "not this job's");
        ObjectNode request = fixture.request("leftovers", "list_files.py");
        request.putObject("CheckpointConfig").put("S3Uri", folder.resolve("checkpoint-store").toString())
                .put("LocalPath", shared.toString());

        assertThatThrownBy(() -> fixture.run(request)).isInstanceOf(PreflightException.class)
                .hasMessageContaining("CheckpointConfig.LocalPath " + shared + " already holds files")
                .hasMessageContaining("use a folder under /opt/ml such as /opt/ml/checkpoints");
        assertThat(fixture.jobs.list()).isEmpty();
        assertThat(folder.resolve("checkpoint-store")).as("nothing uploaded").doesNotExist();

        Files.delete(shared.resolve("other-job.pt"));
        assertThat(fixture.run(request).status()).as(fixture.output.toString()).isEqualTo("Completed");
    }

    @Test
    void sharded_by_s3_key_gives_two_simulated_hosts_every_object_exactly_once() throws Exception {
        Map<String, JsonNode> shares = new java.util.TreeMap<>();
        for (String host : List.of("algo-1", "algo-2")) {
            fixture.options = fixture.options.withHosts(List.of("algo-1", "algo-2"), host);
            ObjectNode request = fixture.request("sharded", "list_files.py");
            request.putObject("ResourceConfig").put("InstanceCount", 2).put("InstanceType", "ml.p3.2xlarge");
            ((ObjectNode) TrainFixture.fileChannel(request, "train", data.toString()).get("DataSource")
                    .get("S3DataSource")).put("S3DataDistributionType", "ShardedByS3Key");
            TrainFixture.fileChannel(request, "eval", data.resolve("class0").toString());

            JobDescription job = fixture.run(request);

            assertThat(job.status()).as(fixture.output.toString()).isEqualTo("Completed");
            assertThat(fixture.jobs.tree("sharded@" + host).root()).exists();
            Path files = fixture.jobs.tree("sharded@" + host).model().resolve("files.json");
            shares.put(host, TrainFixture.JSON.readTree(files.toFile()));
        }
        List<String> one = fieldNames(shares.get("algo-1").get("train"));
        List<String> two = fieldNames(shares.get("algo-2").get("train"));
        assertThat(one).hasSize(6).doesNotContainAnyElementsOf(two);
        assertThat(two).hasSize(6);
        List<String> all = new java.util.ArrayList<>(one);
        all.addAll(two);
        try (var walk = Files.walk(data)) {
            assertThat(all).containsExactlyInAnyOrderElementsOf(walk.filter(Files::isRegularFile)
                    .map(p -> data.relativize(p).toString()).toList());
        }
        // sorted keys dealt i mod n: class0/0.txt, class0/3.txt, class0/6.txt, class0/9.txt, class1/1.txt, ...
        assertThat(one).contains("class0/0.txt", "class0/6.txt", "class1/1.txt");
        assertThat(two).contains("class0/3.txt", "class0/9.txt", "class1/10.txt");
        // a FullyReplicated channel reaches every host whole
        assertThat(fieldNames(shares.get("algo-1").get("eval"))).hasSize(4);
        assertThat(fieldNames(shares.get("algo-2").get("eval"))).hasSize(4);
        assertThat(folder.resolve("output/sharded/output/model.tar.gz")).exists();
        assertThat(fixture.log("sharded@algo-2")).contains("only the first host uploads")
                .contains("(6 of 12 items for algo-2, ShardedByS3Key)");
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new java.util.ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    @Test
    void instance_count_above_one_without_hosts_says_only_algo_1_runs_and_what_to_do() throws Exception {
        ObjectNode request = fixture.request("three-hosts", "list_files.py");
        request.putObject("ResourceConfig").put("InstanceCount", 3).put("InstanceType", "ml.p3.2xlarge");

        JobDescription job = fixture.run(request);

        assertThat(job.status()).as(fixture.output.toString()).isEqualTo("Completed");
        String note = "ResourceConfig.InstanceCount is 3, but no --hosts were given: only algo-1 runs here";
        assertThat(fixture.log("three-hosts@algo-1")).contains(note)
                .contains("--hosts algo-1,algo-2,algo-3 --current-host algo-N");
        assertThat(fixture.output).anyMatch(line -> line.contains(note));
    }

    @Test
    void a_current_host_without_hosts_plays_one_of_the_instance_counts_hosts_and_its_id_names_it() throws Exception {
        ObjectNode request = fixture.request("two-hosts", "list_files.py");
        request.putObject("ResourceConfig").put("InstanceCount", 2).put("InstanceType", "ml.p3.2xlarge");
        fixture.options = fixture.options.withHosts(null, "algo-2");

        JobDescription job = fixture.run(request);

        assertThat(job.status()).as(fixture.output.toString()).isEqualTo("Completed");
        assertThat(job.id()).isEqualTo("two-hosts@algo-2");
        assertThat(fixture.log("two-hosts@algo-2")).contains("on host algo-2 of algo-1,algo-2");

        fixture.options = fixture.options.withHosts(null, "algo-3");
        assertThatThrownBy(() -> fixture.run(fixture.request("two-hosts-again", "list_files.py")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--current-host algo-3 is not one of the job's hosts algo-1");
    }

    @Test
    void a_job_name_can_be_used_once() throws Exception {
        assertThat(fixture.run(fixture.request("once", "train_optml.py")).status()).isEqualTo("Failed");

        assertThatThrownBy(() -> fixture.run(fixture.request("once", "train_optml.py")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("a training job named 'once' already exists")
                .hasMessageContaining("ferry jobs rm once");
        fixture.jobs.delete("once");
        assertThat(fixture.jobs.list()).isEmpty();
    }

    @Test
    void values_no_process_can_be_given_are_refused_with_the_request_not_half_way_through_the_job() {
        // A NUL cannot be in an argument or a variable, nor '=' in a variable's name (SM_HP_<NAME>): the process
        // could never start, and the job was left InProgress behind a bare "Invalid environment variable" error.
        ObjectNode request = fixture.request("unstartable", "train_env.py");
        request.putObject("HyperParameters").put("a=b", "1").put("lr", "0.1\u0000");
        request.putObject("Environment").put("TOKEN", "x\u0000y");
        ((com.fasterxml.jackson.databind.node.ArrayNode) request.get("AlgorithmSpecification").get("Command"))
                .add("--flag\u0000");

        assertThatThrownBy(() -> fixture.run(request))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessageContaining("HyperParameters has the name 'a=b', which cannot be passed as the variable"
                        + " SM_HP_A=B: use a name without '='")
                .hasMessageContaining("HyperParameters.lr holds a NUL character, which no process can be given:"
                        + " remove it")
                .hasMessageContaining("Environment.TOKEN holds a NUL character")
                .hasMessageContaining("AlgorithmSpecification.Command holds a NUL character");
        assertThat(fixture.jobs.root().resolve("unstartable")).doesNotExist();
    }

    @Test
    void preflight_names_every_problem_and_creates_no_job() throws Exception {
        fixture.options = fixture.options.withUsableSpace(path -> 10);
        ObjectNode request = fixture.request("preflight", "no_such_script.py");
        ((com.fasterxml.jackson.databind.node.ArrayNode) request.get("AlgorithmSpecification").get("Command"))
                .set(0, TrainFixture.JSON.getNodeFactory().textNode("pyhton3"));
        TrainFixture.fileChannel(request, "train", data.toString());
        TrainFixture.fileChannel(request, "empty", folder.resolve("nothing-here").toString() + "/");
        TrainFixture.fileSystemChannel(request, "nfs", folder.resolve("not-mounted"), "ro");
        ObjectNode manifest = TrainFixture.fileChannel(request, "listed", folder.resolve("absent.manifest").toString());
        ((ObjectNode) manifest.get("DataSource").get("S3DataSource")).put("S3DataType", "ManifestFile");

        assertThatThrownBy(() -> fixture.run(request))
                .isInstanceOf(PreflightException.class)
                .hasMessageContaining("job 'preflight' cannot start: 5 problems")
                .hasMessageContaining("AlgorithmSpecification.Command: 'pyhton3' is not an executable program on"
                        + " PATH")
                .hasMessageContaining("channel 'empty': no objects under file://" + folder.resolve("nothing-here"))
                .hasMessageContaining("channel 'nfs': DirectoryPath " + folder.resolve("not-mounted")
                        + " does not exist")
                .hasMessageContaining("channel 'listed': the manifest file://" + folder.resolve("absent.manifest")
                        + " does not exist")
                .hasMessageContaining("not enough disk to stage the File channels: channel 'train' needs 98 bytes")
                .hasMessageContaining("only 10 bytes are available");
        assertThat(fixture.jobs.list()).isEmpty();
        assertThat(fixture.jobs.root().resolve("preflight")).doesNotExist();
    }

    @Test
    void a_manifest_key_that_escapes_the_channel_folder_is_refused_before_staging() throws Exception {
        Path manifest = folder.resolve("evil.manifest");
        Files.writeString(manifest, "[{\"prefix\": \"" + data.toUri() + "\"}, \"class0/0.txt\","
                + " \"../../outside.txt\"]");
        Files.writeString(folder.resolve("data/outside.txt"), "secret");
        ObjectNode request = fixture.request("evil", "list_files.py");
        ObjectNode channel = TrainFixture.fileChannel(request, "train", manifest.toString());
        ((ObjectNode) channel.get("DataSource").get("S3DataSource")).put("S3DataType", "ManifestFile");

        assertThatThrownBy(() -> fixture.run(request))
                .isInstanceOf(PreflightException.class)
                .hasMessageContaining("channel 'train': refusing object key '../../outside.txt'");
    }

    @Test
    void a_manifest_file_and_an_augmented_manifest_deliver_what_they_list() throws Exception {
        Path manifest = folder.resolve("train.manifest");
        Files.writeString(manifest, "[{\"prefix\": \"file://" + data + "/\"}, \"class0/0.txt\", \"class2/5.txt\"]");
        Path augmented = folder.resolve("labels.jsonl");
        Files.writeString(augmented, """
                {"source-ref": "file://%s/class0/3.txt", "class": 0, "extra": "dropped"}
                {"source-ref": "file://%s/class1/4.txt", "class": 1, "extra": "dropped"}
                """.formatted(data, data));
        ObjectNode request = fixture.request("manifests", "list_files.py");
        ((ObjectNode) TrainFixture.fileChannel(request, "train", manifest.toString()).get("DataSource")
                .get("S3DataSource")).put("S3DataType", "ManifestFile");
        ObjectNode source = (ObjectNode) TrainFixture.fileChannel(request, "labelled", augmented.toString())
                .get("DataSource").get("S3DataSource");
        source.put("S3DataType", "AugmentedManifestFile");
        source.putArray("AttributeNames").add("source-ref").add("class");

        JobDescription job = fixture.run(request);

        assertThat(job.status()).as(fixture.output.toString()).isEqualTo("Completed");
        JsonNode files = TrainFixture.JSON.readTree(fixture.jobs.tree("manifests").model().resolve("files.json")
                .toFile());
        assertThat(fieldNames(files.get("train"))).containsExactlyInAnyOrder("class0/0.txt", "class2/5.txt");
        JsonNode labelled = files.get("labelled");
        String prefix = data.toString().substring(1);
        assertThat(fieldNames(labelled)).containsExactlyInAnyOrder("labels.jsonl", prefix + "/class0/3.txt",
                prefix + "/class1/4.txt");
        assertThat(labelled.get("labels.jsonl").asText()).isEqualTo(
                ("{\"source-ref\":\"file://%s/class0/3.txt\",\"class\":0}\n"
                        + "{\"source-ref\":\"file://%s/class1/4.txt\",\"class\":1}\n").formatted(data, data));
    }
}
