package ferry.train;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import ferry.train.channel.ChannelSpec;
import ferry.train.channel.S3Source;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the training process is given, exactly as SageMaker's training toolkit gives it (CONTRACT.md sections 1
 * and 2): the three files of {@code input/config} and the {@code SM_*} variables, with every path as the process
 * sees it ({@code /opt/ml/...} when the tree is bound there).
 */
public final class TrainingEnvironment {
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final ObjectNode hyperParameters;
    private final ObjectNode inputDataConfig;
    private final ObjectNode resourceConfig;
    private final Map<String, String> variables;
    private final List<String> userArgs;

    /**
     * @param request the checked request
     * @param hosts every host of the job, {@code algo-1} first
     * @param currentHost this host
     * @param root the tree as the process sees it: {@code /opt/ml}, or the job folder
     * @param cpus processors for {@code SM_NUM_CPUS}
     * @param gpus GPUs for {@code SM_NUM_GPUS}
     */
    public TrainingEnvironment(
            TrainingRequest request, List<String> hosts, String currentHost, Path root, int cpus, int gpus) {
        hyperParameters = NODES.objectNode();
        request.hyperParameters().forEach(hyperParameters::put);

        inputDataConfig = NODES.objectNode();
        for (ChannelSpec channel : request.channels()) {
            ObjectNode entry = inputDataConfig.putObject(channel.name());
            if (channel.contentType() != null) {
                entry.put("ContentType", channel.contentType());
            }
            entry.put("TrainingInputMode", channel.trainingInputMode());
            entry.put("S3DistributionType", channel.source() instanceof S3Source s3
                    ? s3.distribution().name() : S3Source.Distribution.FullyReplicated.name());
            entry.put("RecordWrapperType", channel.recordWrapperType());
            if (channel.shuffleSeed() != null) {
                entry.putObject("ShuffleConfig").put("Seed", channel.shuffleSeed());
            }
        }

        resourceConfig = NODES.objectNode();
        resourceConfig.put("current_host", currentHost);
        ArrayNode hostList = resourceConfig.putArray("hosts");
        hosts.forEach(hostList::add);
        resourceConfig.put("current_group_name", "homogeneousCluster");
        resourceConfig.put("current_instance_type", "local");
        resourceConfig.put("network_interface_name", "eth0");
        ObjectNode group = resourceConfig.putArray("instance_groups").addObject();
        group.put("instance_group_name", "homogeneousCluster");
        group.put("instance_type", "local");
        ArrayNode groupHosts = group.putArray("hosts");
        hosts.forEach(groupHosts::add);

        // SM_HPS holds values decoded from JSON where they parse (as the toolkit decodes them); arguments and
        // SM_HP_* keep the text as written, unless it is a JSON string, whose content is meant.
        ObjectNode decoded = NODES.objectNode();
        userArgs = new ArrayList<>();
        Map<String, String> hpVariables = new LinkedHashMap<>();
        request.hyperParameters().forEach((name, value) -> {
            if (isToolkitParameter(name)) {
                return;
            }
            JsonNode node = decode(value);
            decoded.set(name, node);
            String text = node.isTextual() ? node.asText() : value.trim();
            userArgs.add("--" + name);
            userArgs.add(text);
            hpVariables.put("SM_HP_" + name.toUpperCase(Locale.ROOT), text);
        });

        List<String> channelNames = new ArrayList<>();
        Map<String, String> channelDirs = new TreeMap<>();
        for (ChannelSpec channel : request.channels()) {
            channelNames.add(channel.name());
            channelDirs.put(channel.name(), root.resolve("input/data").resolve(channel.name()).toString());
        }
        channelNames.sort(null);

        String modelDir = root.resolve("model").toString();
        String inputDir = root.resolve("input").toString();
        String inputConfigDir = root.resolve("input/config").toString();
        String outputDir = root.resolve("output").toString();
        String outputDataDir = root.resolve("output/data").toString();
        String intermediateDir = root.resolve("output/intermediate").toString();

        Map<String, String> env = new LinkedHashMap<>();
        env.put("SM_MODEL_DIR", modelDir);
        env.put("SM_INPUT_DIR", inputDir);
        env.put("SM_INPUT_CONFIG_DIR", inputConfigDir);
        env.put("SM_OUTPUT_DIR", outputDir);
        env.put("SM_OUTPUT_DATA_DIR", outputDataDir);
        env.put("SM_OUTPUT_INTERMEDIATE_DIR", intermediateDir);
        env.put("SM_CHANNELS", json(channelNames));
        channelDirs.forEach((name, dir) -> env.put("SM_CHANNEL_" + name.toUpperCase(Locale.ROOT), dir));
        env.put("SM_HPS", json(decoded));
        env.putAll(hpVariables);
        env.put("SM_USER_ARGS", json(userArgs));
        env.put("SM_CURRENT_HOST", currentHost);
        env.put("SM_HOSTS", json(hosts));
        env.put("SM_NUM_CPUS", Integer.toString(cpus));
        env.put("SM_NUM_GPUS", Integer.toString(gpus));
        env.put("SM_LOG_LEVEL", "20");
        env.put("SM_NETWORK_INTERFACE_NAME", "eth0");
        env.put("SM_RESOURCE_CONFIG", json(resourceConfig));
        env.put("SM_INPUT_DATA_CONFIG", json(inputDataConfig));
        env.put("SM_CURRENT_INSTANCE_TYPE", "local");
        env.put("SM_IS_MASTER", Boolean.toString(currentHost.equals(hosts.getFirst())));
        env.put("SM_MASTER_ADDR", hosts.getFirst());
        env.put("TRAINING_JOB_NAME", request.name());

        ObjectNode training = NODES.objectNode();
        training.put("model_dir", modelDir);
        training.put("input_dir", inputDir);
        training.put("input_config_dir", inputConfigDir);
        training.put("output_dir", outputDir);
        training.put("output_data_dir", outputDataDir);
        training.put("output_intermediate_dir", intermediateDir);
        training.set("channels", JSON.valueToTree(channelNames));
        ObjectNode channelInputDirs = training.putObject("channel_input_dirs");
        channelDirs.forEach(channelInputDirs::put);
        training.set("hps", decoded);
        training.set("hyperparameters", decoded);
        training.set("user_args", JSON.valueToTree(userArgs));
        training.put("current_host", currentHost);
        training.set("hosts", JSON.valueToTree(hosts));
        training.put("master_hostname", hosts.getFirst());
        training.put("is_master", currentHost.equals(hosts.getFirst()));
        training.put("num_cpus", cpus);
        training.put("num_gpus", gpus);
        training.put("log_level", 20);
        training.put("network_interface_name", "eth0");
        training.set("resource_config", resourceConfig);
        training.set("input_data_config", inputDataConfig);
        training.put("current_instance_type", "local");
        training.put("job_name", request.name());
        env.put("SM_TRAINING_ENV", json(training));
        variables = java.util.Collections.unmodifiableMap(env);
    }

    /**
     * Whether a hyperparameter is one the SageMaker SDK or tuner adds for the training toolkit itself
     * ({@code sagemaker_program}, {@code sagemaker_submit_directory}, {@code _tuning_objective_metric}, ...). The
     * toolkit leaves these out of the script's hyperparameters, arguments and {@code SM_HP_*} variables (they stay in
     * hyperparameters.json), so a script that parses its arguments strictly runs unchanged.
     */
    static boolean isToolkitParameter(String name) {
        return name.startsWith("sagemaker_") || name.equals("_tuning_objective_metric")
                || name.equals("default_user_module_name");
    }

    private static JsonNode decode(String value) {
        try {
            JsonNode node = JSON.readTree(value);
            return node == null || node.isMissingNode() ? NODES.textNode(value) : node;
        } catch (JsonProcessingException e) {
            return NODES.textNode(value);
        }
    }

    private static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render " + value, e);
        }
    }

    /** {@code input/config/hyperparameters.json}: every value a JSON string. */
    public ObjectNode hyperParameters() {
        return hyperParameters;
    }

    /** {@code input/config/inputdataconfig.json}: one key per channel. */
    public ObjectNode inputDataConfig() {
        return inputDataConfig;
    }

    /** {@code input/config/resourceconfig.json}. */
    public ObjectNode resourceConfig() {
        return resourceConfig;
    }

    /** The {@code SM_*} variables (and {@code TRAINING_JOB_NAME}), in a stable order. */
    public Map<String, String> variables() {
        return variables;
    }

    /** {@code --name value} for each hyperparameter, in the order given: appended to the command. */
    public List<String> userArgs() {
        return List.copyOf(userArgs);
    }
}
