package ferry.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import ferry.store.local.DurableFiles;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Named sync tasks with schedules, kept as JSON under {@code $FERRY_HOME/tasks/<name>/}, with the report of each
 * run under {@code runs/}. Plain files, so a task survives restarts and can be read by any tool.
 */
final class Tasks {
    /**
     * One task.
     *
     * @param every how often it runs, as an ISO-8601 duration ({@code PT24H})
     * @param at the time of day ({@code HH:MM}, in {@code zone}) its runs are anchored to, or {@code null} to run
     *     {@code every} after the last start
     * @param arguments the sync options, as command-line arguments
     */
    record Task(String name, String source, String destination, String every, String at, String zone,
            List<String> arguments, String created) {
        Duration interval() {
            return Duration.parse(every);
        }

        /**
         * When it is next due, given when it last started ({@code null} if never). With {@code at}, runs fall on that
         * local time of day: every so many calendar days (so a daylight-saving change moves nothing), or, for an
         * interval shorter than a day, at that time and every interval after it until the next day's.
         */
        Instant nextRun(Instant lastStart, Instant now) {
            Duration interval = interval();
            if (at == null) {
                return lastStart == null ? now : lastStart.plus(interval);
            }
            ZoneId zoneId = ZoneId.of(zone);
            LocalTime time = LocalTime.parse(at);
            boolean underADay = interval.compareTo(Duration.ofDays(1)) < 0;
            if (!underADay && lastStart != null) {
                return ZonedDateTime.of(lastAnchor(lastStart, time, zoneId).toLocalDate().plusDays(interval.toDays()),
                        time, zoneId).toInstant();
            }
            // The first slot at or after now (never run), or after the last start: that day's time, then every
            // interval until the next day's.
            Instant from = lastStart == null ? now : lastStart.plusNanos(1);
            ZonedDateTime day = lastAnchor(from, time, zoneId);
            Instant tomorrow = nextAnchor(day, time);
            Instant slot = day.toInstant();
            if (underADay) {
                slot = slot.plus(interval.multipliedBy(
                        Math.ceilDiv(Duration.between(slot, from).toNanos(), interval.toNanos())));
            }
            return !slot.isBefore(from) && slot.isBefore(tomorrow) ? slot : tomorrow;
        }

        /** The latest time {@code time} (local) at or before {@code instant}. */
        private static ZonedDateTime lastAnchor(Instant instant, LocalTime time, ZoneId zoneId) {
            LocalDate date = instant.atZone(zoneId).toLocalDate();
            ZonedDateTime today = ZonedDateTime.of(date, time, zoneId);
            return today.toInstant().isAfter(instant) ? ZonedDateTime.of(date.minusDays(1), time, zoneId) : today;
        }

        private static Instant nextAnchor(ZonedDateTime day, LocalTime time) {
            return ZonedDateTime.of(day.toLocalDate().plusDays(1), time, day.getZone()).toInstant();
        }
    }

    /** One finished run: when, how it ended, and its report. */
    record Run(String task, String started, String finished, String status, Object report) {}

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    private final Path root;

    Tasks(Path home) {
        this.root = home.resolve("tasks");
    }

    private Path folder(String name) {
        if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,127}")) {
            throw new IllegalArgumentException("'" + name + "' is not a valid task name: use letters, digits, '.',"
                    + " '_' and '-', starting with a letter or digit");
        }
        return root.resolve(name);
    }

    void add(Task task) throws IOException {
        Path folder = folder(task.name());
        if (!Files.isDirectory(folder)) {
            Files.createDirectories(folder);
            DurableFiles.flushFolder(root); // the task's folder survives a power cut with the file in it
        }
        Path temp = Files.createTempFile(folder, ".task", ".tmp");
        Files.write(temp, JSON.writeValueAsBytes(task));
        try {
            DurableFiles.flushFile(temp);
            Files.createLink(folder.resolve("task.json"), temp); // exclusive: never replaces another task
            DurableFiles.flushFolder(folder);
        } catch (FileAlreadyExistsException e) {
            throw new IllegalArgumentException("a task named '" + task.name() + "' exists already; remove it first"
                    + " with: ferry task rm " + task.name());
        } finally {
            Files.delete(temp);
        }
    }

    /** A task name with no task: a failure (exit 1), as a missing job or dataset is. */
    static final class NoSuchTaskException extends IOException {
        NoSuchTaskException(String name) {
            super("no task named '" + name + "': see 'ferry task ls'");
        }
    }

    /** A task file that does not parse, or lacks what a run needs: named, so that one damaged task stops no other. */
    static final class DamagedTaskException extends IOException {
        DamagedTaskException(Path file, String name, String why) {
            super("task file " + file + " is damaged (" + why + "): fix it, or remove the task with: ferry task rm "
                    + name);
        }
    }

    Task get(String name) throws IOException {
        Path file = folder(name).resolve("task.json");
        Task task;
        try {
            task = JSON.readValue(file.toFile(), Task.class);
        } catch (NoSuchFileException | java.io.FileNotFoundException e) {
            throw new NoSuchTaskException(name);
        } catch (JsonProcessingException e) {
            throw new DamagedTaskException(file, name, e.getOriginalMessage());
        }
        if (task == null || task.source() == null || task.destination() == null || task.every() == null
                || task.zone() == null || task.arguments() == null) {
            throw new DamagedTaskException(file, name, "it lacks source, destination, every, zone or arguments");
        }
        return task;
    }

    /** The names of the tasks, in order; {@link #get} reads each. */
    List<String> names() throws IOException {
        List<String> names = new ArrayList<>();
        if (!Files.isDirectory(root)) {
            return names;
        }
        try (Stream<Path> folders = Files.list(root)) {
            for (Path folder : folders.sorted().toList()) {
                if (Files.exists(folder.resolve("task.json"))) {
                    names.add(folder.getFileName().toString());
                }
            }
        }
        return names;
    }

    void remove(String name) throws IOException {
        Path folder = folder(name);
        if (!Files.exists(folder.resolve("task.json"))) {
            throw new NoSuchTaskException(name);
        }
        try (Stream<Path> paths = Files.walk(folder)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** Keeps a run's record: written beside the others, then moved into place whole. */
    void record(Run run) throws IOException {
        Path runs = folder(run.task()).resolve("runs");
        Files.createDirectories(runs);
        DurableFiles.write(runs.resolve(run.started().replace(':', '-') + ".json"), JSON.writeValueAsBytes(run));
    }

    /**
     * The newest run of a task that can be read, as its stored JSON tree, or {@code null} if it never ran. Reads only
     * from the newest record back, so a task that has run every minute for a year costs the agent's every look one
     * listing of its folder, not a year of records.
     */
    JsonNode lastRun(String name) throws IOException {
        List<Path> files = runFiles(name);
        for (int i = files.size() - 1; i >= 0; i--) {
            JsonNode run = readRun(files.get(i));
            if (run != null) {
                return run;
            }
        }
        return null;
    }

    /** The runs of a task that can be read, oldest first, as stored JSON trees. */
    List<JsonNode> runs(String name) throws IOException {
        List<JsonNode> result = new ArrayList<>();
        for (Path file : runFiles(name)) {
            JsonNode run = readRun(file);
            if (run != null) {
                result.add(run);
            }
        }
        return result;
    }

    /** A task's run records, oldest first (their names are their start times). */
    private List<Path> runFiles(String name) throws IOException {
        Path runs = folder(name).resolve("runs");
        if (!Files.isDirectory(runs)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(runs)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".json")).sorted().toList();
        }
    }

    /**
     * A run record, or {@code null} for one that does not parse (cut short by a crash of an earlier version, which did
     * not flush it) or whose start is not a time: it is no run, and must not stop the agent.
     */
    private static JsonNode readRun(Path file) throws IOException {
        JsonNode run;
        try {
            run = JSON.readTree(file.toFile());
            if (run == null || !run.hasNonNull("started") || !run.hasNonNull("status")) {
                return null;
            }
            Instant.parse(run.get("started").asText());
        } catch (com.fasterxml.jackson.core.JsonProcessingException | DateTimeParseException damaged) {
            return null;
        }
        return run;
    }

    /** When the last run started, or {@code null} if it never ran. */
    Instant lastStart(String name) throws IOException {
        JsonNode last = lastRun(name);
        return last == null ? null : Instant.parse(last.get("started").asText());
    }
}
