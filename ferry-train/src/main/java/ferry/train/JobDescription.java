package ferry.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import ferry.store.local.DurableFiles;
import ferry.train.channel.ChannelStats;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A job's state in {@code DescribeTrainingJob}'s names (CONTRACT.md section 3), kept as JSON in the job folder and
 * rewritten atomically at each change, plus Ferry's own figures under {@code Ferry}: seconds per phase (above all,
 * {@code SecondsBeforeTraining}, the wait for data), the channels with files and bytes delivered, and the output
 * artifacts.
 */
public final class JobDescription {
    public static final String IN_PROGRESS = "InProgress";
    public static final String COMPLETED = "Completed";
    public static final String FAILED = "Failed";
    public static final String STOPPING = "Stopping";
    public static final String STOPPED = "Stopped";

    /** The phases a job goes through, in order; each is a secondary status. */
    public static final List<String> PHASES = List.of("Starting", "Downloading", "Training", "Uploading");

    private static final ObjectMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    private final ObjectNode node;

    private JobDescription(ObjectNode node) {
        this.node = node;
    }

    /** A new job, InProgress and Starting since {@code created}. */
    static JobDescription start(TrainingRequest request, Instant created, String folder, List<String> hosts,
            String currentHost) {
        ObjectNode node = JSON.createObjectNode();
        JsonNode document = request.document();
        node.put("TrainingJobName", request.name());
        node.put("TrainingJobArn", "arn:ferry:local:training-job/" + request.name());
        node.put("TrainingJobStatus", IN_PROGRESS);
        node.put("SecondaryStatus", "Starting");
        node.put("CreationTime", created.truncatedTo(ChronoUnit.MILLIS).toString());
        node.put("LastModifiedTime", created.truncatedTo(ChronoUnit.MILLIS).toString());
        for (String field : new String[] {"AlgorithmSpecification", "HyperParameters", "InputDataConfig",
                "OutputDataConfig", "ResourceConfig", "StoppingCondition", "CheckpointConfig", "Environment",
                "RoleArn"}) {
            if (document.has(field)) {
                node.set(field, document.get(field).deepCopy());
            }
        }
        node.putArray("SecondaryStatusTransitions");
        ObjectNode ferry = node.putObject("Ferry");
        ferry.put("JobFolder", folder);
        ferry.put("CurrentHost", currentHost);
        ArrayNode hostList = ferry.putArray("Hosts");
        hosts.forEach(hostList::add);
        ferry.putArray("Channels");
        JobDescription description = new JobDescription(node);
        description.transition("Starting", "Checking the request's locations and laying out the job folder", created);
        return description;
    }

    /** Reads a description written by {@link #write}. */
    public static JobDescription read(Path file) throws IOException {
        JsonNode node;
        try {
            node = JSON.readTree(Files.readAllBytes(file));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IOException(file + " is not a Ferry job description: " + e.getOriginalMessage(), e);
        }
        if (node == null || !node.isObject() || !node.has("TrainingJobStatus")) {
            throw new IOException(file + " is not a Ferry job description");
        }
        return new JobDescription((ObjectNode) node);
    }

    /** Writes the description to {@code file} whole and durably: a temporary file beside it, then a rename. */
    synchronized void write(Path file) throws IOException {
        DurableFiles.write(file, JSON.writeValueAsBytes(node));
    }

    /** Ends the current secondary status and begins {@code status}. */
    synchronized void transition(String status, String message, Instant time) {
        Instant at = time.truncatedTo(ChronoUnit.MILLIS); // as SageMaker's timestamps
        ArrayNode transitions = (ArrayNode) node.get("SecondaryStatusTransitions");
        if (!transitions.isEmpty()) {
            ObjectNode last = (ObjectNode) transitions.get(transitions.size() - 1);
            if (!last.has("EndTime")) {
                last.put("EndTime", at.toString());
            }
        }
        ObjectNode next = transitions.addObject();
        next.put("Status", status);
        next.put("StartTime", at.toString());
        next.put("StatusMessage", message);
        node.put("SecondaryStatus", status);
        node.put("LastModifiedTime", at.toString());
        if (status.equals("Downloading") && !node.has("TrainingStartTime")) {
            node.put("TrainingStartTime", at.toString());
        }
        updatePhaseSeconds(at);
    }

    /**
     * Ends the job: {@code status} is Completed, Failed or Stopped; {@code secondary} the final secondary status
     * (Completed, Failed, Stopped or MaxRuntimeExceeded).
     */
    synchronized void finish(String status, String secondary, String message, String failureReason, Instant time) {
        Instant at = time.truncatedTo(ChronoUnit.MILLIS);
        transition(secondary, message, at);
        ArrayNode transitions = (ArrayNode) node.get("SecondaryStatusTransitions");
        ((ObjectNode) transitions.get(transitions.size() - 1)).put("EndTime", at.toString());
        node.put("TrainingJobStatus", status);
        if (failureReason != null) {
            node.put("FailureReason", failureReason);
        }
        Instant start = node.has("TrainingStartTime") ? Instant.parse(node.get("TrainingStartTime").asText()) : at;
        node.put("TrainingEndTime", at.toString());
        long seconds = (long) Math.ceil(Duration.between(start, at).toMillis() / 1000.0);
        node.put("TrainingTimeInSeconds", seconds);
        node.put("BillableTimeInSeconds", seconds);
        updatePhaseSeconds(at);
    }

    private void updatePhaseSeconds(Instant now) {
        Map<String, Double> seconds = new LinkedHashMap<>();
        PHASES.forEach(phase -> seconds.put(phase, 0.0));
        for (JsonNode transition : node.get("SecondaryStatusTransitions")) {
            String status = transition.get("Status").asText();
            if (seconds.containsKey(status)) {
                Instant start = Instant.parse(transition.get("StartTime").asText());
                Instant end = transition.has("EndTime") ? Instant.parse(transition.get("EndTime").asText()) : now;
                seconds.merge(status, Duration.between(start, end).toMillis() / 1000.0, Double::sum);
            }
        }
        ObjectNode phases = ferry().putObject("PhaseSeconds");
        seconds.forEach(phases::put);
        ferry().put("SecondsBeforeTraining", seconds.get("Starting") + seconds.get("Downloading"));
    }

    synchronized void addChannel(ChannelStats stats) {
        ArrayNode channels = (ArrayNode) ferry().get("Channels");
        ObjectNode channel = channels.addObject();
        channel.put("ChannelName", stats.channel());
        channel.put("InputMode", stats.inputMode());
        channel.put("Source", stats.source());
        channel.put("FilesDelivered", stats.files());
        channel.put("BytesDelivered", stats.bytes());
        double seconds = stats.elapsed().toMillis() / 1000.0;
        channel.put("Seconds", seconds);
        if (stats.inputMode().equals("File") && seconds > 0) {
            channel.put("BytesPerSecond", Math.round(stats.bytes() / seconds));
        }
        if (stats.bytesFetched() != null) {
            channel.put("BytesFetched", stats.bytesFetched());
        }
    }

    synchronized void ferryField(String name, Object value) {
        ferry().set(name, JSON.valueToTree(value));
    }

    synchronized void modelArtifacts(String location) {
        node.putObject("ModelArtifacts").put("S3ModelArtifacts", location);
    }

    private ObjectNode ferry() {
        return (ObjectNode) node.get("Ferry");
    }

    public String name() {
        return node.path("TrainingJobName").asText();
    }

    /** What {@code ferry jobs} calls this run: the job's name, or {@code name@host} for one host of several. */
    public String id() {
        String folder = ferry().path("JobFolder").asText("");
        return folder.isEmpty() ? name() : Path.of(folder).getFileName().toString();
    }

    public String status() {
        return node.path("TrainingJobStatus").asText();
    }

    public String secondaryStatus() {
        return node.path("SecondaryStatus").asText();
    }

    public String failureReason() {
        return node.hasNonNull("FailureReason") ? node.get("FailureReason").asText() : null;
    }

    public Instant creationTime() {
        return Instant.parse(node.path("CreationTime").asText());
    }

    public String modelArtifacts() {
        JsonNode artifacts = node.path("ModelArtifacts").path("S3ModelArtifacts");
        return artifacts.isTextual() ? artifacts.asText() : null;
    }

    public boolean isFinished() {
        return !status().equals(IN_PROGRESS) && !status().equals(STOPPING);
    }

    /** The process was told to stop and has its grace period: Stopping, as SageMaker shows it, until it ends. */
    synchronized void stopping(Instant time) {
        node.put("TrainingJobStatus", STOPPING);
        node.put("LastModifiedTime", time.truncatedTo(ChronoUnit.MILLIS).toString());
    }

    /** Seconds per phase (Starting, Downloading, Training, Uploading), in order. */
    public Map<String, Double> phaseSeconds() {
        Map<String, Double> seconds = new LinkedHashMap<>();
        JsonNode phases = node.path("Ferry").path("PhaseSeconds");
        PHASES.forEach(phase -> seconds.put(phase, phases.path(phase).asDouble(0)));
        return seconds;
    }

    /** The whole description, DescribeTrainingJob-shaped. */
    public synchronized ObjectNode json() {
        return node.deepCopy();
    }

    /** A copy marked as no longer running, for a job whose runner went away without finishing it. */
    JobDescription abandoned(String message, Instant at) {
        JobDescription copy = new JobDescription(json());
        copy.finish(STOPPED, STOPPED, message, null, at);
        return copy;
    }
}
