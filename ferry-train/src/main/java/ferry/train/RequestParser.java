package ferry.train;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import ferry.store.Location;
import ferry.train.channel.ChannelSpec;
import ferry.train.channel.FileSystemSource;
import ferry.train.channel.S3Source;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a {@code CreateTrainingJob} request in JSON or YAML and checks it whole: every problem is collected and
 * reported at once, each naming its field and what to do ({@link InvalidRequestException}).
 *
 * <p>Local additions to SageMaker's request: {@code AlgorithmSpecification.Command} (the process to run, instead
 * of a container image), and in locations, {@code ${VAR}} for an environment variable ({@code ${FERRY_HOME}} is
 * Ferry's home even when unset). Relative paths are taken from the request file's folder, which is also where the
 * process starts.
 */
public final class RequestParser {
    private static final Pattern JOB_NAME = Pattern.compile("[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}");
    private static final Pattern CHANNEL_NAME = Pattern.compile("[A-Za-z0-9.\\-_]{1,64}");
    private static final Pattern VARIABLE = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}");
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,511}");
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();
    private static final ObjectMapper YAML = YAMLMapper.builder(new YAMLFactory())
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();

    private final Map<String, String> environment;
    private final Path ferryHome;

    /**
     * @param environment the variables {@code ${VAR}} in locations may name
     * @param ferryHome what {@code ${FERRY_HOME}} means when the variable is unset
     */
    public RequestParser(Map<String, String> environment, Path ferryHome) {
        this.environment = Map.copyOf(environment);
        this.ferryHome = ferryHome;
    }

    /** Reads and checks a request file ({@code .yaml} or {@code .yml} as YAML, anything else as JSON). */
    public TrainingRequest parse(Path file) throws IOException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new InvalidRequestException(file.toString(), List.of("no such file: give the path of a"
                    + " CreateTrainingJob request in JSON or YAML"));
        }
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        boolean yaml = name.endsWith(".yaml") || name.endsWith(".yml");
        Path folder = file.toAbsolutePath().normalize().getParent();
        return parse(text, yaml, file.toString(), folder);
    }

    /**
     * Reads and checks a request given as text.
     *
     * @param source what to call it in messages (its file name)
     * @param folder where relative paths start and the process runs
     */
    public TrainingRequest parse(String text, boolean yaml, String source, Path folder) {
        JsonNode document;
        try {
            document = (yaml ? YAML : JSON).readTree(text);
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? ""
                    : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
            throw new InvalidRequestException(source, List.of("not valid " + (yaml ? "YAML" : "JSON") + where + ": "
                    + e.getOriginalMessage()));
        }
        if (document == null || !document.isObject()) {
            throw new InvalidRequestException(source, List.of("a request is one " + (yaml ? "YAML mapping" : "JSON"
                    + " object") + " with CreateTrainingJob's fields, such as TrainingJobName"));
        }
        Map<String, Map<String, String>> written;
        try (JsonParser parser = (yaml ? YAML : JSON).createParser(text)) {
            written = scalarsAsWritten(parser, Set.of("HyperParameters", "Environment"));
        } catch (IOException e) {
            throw new UncheckedIOException(e); // the text was just read whole: it cannot fail to read now
        }
        return new Reader(source, folder, written).read(document);
    }

    /**
     * The scalars of the named top-level mappings, as the request writes them. SageMaker passes these values to the
     * process as strings; read as numbers or booleans, 1.10 would reach it as 1.1, 1e-5 as 1.0E-5, and in YAML 010
     * as 8 and yes as true.
     */
    private static Map<String, Map<String, String>> scalarsAsWritten(JsonParser parser, Set<String> fields)
            throws IOException {
        Map<String, Map<String, String>> found = new HashMap<>();
        if (parser.nextToken() != JsonToken.START_OBJECT) {
            return found;
        }
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String field = parser.currentName();
            if (parser.nextToken() != JsonToken.START_OBJECT || !fields.contains(field)) {
                parser.skipChildren();
                continue;
            }
            Map<String, String> values = found.computeIfAbsent(field, f -> new HashMap<>());
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String name = parser.currentName();
                if (parser.nextToken().isScalarValue()) {
                    values.put(name, parser.getText());
                } else {
                    parser.skipChildren();
                }
            }
        }
        return found;
    }

    /** One pass over one document: collects problems and ignored fields. */
    private final class Reader {
        private final String source;
        private final Path folder;
        private final List<String> problems = new ArrayList<>();
        private final List<String> ignored = new ArrayList<>();
        private final Map<String, Map<String, String>> written;

        Reader(String source, Path folder, Map<String, Map<String, String>> written) {
            this.source = source;
            this.folder = folder;
            this.written = written;
        }

        TrainingRequest read(JsonNode document) {
            checkFields(document, RequestSchema.REQUEST, "");

            String name = text(document, "TrainingJobName", "TrainingJobName", true);
            if (name != null && !JOB_NAME.matcher(name).matches()) {
                problem("TrainingJobName '" + name + "' is not a valid job name: use 1 to 63 letters, digits and"
                        + " hyphens, starting with a letter or digit");
            }

            JsonNode algorithm = object(document, "AlgorithmSpecification", "AlgorithmSpecification");
            List<String> command = command(algorithm);
            String defaultMode = "File";
            if (algorithm != null) {
                String mode = text(algorithm, "TrainingInputMode", "AlgorithmSpecification.TrainingInputMode", false);
                if (mode != null) {
                    defaultMode = inputMode(mode, "AlgorithmSpecification.TrainingInputMode");
                }
            }

            Map<String, String> hyperParameters = stringMap(document, "HyperParameters", false);
            List<ChannelSpec> channels = channels(document, defaultMode);

            Location outputPath = null;
            JsonNode output = object(document, "OutputDataConfig", "OutputDataConfig");
            if (output == null) {
                if (!document.has("OutputDataConfig")) {
                    problem("OutputDataConfig is missing: add \"OutputDataConfig\": {\"S3OutputPath\":"
                            + " \"s3://bucket/output/\"} (or a local folder) for model.tar.gz");
                }
            } else {
                String path = text(output, "S3OutputPath", "OutputDataConfig.S3OutputPath", true);
                if (path != null) {
                    outputPath = location(path, "OutputDataConfig.S3OutputPath");
                }
            }

            TrainingRequest.Checkpoint checkpoint = null;
            JsonNode checkpointNode = object(document, "CheckpointConfig", "CheckpointConfig");
            if (checkpointNode != null) {
                String uri = text(checkpointNode, "S3Uri", "CheckpointConfig.S3Uri", true);
                String localPath = text(checkpointNode, "LocalPath", "CheckpointConfig.LocalPath", false);
                if (localPath == null) {
                    localPath = TrainingRequest.Checkpoint.DEFAULT_LOCAL_PATH;
                } else if (!localPath.startsWith("/")) {
                    problem("CheckpointConfig.LocalPath '" + localPath + "' must be an absolute path, such as "
                            + TrainingRequest.Checkpoint.DEFAULT_LOCAL_PATH);
                }
                Location location = uri == null ? null : location(uri, "CheckpointConfig.S3Uri");
                if (location != null) {
                    checkpoint = new TrainingRequest.Checkpoint(location.asDirectory(), localPath);
                }
            }

            int instanceCount = 1;
            JsonNode resources = object(document, "ResourceConfig", "ResourceConfig");
            if (resources != null && resources.has("InstanceCount")) {
                instanceCount = positiveInt(resources.get("InstanceCount"), "ResourceConfig.InstanceCount", 1000);
            }

            Duration maxRuntime = TrainingRequest.DEFAULT_MAX_RUNTIME;
            JsonNode stopping = object(document, "StoppingCondition", "StoppingCondition");
            if (stopping != null && stopping.has("MaxRuntimeInSeconds")) {
                maxRuntime = Duration.ofSeconds(positiveInt(stopping.get("MaxRuntimeInSeconds"),
                        "StoppingCondition.MaxRuntimeInSeconds", Integer.MAX_VALUE));
            }

            Map<String, String> environmentVariables = stringMap(document, "Environment", true);

            if (!problems.isEmpty()) {
                throw new InvalidRequestException(source, problems);
            }
            return new TrainingRequest(name, command, folder, hyperParameters, channels, outputPath.asDirectory(),
                    checkpoint, instanceCount, maxRuntime, environmentVariables, ignored, document);
        }

        /** Refuses fields the API does not have (suggesting the nearest) and records the ignored ones. */
        private void checkFields(JsonNode node, RequestSchema.Shape shape, String path) {
            if (shape.isObject()) {
                if (!node.isObject()) {
                    return; // the typed readers below say what was expected
                }
                Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
                while (fields.hasNext()) {
                    Map.Entry<String, JsonNode> entry = fields.next();
                    String fieldPath = path.isEmpty() ? entry.getKey() : path + "." + entry.getKey();
                    RequestSchema.Field field = shape.fields().get(entry.getKey());
                    if (field == null) {
                        String nearest = RequestSchema.nearest(entry.getKey(), shape.fields().keySet());
                        problem("unknown field '" + fieldPath + "'" + (nearest == null
                                ? ": CreateTrainingJob has no such field here; the fields are "
                                        + String.join(", ", shape.fields().keySet())
                                : ": did you mean '" + nearest + "'?"));
                    } else if (field.use() == RequestSchema.Use.IGNORED) {
                        ignored.add(fieldPath);
                    } else {
                        checkFields(entry.getValue(), field.shape(), fieldPath);
                    }
                }
            } else if (shape.isList() && node.isArray()) {
                for (int i = 0; i < node.size(); i++) {
                    checkFields(node.get(i), shape.element(), path + "[" + i + "]");
                }
            }
        }

        private List<String> command(JsonNode algorithm) {
            if (algorithm == null) {
                if (problems.stream().noneMatch(p -> p.startsWith("AlgorithmSpecification"))) {
                    problem("AlgorithmSpecification is missing: add \"AlgorithmSpecification\": {\"Command\":"
                            + " [\"python3\", \"train.py\"]} to name the process to run");
                }
                return List.of();
            }
            JsonNode node = algorithm.get("Command");
            if (node == null || node.isNull()) {
                String image = algorithm.path("TrainingImage").asText(algorithm.path("AlgorithmName").asText(""));
                problem("AlgorithmSpecification.Command is missing: Ferry runs a local process instead of "
                        + (image.isEmpty() ? "a container image" : "the image '" + image + "'")
                        + "; add \"Command\": [\"python3\", \"train.py\"]");
                return List.of();
            }
            List<String> command = new ArrayList<>();
            if (node.isTextual()) {
                command.addAll(split(node.asText()));
            } else if (node.isArray()) {
                for (JsonNode element : node) {
                    if (!element.isValueNode() || element.isNull()) {
                        problem("AlgorithmSpecification.Command must hold strings only, such as [\"python3\","
                                + " \"train.py\"]");
                        return List.of();
                    }
                    command.add(element.asText());
                }
            } else {
                problem("AlgorithmSpecification.Command must be a list of strings or one command line, such as"
                        + " [\"python3\", \"train.py\"]");
                return List.of();
            }
            if (command.stream().anyMatch(word -> word.indexOf('\0') >= 0)) {
                problem("AlgorithmSpecification.Command holds a NUL character, which no process can be given: remove"
                        + " it");
            }
            if (command.isEmpty() || command.getFirst().isBlank()) {
                problem("AlgorithmSpecification.Command is empty: name the program to run, such as [\"python3\","
                        + " \"train.py\"]");
            }
            return command;
        }

        private List<ChannelSpec> channels(JsonNode document, String defaultMode) {
            JsonNode list = document.get("InputDataConfig");
            if (list == null || list.isNull()) {
                return List.of();
            }
            if (!list.isArray()) {
                problem("InputDataConfig must be a list of channels, such as [{\"ChannelName\": \"train\","
                        + " \"DataSource\": {...}}]");
                return List.of();
            }
            List<ChannelSpec> channels = new ArrayList<>();
            Set<String> names = new HashSet<>();
            for (int i = 0; i < list.size(); i++) {
                JsonNode node = list.get(i);
                String path = "InputDataConfig[" + i + "]";
                if (!node.isObject()) {
                    problem(path + " must be an object with ChannelName and DataSource");
                    continue;
                }
                String name = text(node, "ChannelName", path + ".ChannelName", true);
                if (name != null) {
                    if (!CHANNEL_NAME.matcher(name).matches() || name.equals(".") || name.equals("..")) {
                        problem(path + ".ChannelName '" + name + "' is not a valid channel name: use up to 64"
                                + " letters, digits, '.', '-' and '_' (not '.' or '..', which would name another"
                                + " folder)");
                    } else if (!names.add(name.toUpperCase(Locale.ROOT))) {
                        problem(path + ".ChannelName '" + name + "' is used twice (names are compared without case,"
                                + " as SM_CHANNEL_" + name.toUpperCase(Locale.ROOT) + " must be unique): rename one");
                    }
                    path = path + " (channel '" + name + "')";
                }
                ChannelSpec channel = channel(node, path, name, defaultMode);
                if (channel != null) {
                    channels.add(channel);
                }
            }
            return channels;
        }

        private ChannelSpec channel(JsonNode node, String path, String name, String defaultMode) {
            String mode = defaultMode;
            String modeText = text(node, "InputMode", path + ".InputMode", false);
            if (modeText != null) {
                mode = inputMode(modeText, path + ".InputMode");
            }
            String modeField = modeText != null ? path + ".InputMode" : "AlgorithmSpecification.TrainingInputMode";
            String contentType = text(node, "ContentType", path + ".ContentType", false);
            String compression = oneOf(node, "CompressionType", path, "None", "None", "Gzip");
            if ("Gzip".equals(compression)) {
                problem(path + ".CompressionType Gzip works only in Pipe mode, as on SageMaker: store the objects"
                        + " uncompressed, or remove CompressionType");
            }
            String wrapper = oneOf(node, "RecordWrapperType", path, "None", "None", "RecordIO");
            Long seed = null;
            JsonNode shuffle = object(node, "ShuffleConfig", path + ".ShuffleConfig");
            if (shuffle != null) {
                JsonNode seedNode = shuffle.path("Seed");
                if (seedNode.isIntegralNumber() && seedNode.canConvertToLong()) {
                    seed = seedNode.asLong();
                } else if (seedNode.isTextual() && seedNode.asText().matches("-?[0-9]{1,18}")) {
                    seed = Long.parseLong(seedNode.asText());
                } else {
                    problem(path + ".ShuffleConfig.Seed must be a whole number, such as 42");
                }
            }
            JsonNode dataSource = object(node, "DataSource", path + ".DataSource");
            if (dataSource == null) {
                if (!node.has("DataSource")) {
                    problem(path + ".DataSource is missing: add an S3DataSource {\"S3Uri\": ...} or a"
                            + " FileSystemDataSource {\"DirectoryPath\": ...}");
                }
                return null;
            }
            JsonNode s3 = object(dataSource, "S3DataSource", path + ".DataSource.S3DataSource");
            JsonNode fileSystem = object(dataSource, "FileSystemDataSource", path + ".DataSource.FileSystemDataSource");
            if (s3 != null && fileSystem != null) {
                problem(path + ".DataSource has both S3DataSource and FileSystemDataSource: keep one");
                return null;
            }
            ChannelSpec.Source source;
            if (s3 != null) {
                source = s3Source(s3, path + ".DataSource.S3DataSource");
            } else if (fileSystem != null) {
                source = fileSystemSource(fileSystem, path + ".DataSource.FileSystemDataSource");
                if (modeText != null && !mode.equals("File")) {
                    problem(path + ".InputMode must be File for a FileSystemDataSource (the folder is used in place)");
                }
                mode = "FileSystem";
            } else {
                if (dataSource.isObject()) {
                    problem(path + ".DataSource needs an S3DataSource or a FileSystemDataSource");
                }
                return null;
            }
            if (source == null || name == null) {
                return null;
            }
            if (mode.equals(ChannelSpec.FAST_FILE) && source instanceof S3Source s3Source
                    && s3Source.dataType() != S3Source.DataType.S3Prefix) {
                // SageMaker mounts prefixes only: a manifest's objects may live anywhere, so there is no one tree.
                problem(path + ": InputMode FastFile (from " + modeField + ") works only with S3DataType S3Prefix,"
                        + " as on SageMaker, not " + s3Source.dataType() + ": set \"InputMode\": \"File\" on channel '"
                        + name + "' to stage the objects the manifest lists, or point S3Uri at a prefix with"
                        + " \"S3DataType\": \"S3Prefix\"");
                return null;
            }
            if (!mode.equals(ChannelSpec.FILE) && !mode.equals(ChannelSpec.FAST_FILE)
                    && !mode.equals(ChannelSpec.FILE_SYSTEM)) {
                problem(path + ".InputMode " + mode + " is not supported by ferry train yet: use File (staged to"
                        + " local disk), FastFile (mounted and read on demand), or a FileSystemDataSource to read a"
                        + " folder in place");
                return null;
            }
            return new ChannelSpec(name, mode, contentType, compression, wrapper, seed, source);
        }

        private S3Source s3Source(JsonNode node, String path) {
            String uri = text(node, "S3Uri", path + ".S3Uri", true);
            String type = oneOf(node, "S3DataType", path, "S3Prefix", "S3Prefix", "ManifestFile",
                    "AugmentedManifestFile");
            String distribution = oneOf(node, "S3DataDistributionType", path, "FullyReplicated", "FullyReplicated",
                    "ShardedByS3Key");
            List<String> attributes = new ArrayList<>();
            JsonNode attributeNodes = node.get("AttributeNames");
            if (attributeNodes != null && !attributeNodes.isNull()) {
                if (!attributeNodes.isArray()) {
                    problem(path + ".AttributeNames must be a list of field names, such as [\"source-ref\","
                            + " \"class\"]");
                } else {
                    attributeNodes.forEach(a -> attributes.add(a.asText()));
                }
            }
            if ("AugmentedManifestFile".equals(type) && attributes.isEmpty()) {
                problem(path + ".AttributeNames is required for an AugmentedManifestFile: list the fields to"
                        + " deliver, such as [\"source-ref\", \"class\"]");
            } else if (type != null && !"AugmentedManifestFile".equals(type) && !attributes.isEmpty()) {
                problem(path + ".AttributeNames applies only to S3DataType AugmentedManifestFile: remove it");
            }
            Location location = uri == null ? null : location(uri, path + ".S3Uri");
            if (location == null || type == null || distribution == null) {
                return null;
            }
            if (!type.equals("S3Prefix") && location.isDirectory()) {
                problem(path + ".S3Uri '" + uri + "' ends in '/', but a " + type + " is one object: give its key");
                return null;
            }
            return new S3Source(location, S3Source.DataType.valueOf(type),
                    S3Source.Distribution.valueOf(distribution), attributes);
        }

        private FileSystemSource fileSystemSource(JsonNode node, String path) {
            String directory = text(node, "DirectoryPath", path + ".DirectoryPath", true);
            String access = oneOf(node, "FileSystemAccessMode", path, "ro", "ro", "rw");
            if (directory == null || access == null) {
                return null;
            }
            Location location = location(directory, path + ".DirectoryPath");
            if (location == null) {
                return null;
            }
            if (!location.isLocal()) {
                problem(path + ".DirectoryPath '" + directory + "' must be a mounted folder on this machine (a path"
                        + " or file:///path); for objects in a bucket use an S3DataSource");
                return null;
            }
            return new FileSystemSource(location.toPath(), access.equals("rw"));
        }

        private String inputMode(String mode, String path) {
            for (String known : new String[] {"File", "FastFile", "Pipe"}) {
                if (known.equalsIgnoreCase(mode)) {
                    return known;
                }
            }
            problem(path + " '" + mode + "' is not an input mode: use File or FastFile (Pipe is SageMaker's other"
                    + " mode)");
            return "File";
        }

        /** A location from the request: {@code ${VAR}} expanded, a relative path taken from the request's folder. */
        private Location location(String text, String path) {
            String expanded = expand(text, path);
            if (expanded == null) {
                return null;
            }
            try {
                if (!expanded.contains("://") && !expanded.startsWith("/")) {
                    String resolved = folder.resolve(expanded).normalize().toString();
                    expanded = expanded.endsWith("/") ? resolved + "/" : resolved;
                }
                return Location.of(expanded);
            } catch (IllegalArgumentException e) {
                problem(path + ": " + e.getMessage());
                return null;
            }
        }

        private String expand(String text, String path) {
            Matcher matcher = VARIABLE.matcher(text);
            StringBuilder result = new StringBuilder();
            while (matcher.find()) {
                String variable = matcher.group(1);
                String value = environment.get(variable);
                if ((value == null || value.isBlank()) && variable.equals("FERRY_HOME")) {
                    value = ferryHome.toString();
                }
                if (value == null) {
                    problem(path + " uses ${" + variable + "}, which is not set: set it, or write the location out");
                    return null;
                }
                matcher.appendReplacement(result, Matcher.quoteReplacement(value));
            }
            matcher.appendTail(result);
            return result.toString();
        }

        private Map<String, String> stringMap(JsonNode document, String field, boolean variableNames) {
            Map<String, String> map = new LinkedHashMap<>();
            JsonNode node = document.get(field);
            if (node == null || node.isNull()) {
                return map;
            }
            if (!node.isObject()) {
                problem(field + " must be an object of names to string values, such as {\"epochs\": \"3\"}");
                return map;
            }
            node.fields().forEachRemaining(entry -> {
                JsonNode value = entry.getValue();
                String key = entry.getKey();
                if (!value.isValueNode() || value.isNull()) {
                    problem(field + "." + key + " must be a string (SageMaker passes every value as a string): write"
                            + " it in quotes");
                } else if (variableNames && !ENV_NAME.matcher(key).matches()) {
                    problem(field + "." + key + " is not a valid environment variable name: use letters, digits and"
                            + " '_', not starting with a digit");
                } else if (!variableNames && (key.isBlank() || key.chars().anyMatch(Character::isWhitespace))) {
                    problem(field + " has the name '" + key + "', which cannot be passed as --" + key
                            + ": use a name without spaces");
                } else if (!variableNames && key.indexOf('=') >= 0) {
                    problem(field + " has the name '" + key + "', which cannot be passed as the variable SM_HP_"
                            + key.toUpperCase(Locale.ROOT) + ": use a name without '='");
                } else if (key.indexOf('\0') >= 0 || value.asText().indexOf('\0') >= 0) {
                    problem(field + "." + key.replace("\0", "\\0") + " holds a NUL character, which no process can"
                            + " be given: remove it");
                } else {
                    map.put(key, written.getOrDefault(field, Map.of()).getOrDefault(key, value.asText()));
                }
            });
            return map;
        }

        private JsonNode object(JsonNode parent, String field, String path) {
            JsonNode node = parent.get(field);
            if (node == null || node.isNull()) {
                return null;
            }
            if (!node.isObject()) {
                problem(path + " must be an object, not " + kind(node));
                return null;
            }
            return node;
        }

        private String text(JsonNode parent, String field, String path, boolean required) {
            JsonNode node = parent.get(field);
            if (node == null || node.isNull()) {
                if (required) {
                    problem(path + " is missing: it is required");
                }
                return null;
            }
            if (!node.isTextual()) {
                problem(path + " must be a string, not " + kind(node));
                return null;
            }
            if (node.asText().isBlank()) {
                problem(path + " is empty: give a value");
                return null;
            }
            return node.asText();
        }

        private String oneOf(JsonNode parent, String field, String path, String defaultValue, String... allowed) {
            String value = text(parent, field, path + "." + field, false);
            if (value == null) {
                return parent.hasNonNull(field) ? null : defaultValue;
            }
            for (String candidate : allowed) {
                if (candidate.equals(value)) {
                    return candidate;
                }
            }
            String nearest = RequestSchema.nearest(value, List.of(allowed));
            problem(path + "." + field + " '" + value + "' is not one of " + String.join(", ", allowed)
                    + (nearest == null ? "" : ": did you mean '" + nearest + "'?"));
            return null;
        }

        private int positiveInt(JsonNode node, String path, int max) {
            if (!node.isIntegralNumber() || node.asLong() < 1 || node.asLong() > max) {
                problem(path + " must be a whole number from 1 to " + max + ", not " + node);
                return 1;
            }
            return node.asInt();
        }

        private void problem(String message) {
            problems.add(message);
        }
    }

    private static String kind(JsonNode node) {
        if (node.isObject()) {
            return "an object";
        }
        if (node.isArray()) {
            return "a list";
        }
        if (node.isNumber()) {
            return "a number (" + node + ")";
        }
        if (node.isBoolean()) {
            return "a boolean (" + node + ")";
        }
        return node.isTextual() ? "a string" : node.getNodeType().toString().toLowerCase(Locale.ROOT);
    }

    /** Splits a command line on blanks, keeping text in single or double quotes together (no other shell syntax). */
    static List<String> split(String line) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        boolean inWord = false;
        char quote = 0;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else {
                    word.append(c);
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
                inWord = true;
            } else if (Character.isWhitespace(c)) {
                if (inWord) {
                    words.add(word.toString());
                    word.setLength(0);
                    inWord = false;
                }
            } else {
                word.append(c);
                inWord = true;
            }
        }
        if (inWord) {
            words.add(word.toString());
        }
        return words;
    }
}
