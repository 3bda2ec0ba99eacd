package ferry.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import ferry.store.Location;
import ferry.train.channel.ChannelSpec;
import ferry.train.channel.FileSystemSource;
import ferry.train.channel.S3Source;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading requests: what a real SageMaker request gives, and what each kind of bad request is told. */
class RequestParserTest {
    @TempDir
    Path folder;

    private final RequestParser parser = new RequestParser(Map.of("DATA", "/mnt/data"), Path.of("/home/me/.ferry"));

    private TrainingRequest parse(String json) {
        return parser.parse(json, false, "job.json", folder);
    }

    private static String minimal(String extra) {
        return """
                {"TrainingJobName": "job-1",
                 "AlgorithmSpecification": {"Command": ["python3", "train.py"]},
                 "OutputDataConfig": {"S3OutputPath": "s3://bucket/out"}%s}
                """.formatted(extra.isEmpty() ? "" : ",\n" + extra);
    }

    @Test
    void a_real_sagemaker_request_is_accepted_and_fields_without_local_meaning_are_listed() throws IOException {
        String json;
        try (InputStream in = getClass().getResourceAsStream("/requests/sagemaker-request.json")) {
            json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        TrainingRequest request = parse(json);

        assertThat(request.name()).isEqualTo("pytorch-cifar10-2024-06-01-12-00-00");
        assertThat(request.command()).containsExactly("python3", "train.py");
        assertThat(request.hyperParameters()).containsExactly(Map.entry("epochs", "3"),
                Map.entry("learning-rate", "0.01"), Map.entry("sagemaker_program", "\"train.py\""));
        assertThat(request.instanceCount()).isEqualTo(2);
        assertThat(request.maxRuntime()).isEqualTo(Duration.ofHours(1));
        assertThat(request.outputPath()).isEqualTo(Location.of("s3://my-bucket/output/"));
        assertThat(request.checkpoint().uri()).isEqualTo(Location.of("s3://my-bucket/checkpoints/pytorch-cifar10/"));
        assertThat(request.checkpoint().localPath()).isEqualTo("/opt/ml/checkpoints");
        assertThat(request.environment()).containsEntry("NCCL_DEBUG", "INFO");
        ChannelSpec train = request.channels().get(0);
        assertThat(train.name()).isEqualTo("train");
        assertThat(train.inputMode()).isEqualTo("File");
        assertThat(train.contentType()).isEqualTo("application/x-image");
        assertThat(train.shuffleSeed()).isEqualTo(1234L);
        assertThat(train.source()).isEqualTo(new S3Source(Location.of("s3://my-bucket/cifar10/train/"),
                S3Source.DataType.S3Prefix, S3Source.Distribution.ShardedByS3Key, List.of()));
        ChannelSpec validation = request.channels().get(1);
        assertThat(validation.inputMode()).isEqualTo("FileSystem");
        assertThat(validation.source()).isEqualTo(new FileSystemSource(Path.of("/fsx/cifar10/validation"), false));
        assertThat(request.ignored()).containsExactly("RoleArn", "AlgorithmSpecification.TrainingImage",
                "AlgorithmSpecification.EnableSageMakerMetricsTimeSeries", "AlgorithmSpecification.MetricDefinitions",
                "InputDataConfig[1].DataSource.FileSystemDataSource.FileSystemId",
                "InputDataConfig[1].DataSource.FileSystemDataSource.FileSystemType", "OutputDataConfig.KmsKeyId",
                "ResourceConfig.InstanceType", "ResourceConfig.VolumeSizeInGB", "VpcConfig",
                "StoppingCondition.MaxWaitTimeInSeconds", "Tags", "EnableNetworkIsolation",
                "EnableInterContainerTrafficEncryption", "EnableManagedSpotTraining", "DebugHookConfig",
                "RetryStrategy");
        assertThat(request.workingDirectory()).isEqualTo(folder);
    }

    @Test
    void yaml_requests_read_like_json_and_scalars_become_strings() throws IOException {
        Path file = folder.resolve("job.yaml");
        Files.writeString(file, """
                TrainingJobName: yaml-job
                AlgorithmSpecification:
                  Command: python3 "my script.py" --verbose
                HyperParameters:
                  epochs: 3
                  lr: 0.1
                InputDataConfig:
                  - ChannelName: train
                    DataSource:
                      S3DataSource: {S3Uri: "${DATA}/train/"}
                OutputDataConfig:
                  S3OutputPath: out/
                """);
        TrainingRequest request = parser.parse(file);

        assertThat(request.command()).containsExactly("python3", "my script.py", "--verbose");
        assertThat(request.hyperParameters()).containsExactly(Map.entry("epochs", "3"), Map.entry("lr", "0.1"));
        assertThat(((S3Source) request.channels().getFirst().source()).uri())
                .isEqualTo(Location.of("file:///mnt/data/train/"));
        assertThat(request.outputPath()).isEqualTo(Location.of(folder.resolve("out") + "/"));
        assertThat(request.maxRuntime()).isEqualTo(TrainingRequest.DEFAULT_MAX_RUNTIME);
        assertThat(request.instanceCount()).isEqualTo(1);
    }

    @Test
    void hyperparameters_reach_the_script_as_written_whatever_a_parser_would_make_of_them() throws IOException {
        Path file = folder.resolve("job.yaml");
        Files.writeString(file, """
                TrainingJobName: as-written
                AlgorithmSpecification: {Command: python3 train.py}
                HyperParameters: {version: 1.10, octal: 010, flag: yes, hex: 0x1F, lr: 1e-3, quoted: "1.10"}
                Environment: {SEED: 007}
                OutputDataConfig: {S3OutputPath: out/}
                """);
        TrainingRequest yaml = parser.parse(file);
        assertThat(yaml.hyperParameters()).containsExactly(Map.entry("version", "1.10"), Map.entry("octal", "010"),
                Map.entry("flag", "yes"), Map.entry("hex", "0x1F"), Map.entry("lr", "1e-3"),
                Map.entry("quoted", "1.10"));
        assertThat(yaml.environment()).containsEntry("SEED", "007");

        TrainingRequest json = parse(minimal("""
                "HyperParameters": {"lr": 1e-5, "momentum": 1.50, "shuffle": true}"""));
        assertThat(json.hyperParameters()).containsExactly(Map.entry("lr", "1e-5"), Map.entry("momentum", "1.50"),
                Map.entry("shuffle", "true"));
    }

    @Test
    void ferry_home_can_be_named_even_when_unset() {
        TrainingRequest request = parse(minimal("""
                "InputDataConfig": [{"ChannelName": "train", "DataSource": {"FileSystemDataSource":
                  {"DirectoryPath": "${FERRY_HOME}/demo/train"}}}]"""));
        assertThat(((FileSystemSource) request.channels().getFirst().source()).directory())
                .isEqualTo(Path.of("/home/me/.ferry/demo/train"));
    }

    @Test
    void a_typo_is_named_with_the_nearest_real_field() {
        assertThatThrownBy(() -> parse(minimal("\"HyperParamaters\": {}")))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessage("job.json: unknown field 'HyperParamaters': did you mean 'HyperParameters'?");
        assertThatThrownBy(() -> parse(minimal("""
                "InputDataConfig": [{"ChannelName": "train",
                  "DataSource": {"S3DataSource": {"S3Url": "s3://b/train/"}}}]""")))
                .hasMessageContaining("unknown field 'InputDataConfig[0].DataSource.S3DataSource.S3Url': did you"
                        + " mean 'S3Uri'?");
        assertThatThrownBy(() -> parse(minimal("\"trainingJobName\": \"x\"")))
                .hasMessageContaining("unknown field 'trainingJobName': did you mean 'TrainingJobName'?");
        assertThatThrownBy(() -> parse(minimal("\"Banana\": 1")))
                .hasMessageContaining("unknown field 'Banana': CreateTrainingJob has no such field here; the fields"
                        + " are TrainingJobName, AlgorithmSpecification");
    }

    @Test
    void every_problem_is_reported_at_once_with_its_field() {
        InvalidRequestException e = (InvalidRequestException) org.assertj.core.api.Assertions.catchThrowable(
                () -> parse("""
                {"TrainingJobName": "bad_name!",
                 "AlgorithmSpecification": {"TrainingImage": "my-image:latest", "TrainingInputMode": "Stream"},
                 "HyperParameters": {"layers": [1, 2]},
                 "InputDataConfig": [
                   {"ChannelName": "train", "InputMode": "Pipe",
                    "DataSource": {"S3DataSource": {"S3Uri": "s3://b/train/"}}},
                   {"ChannelName": "TRAIN", "DataSource": {"S3DataSource": {"S3Uri": "gs://b/x"}}},
                   {"ChannelName": "both", "DataSource": {"S3DataSource": {"S3Uri": "s3://b/x"},
                     "FileSystemDataSource": {"DirectoryPath": "/x"}}},
                   {"ChannelName": "none"},
                   {"ChannelName": "fs", "DataSource": {"FileSystemDataSource":
                     {"DirectoryPath": "s3://b/x", "FileSystemAccessMode": "readonly"}}},
                   {"ChannelName": "aug", "DataSource": {"S3DataSource":
                     {"S3Uri": "s3://b/m.jsonl", "S3DataType": "AugmentedManifestFile"}}},
                   {"ChannelName": "gz", "CompressionType": "Gzip", "DataSource": {"S3DataSource":
                     {"S3Uri": "s3://b/x/", "S3DataDistributionType": "Sharded"}}},
                   {"ChannelName": "seed", "ShuffleConfig": {"Seed": "abc"},
                    "DataSource": {"S3DataSource": {"S3Uri": "${NOT_SET}/x"}}}
                 ],
                 "StoppingCondition": {"MaxRuntimeInSeconds": 0},
                 "ResourceConfig": {"InstanceCount": "two"},
                 "CheckpointConfig": {"S3Uri": "s3://b/ckpt", "LocalPath": "checkpoints"},
                 "Environment": {"1BAD": "x"}}
                """));
        assertThat(e.problems()).containsExactly(
                "TrainingJobName 'bad_name!' is not a valid job name: use 1 to 63 letters, digits and hyphens,"
                        + " starting with a letter or digit",
                "AlgorithmSpecification.Command is missing: Ferry runs a local process instead of the image"
                        + " 'my-image:latest'; add \"Command\": [\"python3\", \"train.py\"]",
                "AlgorithmSpecification.TrainingInputMode 'Stream' is not an input mode: use File or FastFile"
                        + " (Pipe is SageMaker's other mode)",
                "HyperParameters.layers must be a string (SageMaker passes every value as a string): write it in"
                        + " quotes",
                "InputDataConfig[0] (channel 'train').InputMode Pipe is not supported by ferry train yet: use File"
                        + " (staged to local disk), FastFile (mounted and read on demand), or a FileSystemDataSource"
                        + " to read a folder in place",
                "InputDataConfig[1].ChannelName 'TRAIN' is used twice (names are compared without case, as"
                        + " SM_CHANNEL_TRAIN must be unique): rename one",
                "InputDataConfig[1] (channel 'TRAIN').DataSource.S3DataSource.S3Uri: unsupported scheme 'gs' in"
                        + " 'gs://b/x': use a path, file:// or s3://",
                "InputDataConfig[2] (channel 'both').DataSource has both S3DataSource and FileSystemDataSource:"
                        + " keep one",
                "InputDataConfig[3] (channel 'none').DataSource is missing: add an S3DataSource {\"S3Uri\": ...}"
                        + " or a FileSystemDataSource {\"DirectoryPath\": ...}",
                "InputDataConfig[4] (channel 'fs').DataSource.FileSystemDataSource.FileSystemAccessMode 'readonly'"
                        + " is not one of ro, rw",
                "InputDataConfig[5] (channel 'aug').DataSource.S3DataSource.AttributeNames is required for an"
                        + " AugmentedManifestFile: list the fields to deliver, such as [\"source-ref\", \"class\"]",
                "InputDataConfig[6] (channel 'gz').CompressionType Gzip works only in Pipe mode, as on SageMaker:"
                        + " store the objects uncompressed, or remove CompressionType",
                "InputDataConfig[6] (channel 'gz').DataSource.S3DataSource.S3DataDistributionType 'Sharded' is not"
                        + " one of FullyReplicated, ShardedByS3Key",
                "InputDataConfig[7] (channel 'seed').ShuffleConfig.Seed must be a whole number, such as 42",
                "InputDataConfig[7] (channel 'seed').DataSource.S3DataSource.S3Uri uses ${NOT_SET}, which is not"
                        + " set: set it, or write the location out",
                "OutputDataConfig is missing: add \"OutputDataConfig\": {\"S3OutputPath\": \"s3://bucket/output/\"}"
                        + " (or a local folder) for model.tar.gz",
                "CheckpointConfig.LocalPath 'checkpoints' must be an absolute path, such as /opt/ml/checkpoints",
                "ResourceConfig.InstanceCount must be a whole number from 1 to 1000, not \"two\"",
                "StoppingCondition.MaxRuntimeInSeconds must be a whole number from 1 to 2147483647, not 0",
                "Environment.1BAD is not a valid environment variable name: use letters, digits and '_', not"
                        + " starting with a digit");
        assertThat(e.getMessage()).startsWith("job.json: 20 problems\n  - TrainingJobName");
    }

    @Test
    void a_filesystem_path_must_be_local_and_a_manifest_must_name_an_object() {
        assertThatThrownBy(() -> parse(minimal("""
                "InputDataConfig": [{"ChannelName": "fs", "DataSource": {"FileSystemDataSource":
                  {"DirectoryPath": "s3://b/x"}}}]""")))
                .hasMessageContaining("DirectoryPath 's3://b/x' must be a mounted folder on this machine");
        assertThatThrownBy(() -> parse(minimal("""
                "InputDataConfig": [{"ChannelName": "m", "DataSource": {"S3DataSource":
                  {"S3Uri": "s3://b/manifests/", "S3DataType": "ManifestFile"}}}]""")))
                .hasMessageContaining("ends in '/', but a ManifestFile is one object: give its key");
        assertThatThrownBy(() -> parse(minimal("""
                "InputDataConfig": [{"ChannelName": "m", "DataSource": {"S3DataSource":
                  {"S3Uri": "s3://b/x/", "AttributeNames": ["a"]}}}]""")))
                .hasMessageContaining("AttributeNames applies only to S3DataType AugmentedManifestFile");
        assertThatThrownBy(() -> parse(minimal("""
                "InputDataConfig": [{"ChannelName": "fs", "InputMode": "FastFile", "DataSource":
                  {"FileSystemDataSource": {"DirectoryPath": "/x"}}}]""")))
                .hasMessageContaining("InputMode must be File for a FileSystemDataSource");
    }

    @Test
    void fast_file_is_taken_per_channel_or_as_the_default_and_reported_as_sagemaker_reports_it() {
        TrainingRequest request = parse("""
                {"TrainingJobName": "job-1",
                 "AlgorithmSpecification": {"Command": ["python3", "train.py"], "TrainingInputMode": "FastFile"},
                 "OutputDataConfig": {"S3OutputPath": "s3://bucket/out"},
                 "InputDataConfig": [
                   {"ChannelName": "train", "DataSource": {"S3DataSource": {"S3Uri": "s3://b/train/",
                     "S3DataDistributionType": "ShardedByS3Key"}}},
                   {"ChannelName": "test", "InputMode": "File", "DataSource": {"S3DataSource":
                     {"S3Uri": "s3://b/test/"}}},
                   {"ChannelName": "local", "InputMode": "fastfile", "DataSource": {"S3DataSource":
                     {"S3Uri": "file:///data/local/"}}},
                   {"ChannelName": "fs", "DataSource": {"FileSystemDataSource": {"DirectoryPath": "/fsx/x"}}}
                 ]}
                """);

        List<ChannelSpec> channels = request.channels();
        assertThat(channels).extracting(ChannelSpec::inputMode)
                .containsExactly("FastFile", "File", "FastFile", "FileSystem");
        assertThat(channels).extracting(ChannelSpec::isMounted).containsExactly(true, false, true, false);
        assertThat(channels).extracting(ChannelSpec::isStaged).containsExactly(false, true, false, false);
        TrainingEnvironment env = new TrainingEnvironment(request, List.of("algo-1"), "algo-1", Path.of("/opt/ml"),
                2, 0);
        assertThat(env.inputDataConfig().get("train").get("TrainingInputMode").asText()).isEqualTo("FastFile");
        assertThat(env.inputDataConfig().get("train").get("S3DistributionType").asText())
                .isEqualTo("ShardedByS3Key");
        assertThat(env.inputDataConfig().get("test").get("TrainingInputMode").asText()).isEqualTo("File");
        assertThat(env.inputDataConfig().get("local").get("TrainingInputMode").asText()).isEqualTo("FastFile");
        assertThat(env.inputDataConfig().get("fs").get("TrainingInputMode").asText()).isEqualTo("File");
        assertThat(env.variables().get("SM_INPUT_DATA_CONFIG"))
                .contains("\"train\":{\"TrainingInputMode\":\"FastFile\"");
    }

    @Test
    void fast_file_with_a_manifest_is_refused_naming_the_channel_and_the_fix() {
        InvalidRequestException e = (InvalidRequestException) catchThrowable(() -> parse(minimal("""
                "InputDataConfig": [
                  {"ChannelName": "train", "InputMode": "FastFile", "DataSource": {"S3DataSource":
                    {"S3Uri": "s3://b/train.manifest", "S3DataType": "ManifestFile"}}},
                  {"ChannelName": "labels", "InputMode": "FastFile", "DataSource": {"S3DataSource":
                    {"S3Uri": "s3://b/labels.jsonl", "S3DataType": "AugmentedManifestFile",
                     "AttributeNames": ["source-ref"]}}}]""")));

        assertThat(e.problems()).containsExactly(
                "InputDataConfig[0] (channel 'train'): InputMode FastFile (from InputDataConfig[0] (channel"
                        + " 'train').InputMode) works only with S3DataType S3Prefix, as on SageMaker, not ManifestFile:"
                        + " set \"InputMode\": \"File\" on channel 'train' to stage the objects the manifest lists, or"
                        + " point S3Uri at a prefix with \"S3DataType\": \"S3Prefix\"",
                "InputDataConfig[1] (channel 'labels'): InputMode FastFile (from InputDataConfig[1] (channel"
                        + " 'labels').InputMode) works only with S3DataType S3Prefix, as on SageMaker, not"
                        + " AugmentedManifestFile: set \"InputMode\": \"File\" on channel 'labels' to stage the"
                        + " objects the manifest lists, or point S3Uri at a prefix with \"S3DataType\": \"S3Prefix\"");
        assertThatThrownBy(() -> parse("""
                {"TrainingJobName": "job-1",
                 "AlgorithmSpecification": {"Command": ["python3", "train.py"], "TrainingInputMode": "FastFile"},
                 "OutputDataConfig": {"S3OutputPath": "s3://bucket/out"},
                 "InputDataConfig": [{"ChannelName": "train", "DataSource": {"S3DataSource":
                   {"S3Uri": "s3://b/train.manifest", "S3DataType": "ManifestFile"}}}]}
                """))
                .hasMessageContaining("InputMode FastFile (from AlgorithmSpecification.TrainingInputMode) works only"
                        + " with S3DataType S3Prefix")
                .hasMessageContaining("set \"InputMode\": \"File\" on channel 'train'");
    }

    @Test
    void a_channel_name_that_would_name_another_folder_is_refused() {
        assertThatThrownBy(() -> parse(minimal("""
                "InputDataConfig": [{"ChannelName": "..",
                  "DataSource": {"S3DataSource": {"S3Uri": "s3://b/x/"}}}]""")))
                .hasMessageContaining("InputDataConfig[0].ChannelName '..' is not a valid channel name");
        assertThatThrownBy(() -> parse(minimal("""
                "InputDataConfig": [{"ChannelName": "a/b",
                  "DataSource": {"S3DataSource": {"S3Uri": "s3://b/x/"}}}]""")))
                .hasMessageContaining("InputDataConfig[0].ChannelName 'a/b' is not a valid channel name");
    }

    @Test
    void malformed_documents_are_named_with_their_position() {
        assertThatThrownBy(() -> parse("{\"TrainingJobName\": \"x\",, }"))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessageStartingWith("job.json: not valid JSON at line 1, column 25");
        assertThatThrownBy(() -> parse("[1, 2]"))
                .hasMessageContaining("a request is one JSON object with CreateTrainingJob's fields");
        assertThatThrownBy(() -> parse("{\"TrainingJobName\": \"a\", \"TrainingJobName\": \"b\"}"))
                .hasMessageContaining("Duplicate field 'TrainingJobName'");
        assertThatThrownBy(() -> parser.parse("a: [unclosed", true, "job.yaml", folder))
                .hasMessageStartingWith("job.yaml: not valid YAML");
        assertThatThrownBy(() -> parser.parse(folder.resolve("missing.json")))
                .hasMessageContaining("missing.json: no such file");
        assertThatThrownBy(() -> parse(minimal("\"AlgorithmSpecification\": {\"Command\": []}").replace(
                "\"AlgorithmSpecification\": {\"Command\": [\"python3\", \"train.py\"]},", "")))
                .hasMessageContaining("AlgorithmSpecification.Command is empty");
    }

    @Test
    void command_lines_split_on_blanks_and_keep_quoted_words() {
        assertThat(RequestParser.split("python3  'a b.py' --x \"c d\" e''")).containsExactly("python3", "a b.py",
                "--x", "c d", "e");
    }

    @Test
    void nearest_names_tolerate_a_few_edits_only() {
        assertThat(RequestSchema.nearest("InputDataConfg", List.of("InputDataConfig", "OutputDataConfig")))
                .isEqualTo("InputDataConfig");
        assertThat(RequestSchema.nearest("Zebra", List.of("InputDataConfig", "OutputDataConfig"))).isNull();
        assertThat(RequestSchema.distance("kitten", "sitting")).isEqualTo(3);
    }
}
