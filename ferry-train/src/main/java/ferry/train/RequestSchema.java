package ferry.train;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The fields of SageMaker's {@code CreateTrainingJob} request, so that a request copied from SageMaker is accepted
 * and a typo is caught. Fields Ferry reads are {@link Use#READ}; real fields with no local meaning are
 * {@link Use#IGNORED} (accepted, not looked into, and noted in the job log). Anything else is an error.
 */
final class RequestSchema {
    enum Use {
        READ,
        IGNORED
    }

    /** A field's expected shape: an object with named fields, a list of one shape, or a scalar/opaque value. */
    record Shape(Map<String, Field> fields, Shape element) {
        boolean isObject() {
            return fields != null;
        }

        boolean isList() {
            return element != null;
        }
    }

    record Field(Use use, Shape shape) {}

    static final Shape VALUE = new Shape(null, null);

    static final Shape REQUEST = object(
            read("TrainingJobName"),
            readObject("AlgorithmSpecification",
                    read("Command"),
                    read("TrainingInputMode"),
                    ignored("TrainingImage"),
                    ignored("AlgorithmName"),
                    ignored("MetricDefinitions"),
                    ignored("EnableSageMakerMetricsTimeSeries"),
                    ignored("ContainerEntrypoint"),
                    ignored("ContainerArguments"),
                    ignored("TrainingImageConfig")),
            read("HyperParameters"),
            readList("InputDataConfig", object(
                    read("ChannelName"),
                    readObject("DataSource",
                            readObject("S3DataSource",
                                    read("S3Uri"),
                                    read("S3DataType"),
                                    read("S3DataDistributionType"),
                                    read("AttributeNames"),
                                    ignored("InstanceGroupNames"),
                                    ignored("ModelAccessConfig"),
                                    ignored("HubAccessConfig")),
                            readObject("FileSystemDataSource",
                                    read("DirectoryPath"),
                                    read("FileSystemAccessMode"),
                                    ignored("FileSystemType"),
                                    ignored("FileSystemId"))),
                    read("ContentType"),
                    read("CompressionType"),
                    read("RecordWrapperType"),
                    read("InputMode"),
                    readObject("ShuffleConfig", read("Seed")))),
            readObject("OutputDataConfig",
                    read("S3OutputPath"),
                    ignored("KmsKeyId"),
                    ignored("CompressionType")),
            readObject("ResourceConfig",
                    read("InstanceCount"),
                    ignored("InstanceType"),
                    ignored("VolumeSizeInGB"),
                    ignored("VolumeKmsKeyId"),
                    ignored("KeepAlivePeriodInSeconds"),
                    ignored("InstanceGroups"),
                    ignored("TrainingPlanArn"),
                    ignored("InstancePlacementConfig")),
            readObject("StoppingCondition",
                    read("MaxRuntimeInSeconds"),
                    ignored("MaxWaitTimeInSeconds"),
                    ignored("MaxPendingTimeInSeconds")),
            readObject("CheckpointConfig",
                    read("S3Uri"),
                    read("LocalPath")),
            read("Environment"),
            ignored("RoleArn"),
            ignored("VpcConfig"),
            ignored("Tags"),
            ignored("EnableNetworkIsolation"),
            ignored("EnableInterContainerTrafficEncryption"),
            ignored("EnableManagedSpotTraining"),
            ignored("DebugHookConfig"),
            ignored("DebugRuleConfigurations"),
            ignored("TensorBoardOutputConfig"),
            ignored("ExperimentConfig"),
            ignored("ProfilerConfig"),
            ignored("ProfilerRuleConfigurations"),
            ignored("RetryStrategy"),
            ignored("RemoteDebugConfig"),
            ignored("InfraCheckConfig"),
            ignored("SessionChainingConfig"));

    private RequestSchema() {}

    private record Named(String name, Field field) {}

    private static Shape object(Named... fields) {
        Map<String, Field> map = new LinkedHashMap<>();
        for (Named named : fields) {
            map.put(named.name(), named.field());
        }
        return new Shape(map, null);
    }

    private static Named read(String name) {
        return new Named(name, new Field(Use.READ, VALUE));
    }

    private static Named ignored(String name) {
        return new Named(name, new Field(Use.IGNORED, VALUE));
    }

    private static Named readObject(String name, Named... fields) {
        return new Named(name, new Field(Use.READ, object(fields)));
    }

    private static Named readList(String name, Shape element) {
        return new Named(name, new Field(Use.READ, new Shape(null, element)));
    }

    /** The known name closest to {@code unknown}, or {@code null} when none is close enough to be a likely typo. */
    static String nearest(String unknown, Iterable<String> known) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String candidate : known) {
            int distance = candidate.equalsIgnoreCase(unknown) ? 0
                    : distance(unknown.toLowerCase(Locale.ROOT), candidate.toLowerCase(Locale.ROOT));
            if (distance < bestDistance) {
                bestDistance = distance;
                best = candidate;
            }
        }
        int allowed = Math.max(2, unknown.length() / 3);
        return bestDistance <= allowed ? best : null;
    }

    /** Levenshtein distance. */
    static int distance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j] + 1, current[j - 1] + 1));
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
