package ferry.train;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The SM_* variables and config files, value by value (CONTRACT.md section 2). */
class TrainingEnvironmentTest {
    private final RequestParser parser = new RequestParser(Map.of(), Path.of("/ferry"));

    private TrainingEnvironment environment(String hyperParameters, String root) {
        TrainingRequest request = parser.parse("""
                {"TrainingJobName": "env",
                 "AlgorithmSpecification": {"Command": "python3 train.py"},
                 "HyperParameters": %s,
                 "InputDataConfig": [
                   {"ChannelName": "validation", "DataSource": {"S3DataSource": {"S3Uri": "s3://b/v/"}}},
                   {"ChannelName": "train", "RecordWrapperType": "RecordIO", "ContentType": "image/png",
                    "DataSource": {"S3DataSource": {"S3Uri": "s3://b/t/",
                      "S3DataDistributionType": "ShardedByS3Key"}}}],
                 "OutputDataConfig": {"S3OutputPath": "s3://b/out/"}}
                """.formatted(hyperParameters), false, "job.json", Path.of("/work"));
        return new TrainingEnvironment(request, List.of("algo-1", "algo-2"), "algo-2", Path.of(root), 8, 0);
    }

    @Test
    void hyperparameters_decode_where_json_parses_and_keep_their_text_as_arguments() {
        TrainingEnvironment env = environment("""
                {"epochs": "3", "lr": "1e-3", "flag": "true", "name": "\\"resnet\\"", "plain": "abc",
                 "list": "[1, 2]", "two words": "x", "trailing": "1 2"}""".replace("\"two words\": \"x\", ", ""),
                "/opt/ml");

        assertThat(env.userArgs()).containsExactly("--epochs", "3", "--lr", "1e-3", "--flag", "true", "--name",
                "resnet", "--plain", "abc", "--list", "[1, 2]", "--trailing", "1 2");
        Map<String, String> vars = env.variables();
        assertThat(vars.get("SM_HPS")).isEqualTo(
                "{\"epochs\":3,\"lr\":0.001,\"flag\":true,\"name\":\"resnet\",\"plain\":\"abc\",\"list\":[1,2],"
                        + "\"trailing\":\"1 2\"}");
        assertThat(vars).containsEntry("SM_HP_EPOCHS", "3").containsEntry("SM_HP_LR", "1e-3")
                .containsEntry("SM_HP_NAME", "resnet").containsEntry("SM_HP_LIST", "[1, 2]");
        assertThat(vars.get("SM_USER_ARGS")).isEqualTo("[\"--epochs\",\"3\",\"--lr\",\"1e-3\",\"--flag\",\"true\","
                + "\"--name\",\"resnet\",\"--plain\",\"abc\",\"--list\",\"[1, 2]\",\"--trailing\",\"1 2\"]");
        assertThat(env.hyperParameters().get("name").asText()).isEqualTo("\"resnet\"");
    }

    @Test
    void every_variable_of_the_contract_is_set_with_paths_as_the_process_sees_them() throws Exception {
        Map<String, String> vars = environment("{}", "/opt/ml").variables();

        assertThat(vars).containsEntry("SM_MODEL_DIR", "/opt/ml/model")
                .containsEntry("SM_INPUT_DIR", "/opt/ml/input")
                .containsEntry("SM_INPUT_CONFIG_DIR", "/opt/ml/input/config")
                .containsEntry("SM_OUTPUT_DIR", "/opt/ml/output")
                .containsEntry("SM_OUTPUT_DATA_DIR", "/opt/ml/output/data")
                .containsEntry("SM_OUTPUT_INTERMEDIATE_DIR", "/opt/ml/output/intermediate")
                .containsEntry("SM_CHANNELS", "[\"train\",\"validation\"]")
                .containsEntry("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train")
                .containsEntry("SM_CHANNEL_VALIDATION", "/opt/ml/input/data/validation")
                .containsEntry("SM_HPS", "{}")
                .containsEntry("SM_USER_ARGS", "[]")
                .containsEntry("SM_CURRENT_HOST", "algo-2")
                .containsEntry("SM_HOSTS", "[\"algo-1\",\"algo-2\"]")
                .containsEntry("SM_NUM_CPUS", "8")
                .containsEntry("SM_NUM_GPUS", "0")
                .containsEntry("SM_LOG_LEVEL", "20")
                .containsEntry("SM_NETWORK_INTERFACE_NAME", "eth0")
                .containsEntry("SM_IS_MASTER", "false");
        JsonNode resources = TrainFixture.JSON.readTree(vars.get("SM_RESOURCE_CONFIG"));
        assertThat(resources.get("current_host").asText()).isEqualTo("algo-2");
        assertThat(resources.get("hosts").toString()).isEqualTo("[\"algo-1\",\"algo-2\"]");
        assertThat(resources.get("current_instance_type").asText()).isEqualTo("local");
        JsonNode channels = TrainFixture.JSON.readTree(vars.get("SM_INPUT_DATA_CONFIG"));
        assertThat(channels.get("train").toString()).isEqualTo("{\"ContentType\":\"image/png\","
                + "\"TrainingInputMode\":\"File\",\"S3DistributionType\":\"ShardedByS3Key\","
                + "\"RecordWrapperType\":\"RecordIO\"}");
        assertThat(channels.get("validation").get("S3DistributionType").asText()).isEqualTo("FullyReplicated");

        JsonNode training = TrainFixture.JSON.readTree(vars.get("SM_TRAINING_ENV"));
        for (String key : List.of("model_dir", "input_dir", "input_config_dir", "output_dir", "output_data_dir",
                "output_intermediate_dir", "channels", "hps", "user_args", "current_host", "hosts", "num_cpus",
                "num_gpus", "log_level", "network_interface_name", "resource_config", "input_data_config")) {
            assertThat(training.has(key)).as(key).isTrue();
        }
        assertThat(training.get("channel_input_dirs").get("validation").asText())
                .isEqualTo("/opt/ml/input/data/validation");
        assertThat(training.get("num_cpus").asInt()).isEqualTo(8);
    }

    @Test
    void without_a_namespace_paths_are_in_the_job_folder() {
        Map<String, String> vars = environment("{}", "/home/me/.ferry/jobs/env").variables();
        assertThat(vars).containsEntry("SM_CHANNEL_TRAIN", "/home/me/.ferry/jobs/env/input/data/train")
                .containsEntry("SM_MODEL_DIR", "/home/me/.ferry/jobs/env/model");
    }
}
