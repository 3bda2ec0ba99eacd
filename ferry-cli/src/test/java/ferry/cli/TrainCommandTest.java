package ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ferry train and ferry jobs as a user types them, with real python3 scripts. */
class TrainCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path folder;

    private Map<String, String> env;
    private Path data;

    @BeforeEach
    void setUp() throws Exception {
        env = Map.of("FERRY_HOME", folder.resolve("home").toString(), "HOME", folder.toString(),
                "PATH", "/usr/bin:/bin");
        data = folder.resolve("data/train");
        for (int i = 0; i < 6; i++) {
            Path file = data.resolve("c" + (i % 2) + "/" + i + ".txt");
            Files.createDirectories(file.getParent());
            Files.writeString(file, "sample " + i);
        }
        Files.writeString(folder.resolve("train.py"), """
                import argparse, json, os
                p = argparse.ArgumentParser()
                p.add_argument("--epochs", type=int)
                args = p.parse_args()
                files = sorted(os.path.relpath(os.path.join(d, n), os.environ["SM_CHANNEL_TRAIN"])
                               for d, _, names in os.walk(os.environ["SM_CHANNEL_TRAIN"]) for n in names)
                for e in range(args.epochs):
                    print(f"epoch {e + 1}: {len(files)} files", flush=True)
                with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.json"), "w") as f:
                    json.dump({"files": files}, f)
                """);
        Files.writeString(folder.resolve("fail.py"), """
                import os, sys
                open(os.path.join(os.environ["SM_OUTPUT_DIR"], "failure"), "w").write("KeyError: 'label'")
                sys.exit(1)
                """);
        Files.writeString(folder.resolve("wait.py"), """
                import os, signal, sys, time
                def stop(signum, frame):
                    open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w").write("partial")
                    print("got SIGTERM", flush=True)
                    sys.exit(0)
                signal.signal(signal.SIGTERM, stop)
                print("READY", flush=True)
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline:
                    time.sleep(0.05)
                """);
    }

    private CliRun ferry(String... args) {
        return CliRun.run(env, args);
    }

    private Path request(String name, String body) throws Exception {
        Path file = folder.resolve(name);
        Files.writeString(file, body);
        return file;
    }

    private String job(String name, String script, String extra) {
        return """
                {"TrainingJobName": "%s",
                 "AlgorithmSpecification": {"TrainingInputMode": "File", "Command": ["/usr/bin/python3", "%s"]},
                 "HyperParameters": {"epochs": "2"},
                 "InputDataConfig": [{"ChannelName": "train",
                   "DataSource": {"S3DataSource": {"S3Uri": "data/train/", "S3DataType": "S3Prefix"}}}],
                 "OutputDataConfig": {"S3OutputPath": "output/"}%s}
                """.formatted(name, script, extra);
    }

    @Test
    void train_runs_a_job_and_jobs_ls_describe_and_logs_show_it() throws Exception {
        CliRun train = ferry("train", request("job.json", job("cli-job", "train.py", "")).toString());

        assertThat(train.exitCode).as(train.toString()).isZero();
        assertThat(train.out).contains("epoch 2: 6 files").contains("training job cli-job: Completed (Completed)")
                .contains("Downloading").contains("(waiting for data before training)")
                .contains("model:   file://" + folder.resolve("output/cli-job/output/model.tar.gz"));
        assertThat(folder.resolve("output/cli-job/output/model.tar.gz")).exists();

        CliRun ls = ferry("jobs", "ls");
        assertThat(ls.out).contains("NAME").contains("cli-job").contains("Completed");
        JsonNode rows = JSON.readTree(ferry("jobs", "ls", "--json").out);
        assertThat(rows.get(0).get("TrainingJobName").asText()).isEqualTo("cli-job");

        CliRun describe = ferry("jobs", "describe", "cli-job", "--json");
        assertThat(describe.exitCode).isZero();
        JsonNode d = JSON.readTree(describe.out);
        assertThat(d.get("TrainingJobStatus").asText()).isEqualTo("Completed");
        assertThat(d.get("SecondaryStatus").asText()).isEqualTo("Completed");
        assertThat(d.get("SecondaryStatusTransitions")).hasSize(5);
        assertThat(d.get("SecondaryStatusTransitions").get(1).get("Status").asText()).isEqualTo("Downloading");
        assertThat(d.get("SecondaryStatusTransitions").get(1).has("EndTime")).isTrue();
        assertThat(d.get("ModelArtifacts").get("S3ModelArtifacts").asText()).endsWith("cli-job/output/model.tar.gz");
        assertThat(d.get("BillableTimeInSeconds").asLong()).isPositive();
        assertThat(d.get("Ferry").get("Channels").get(0).get("FilesDelivered").asLong()).isEqualTo(6);
        assertThat(d.get("Ferry").get("PhaseSeconds").has("Training")).isTrue();

        CliRun text = ferry("jobs", "describe", "cli-job");
        assertThat(text.out).contains("TrainingJobStatus: Completed").contains("seconds per phase:")
                .contains("Downloading").contains("train            File                 6");

        CliRun logs = ferry("jobs", "logs", "cli-job");
        assertThat(logs.out).contains("epoch 1: 6 files").contains("[ferry ").contains("exited with code 0");
    }

    @Test
    void jobs_logs_keeps_a_character_whole_where_the_log_is_read_in_two_pieces() throws Exception {
        // Progress bars (tqdm) fill training logs with multi-byte characters; the log is read 64 KiB at a time.
        assertThat(ferry("train", "--quiet", request("job.json", job("long-log", "train.py", "")).toString())
                .exitCode).isZero();
        Path log = folder.resolve("home/jobs/long-log/.ferry/job.log");
        int size = (int) Files.size(log);
        Files.writeString(log, "x".repeat(65535 - size - 1) + "\n" + "\u2588\u2588 50%\n",
                java.nio.file.StandardOpenOption.APPEND); // the first \u2588 takes bytes 65535 to 65537

        CliRun logs = ferry("jobs", "logs", "long-log");

        assertThat(logs.exitCode).isZero();
        assertThat(logs.out.lines().filter(line -> line.endsWith(" 50%"))).containsExactly("\u2588\u2588 50%");
    }

    @Test
    void a_real_sagemaker_request_is_accepted_and_its_foreign_fields_noted_in_the_log() throws Exception {
        String extra = """
                ,
                 "RoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
                 "VpcConfig": {"SecurityGroupIds": ["sg-1"], "Subnets": ["subnet-1"]},
                 "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 50},
                 "StoppingCondition": {"MaxRuntimeInSeconds": 86400, "MaxWaitTimeInSeconds": 90000},
                 "EnableManagedSpotTraining": true,
                 "Tags": [{"Key": "project", "Value": "ferry"}]""";
        String body = job("sagemaker-copy", "train.py", extra).replace("\"TrainingInputMode\": \"File\",",
                "\"TrainingInputMode\": \"File\", \"TrainingImage\": \"123.dkr.ecr.us-east-1.amazonaws.com/pt:2\",");
        CliRun train = ferry("train", "--quiet", request("real.json", body).toString());

        assertThat(train.exitCode).as(train.toString()).isZero();
        assertThat(train.out).doesNotContain("epoch 1"); // --quiet
        assertThat(ferry("jobs", "logs", "sagemaker-copy").out).contains("accepted without local meaning:"
                + " AlgorithmSpecification.TrainingImage, RoleArn, VpcConfig, ResourceConfig.InstanceType,"
                + " ResourceConfig.VolumeSizeInGB, StoppingCondition.MaxWaitTimeInSeconds, EnableManagedSpotTraining,"
                + " Tags");
    }

    @Test
    void a_typo_exits_2_naming_the_field_and_the_nearest_real_one() throws Exception {
        String body = job("typo", "train.py", ", \"OutputDataConfg\": {}");
        CliRun train = ferry("train", request("typo.json", body).toString());

        assertThat(train.exitCode).isEqualTo(2);
        assertThat(train.err).contains("unknown field 'OutputDataConfg': did you mean 'OutputDataConfig'?");
        assertThat(ferry("jobs", "ls").err).contains("no training jobs");

        CliRun yaml = ferry("train", request("bad.yaml", "TrainingJobName: [unclosed").toString());
        assertThat(yaml.exitCode).isEqualTo(2);
        assertThat(yaml.err).contains("bad.yaml: not valid YAML");
    }

    @Test
    void a_failing_job_exits_1_and_describe_gives_its_reason() throws Exception {
        CliRun train = ferry("train", request("fail.json", job("failing", "fail.py", "")).toString());

        assertThat(train.exitCode).isEqualTo(1);
        assertThat(train.out).contains("training job failing: Failed (Failed)")
                .contains("reason:  AlgorithmError: KeyError: 'label'");
        JsonNode d = JSON.readTree(ferry("jobs", "describe", "failing", "--json").out);
        assertThat(d.get("FailureReason").asText()).isEqualTo("AlgorithmError: KeyError: 'label'");

        CliRun again = ferry("train", folder.resolve("fail.json").toString());
        assertThat(again.exitCode).isEqualTo(2);
        assertThat(again.err).contains("a training job named 'failing' already exists");
        assertThat(ferry("jobs", "rm", "failing").exitCode).isZero();
        assertThat(ferry("train", folder.resolve("fail.json").toString()).exitCode).isEqualTo(1);
    }

    @Test
    void preflight_failures_exit_1_naming_the_channel_and_leave_no_job() throws Exception {
        String body = job("preflight", "train.py", "").replace("data/train/", "data/missing/");
        CliRun train = ferry("train", request("pre.json", body).toString());

        assertThat(train.exitCode).isEqualTo(1);
        assertThat(train.err).contains("job 'preflight' cannot start: channel 'train': no objects under file://"
                + folder.resolve("data/missing"));
        assertThat(ferry("jobs", "describe", "preflight").err).contains("no training job named 'preflight'");
    }

    @Test
    void a_cache_dir_that_is_a_file_is_refused_before_the_job_starts() throws Exception {
        Path file = Files.writeString(folder.resolve("cache-file"), "not a folder");
        String body = job("cache-file", "train.py", "").replace("\"File\"", "\"FastFile\"");
        CliRun train = ferry("train", "--cache-dir", file.toString(), request("cache.json", body).toString());

        assertThat(train.exitCode).as("a wrong --cache-dir, as one holding other files: " + train).isEqualTo(2);
        assertThat(train.err).contains(file + " is a file, not a folder; remove it or choose another cache folder\n");
        // it was: the job started, failed at its FastFile channel and kept the name
        assertThat(folder.resolve("home/jobs/cache-file")).doesNotExist();
        assertThat(file).hasContent("not a folder");
    }

    @Test
    void jobs_stop_stops_a_running_job_while_logs_follow_shows_it_to_the_end() throws Exception {
        Path file = request("wait.json", job("waiting", "wait.py", ""));
        CountDownLatch ready = new CountDownLatch(1);
        StringWriter trainOut = new StringWriter();
        Writer watching = new Writer() {
            private final StringBuilder line = new StringBuilder();

            @Override
            public void write(char[] chars, int offset, int length) {
                trainOut.write(chars, offset, length);
                line.append(chars, offset, length);
                if (line.indexOf("READY\n") >= 0) {
                    ready.countDown();
                }
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        Map<String, String> environment = new HashMap<>(env);
        environment.put("AWS_EC2_METADATA_DISABLED", "true");
        int[] trainExit = new int[1];
        Thread train = Thread.ofPlatform().start(() -> trainExit[0] = Ferry.run(
                new String[] {"train", "--grace-period", "10", file.toString()}, environment,
                new PrintWriter(watching, true), new PrintWriter(new StringWriter(), true), false));
        assertThat(ready.await(60, TimeUnit.SECONDS)).as(trainOut.toString()).isTrue();

        CliRun[] follow = new CliRun[1];
        Thread follower = Thread.ofPlatform().start(() -> follow[0] = ferry("jobs", "logs", "--follow", "waiting"));
        CliRun describe = ferry("jobs", "describe", "waiting");
        assertThat(describe.out).contains("TrainingJobStatus: InProgress (running)").contains("Training");
        CliRun remove = ferry("jobs", "rm", "waiting");
        assertThat(remove.exitCode).as("the job's state refuses it, as stop of an ended job: " + remove).isEqualTo(1);
        assertThat(remove.err).contains("job 'waiting' is still running: stop it first with: ferry jobs stop waiting")
                .doesNotContain("Usage");

        CliRun stop = ferry("jobs", "stop", "waiting");
        assertThat(stop.exitCode).as(stop.toString()).isZero();
        assertThat(stop.out).contains("stopping job waiting");
        train.join(Duration.ofSeconds(60));
        follower.join(Duration.ofSeconds(60));

        assertThat(train.isAlive()).isFalse();
        assertThat(trainExit[0]).isEqualTo(1);
        assertThat(follower.isAlive()).isFalse();
        assertThat(follow[0].out).contains("READY").contains("got SIGTERM").contains("Stopped (Stopped)");
        JsonNode d = JSON.readTree(ferry("jobs", "describe", "waiting", "--json").out);
        assertThat(d.get("TrainingJobStatus").asText()).isEqualTo("Stopped");
        assertThat(ferry("jobs", "stop", "waiting").err).contains("has already ended (Stopped)");
    }

    @Test
    void train_and_jobs_have_help_and_bad_options_exit_2() throws Exception {
        for (List<String> command : List.of(List.of("train"), List.of("jobs"), List.of("jobs", "ls"),
                List.of("jobs", "describe"), List.of("jobs", "logs"), List.of("jobs", "stop"), List.of("jobs", "rm"))) {
            String[] args = java.util.stream.Stream.concat(command.stream(), java.util.stream.Stream.of("--help"))
                    .toArray(String[]::new);
            CliRun help = ferry(args);
            assertThat(help.exitCode).as(String.join(" ", args)).isZero();
            assertThat(help.out).contains("Usage: ferry").doesNotContainPattern("\\bnull\\b");
        }
        assertThat(ferry("train", "--help").out).as("picocli leaves ${...} in a description alone only when escaped")
                .contains("${VAR}").contains("${FERRY_HOME}");
        assertThat(ferry("jobs", "describe", "../etc").exitCode).isEqualTo(2);
        Files.writeString(folder.resolve("x.json"), """
                {"TrainingJobName": "hosts", "AlgorithmSpecification": {"Command": ["/bin/true"]},
                 "OutputDataConfig": {"S3OutputPath": "out/"}}
                """);
        CliRun hosts = ferry("train", "--hosts", "algo-1,algo-2", "--current-host", "algo-3",
                folder.resolve("x.json").toString());
        assertThat(hosts.exitCode).isEqualTo(2);
        assertThat(hosts.err).contains("--current-host algo-3 is not one of --hosts algo-1,algo-2");
        CliRun badName = ferry("train", "--hosts", "a/b,c", folder.resolve("x.json").toString());
        assertThat(badName.exitCode).isEqualTo(2);
        assertThat(badName.err).contains("--hosts names the host 'a/b'").doesNotContain("distinct");
        CliRun twice = ferry("train", "--hosts", "algo-1,algo-1", folder.resolve("x.json").toString());
        assertThat(twice.err).contains("--hosts must name distinct hosts");
    }

    @Test
    void the_demo_trains_in_file_fastfile_and_filesystem_modes_and_prints_the_phases_side_by_side() {
        CliRun demo = ferry("demo", "--images", "40");

        assertThat(demo.exitCode).as(demo.toString()).isZero();
        assertThat(demo.out).contains("trained ferry-demo-file: Completed")
                .contains("trained ferry-demo-fastfile: Completed")
                .contains("trained ferry-demo-filesystem: Completed").contains("epoch 3/3")
                .containsPattern("phase +File +FastFile +FileSystem")
                .containsPattern("Downloading +[0-9.]+ +[0-9.]+ +[0-9.]+")
                .contains("(waiting for data before training)");
        for (String mode : List.of("FileSystem", "FastFile")) {
            JsonNode d;
            try {
                d = JSON.readTree(ferry("jobs", "describe", "ferry-demo-" + mode.toLowerCase(java.util.Locale.ROOT),
                        "--json").out);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
            assertThat(d.get("Ferry").get("Channels").get(0).get("InputMode").asText()).isEqualTo(mode);
            assertThat(d.get("Ferry").get("Channels").get(0).get("FilesDelivered").asLong()).isEqualTo(40);
        }
        assertThat(ferry("demo", "--images", "20").exitCode).as("a second demo replaces the first's jobs").isZero();
    }
}
