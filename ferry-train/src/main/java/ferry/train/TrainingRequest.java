package ferry.train;

import com.fasterxml.jackson.databind.JsonNode;
import ferry.store.Location;
import ferry.train.channel.ChannelSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A checked {@code CreateTrainingJob} request: what Ferry needs to run it locally. Made by {@link RequestParser};
 * every location is parsed and every name checked.
 *
 * @param name {@code TrainingJobName}
 * @param command the process to run ({@code AlgorithmSpecification.Command}), before hyperparameters are appended
 * @param workingDirectory where the process starts: the request file's folder
 * @param hyperParameters {@code HyperParameters}, in the order given, every value a string
 * @param channels {@code InputDataConfig}, in the order given
 * @param outputPath {@code OutputDataConfig.S3OutputPath}, as a folder
 * @param checkpoint {@code CheckpointConfig}, or {@code null}
 * @param instanceCount {@code ResourceConfig.InstanceCount} (1 when absent)
 * @param maxRuntime {@code StoppingCondition.MaxRuntimeInSeconds} (one day when absent, as SageMaker)
 * @param environment {@code Environment}: extra variables for the process
 * @param ignored fields of the real API that mean nothing locally, by their path, for the job log
 * @param document the request as given, kept with the job and echoed by describe
 */
public record TrainingRequest(
        String name,
        List<String> command,
        Path workingDirectory,
        Map<String, String> hyperParameters,
        List<ChannelSpec> channels,
        Location outputPath,
        Checkpoint checkpoint,
        int instanceCount,
        Duration maxRuntime,
        Map<String, String> environment,
        List<String> ignored,
        JsonNode document) {
    /** The default of {@code StoppingCondition.MaxRuntimeInSeconds}, as SageMaker's: one day. */
    public static final Duration DEFAULT_MAX_RUNTIME = Duration.ofDays(1);

    public TrainingRequest {
        Objects.requireNonNull(name, "name is null");
        command = List.copyOf(command);
        Objects.requireNonNull(workingDirectory, "workingDirectory is null");
        hyperParameters = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(hyperParameters));
        channels = List.copyOf(channels);
        Objects.requireNonNull(outputPath, "outputPath is null");
        Objects.requireNonNull(maxRuntime, "maxRuntime is null");
        environment = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(environment));
        ignored = List.copyOf(ignored);
        Objects.requireNonNull(document, "document is null");
    }

    /**
     * {@code CheckpointConfig}.
     *
     * @param uri where checkpoints are kept between runs
     * @param localPath the folder the script writes them to, as the script sees it ({@code /opt/ml/checkpoints})
     */
    public record Checkpoint(Location uri, String localPath) {
        public static final String DEFAULT_LOCAL_PATH = "/opt/ml/checkpoints";
    }
}
