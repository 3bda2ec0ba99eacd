package ferry.cli;

import com.fasterxml.jackson.databind.JsonNode;
import ferry.train.JobDescription;
import ferry.train.JobStore;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchService;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "jobs", mixinStandardHelpOptions = true,
        description = "Training jobs run by 'ferry train' on this machine (kept under $FERRY_HOME/jobs).",
        subcommands = {JobsCommand.Ls.class, JobsCommand.Describe.class, JobsCommand.Logs.class,
                JobsCommand.Stop.class, JobsCommand.Rm.class})
final class JobsCommand {
    @ParentCommand
    Ferry ferry;

    JobStore store() {
        return TrainCommand.jobs(ferry);
    }

    @Command(name = "ls", mixinStandardHelpOptions = true, description = "List jobs, oldest first.")
    static final class Ls implements Callable<Integer> {
        @ParentCommand
        JobsCommand jobs;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() throws IOException {
            Ferry ferry = jobs.ferry;
            List<Map<String, Object>> rows = new ArrayList<>();
            for (JobStore.Job job : jobs.store().list()) {
                JobDescription d = job.description();
                JsonNode node = d.json();
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("job", job.id());
                row.put("TrainingJobName", d.name());
                row.put("TrainingJobStatus", d.status());
                row.put("SecondaryStatus", d.secondaryStatus());
                row.put("CreationTime", node.path("CreationTime").asText());
                row.put("TrainingTimeInSeconds", node.hasNonNull("TrainingTimeInSeconds")
                        ? node.get("TrainingTimeInSeconds").asLong() : null);
                row.put("SecondsBeforeTraining", node.path("Ferry").path("SecondsBeforeTraining").asDouble());
                row.put("running", job.running());
                rows.add(row);
            }
            if (json) {
                Json.print(ferry.out, rows);
                return Ferry.OK;
            }
            if (rows.isEmpty()) {
                ferry.err.println("no training jobs in " + jobs.store().root() + "; run one with: ferry train"
                        + " job.json");
                return Ferry.OK;
            }
            ferry.out.printf("%-32s %-11s %-19s %-20s %9s %9s%n", "NAME", "STATUS", "SECONDARY", "CREATED",
                    "TRAINING", "BEFORE");
            for (Map<String, Object> row : rows) {
                Object seconds = row.get("TrainingTimeInSeconds");
                ferry.out.printf(Locale.ROOT, "%-32s %-11s %-19s %-20s %9s %8.2fs%n", row.get("job"),
                        row.get("TrainingJobStatus"), row.get("SecondaryStatus"),
                        row.get("CreationTime").toString().substring(0, 19), seconds == null ? "-" : seconds + "s",
                        (Double) row.get("SecondsBeforeTraining"));
            }
            return Ferry.OK;
        }
    }

    @Command(name = "describe", mixinStandardHelpOptions = true,
            description = "Show a job: status and its transitions with times, seconds per phase, channels (files and"
                    + " bytes delivered), artifacts. --json gives DescribeTrainingJob's shape.")
    static final class Describe implements Callable<Integer> {
        @ParentCommand
        JobsCommand jobs;

        @Parameters(paramLabel = "NAME", description = "The TrainingJobName (NAME@HOST for one simulated host).")
        String name;

        @Option(names = "--json", description = "Print DescribeTrainingJob-shaped JSON.")
        boolean json;

        @Override
        public Integer call() throws IOException {
            Ferry ferry = jobs.ferry;
            JobStore.Job job = jobs.store().get(name);
            JsonNode d = job.description().json();
            if (json) {
                Json.print(ferry.out, d);
                return Ferry.OK;
            }
            ferry.out.println("TrainingJobName:   " + d.path("TrainingJobName").asText());
            ferry.out.println("TrainingJobStatus: " + d.path("TrainingJobStatus").asText()
                    + (job.running() ? " (running)" : ""));
            ferry.out.println("SecondaryStatus:   " + d.path("SecondaryStatus").asText());
            if (d.hasNonNull("FailureReason")) {
                ferry.out.println("FailureReason:     " + d.get("FailureReason").asText());
            }
            ferry.out.println("CreationTime:      " + d.path("CreationTime").asText());
            if (d.hasNonNull("TrainingTimeInSeconds")) {
                ferry.out.println("TrainingTime:      " + d.get("TrainingTimeInSeconds").asLong() + " s (billable "
                        + d.path("BillableTimeInSeconds").asLong() + " s)");
            }
            ferry.out.println("ModelArtifacts:    " + d.path("ModelArtifacts").path("S3ModelArtifacts").asText("-"));
            JsonNode ferryPart = d.path("Ferry");
            ferry.out.println("Host:              " + ferryPart.path("CurrentHost").asText() + " of "
                    + ferryPart.path("Hosts"));
            ferry.out.println("JobFolder:         " + ferryPart.path("JobFolder").asText());
            ferry.out.println("Isolation:         " + ferryPart.path("Isolation").asText("-"));
            ferry.out.println();
            ferry.out.printf("%-20s %-24s %-24s %s%n", "STATUS", "START", "END", "MESSAGE");
            for (JsonNode t : d.path("SecondaryStatusTransitions")) {
                ferry.out.printf("%-20s %-24s %-24s %s%n", t.path("Status").asText(), t.path("StartTime").asText(),
                        t.path("EndTime").asText("-"), t.path("StatusMessage").asText());
            }
            ferry.out.println();
            ferry.out.println("seconds per phase:");
            JsonNode phases = ferryPart.path("PhaseSeconds");
            phases.fieldNames().forEachRemaining(phase -> ferry.out.printf(Locale.ROOT, "  %-12s %9.2f%n", phase,
                    phases.get(phase).asDouble()));
            ferry.out.printf(Locale.ROOT, "  %-12s %9.2f  (waiting for data before training)%n", "before",
                    ferryPart.path("SecondsBeforeTraining").asDouble());
            if (!ferryPart.path("Channels").isEmpty()) {
                ferry.out.println();
                ferry.out.printf("%-16s %-11s %10s %14s %9s  %s%n", "CHANNEL", "MODE", "FILES", "BYTES", "SECONDS",
                        "SOURCE");
                for (JsonNode c : ferryPart.path("Channels")) {
                    ferry.out.printf(Locale.ROOT, "%-16s %-11s %10d %14d %9.2f  %s%n", c.path("ChannelName").asText(),
                            c.path("InputMode").asText(), c.path("FilesDelivered").asLong(),
                            c.path("BytesDelivered").asLong(), c.path("Seconds").asDouble(),
                            c.path("Source").asText());
                }
            }
            return Ferry.OK;
        }
    }

    @Command(name = "logs", mixinStandardHelpOptions = true,
            description = "Print a job's log: the process's output and Ferry's notes ([ferry ...] lines).")
    static final class Logs implements Callable<Integer> {
        @ParentCommand
        JobsCommand jobs;

        @Parameters(paramLabel = "NAME")
        String name;

        @Option(names = {"-f", "--follow"}, description = "Keep printing new lines until the job ends.")
        boolean follow;

        @Override
        public Integer call() throws IOException, InterruptedException {
            Ferry ferry = jobs.ferry;
            JobStore store = jobs.store();
            Path log = store.log(name);
            try (InputStream in = Files.newInputStream(log);
                    WatchService watcher = follow ? log.getFileSystem().newWatchService() : null) {
                if (watcher != null) {
                    log.getParent().register(watcher, StandardWatchEventKinds.ENTRY_MODIFY,
                            StandardWatchEventKinds.ENTRY_CREATE);
                }
                byte[] buffer = new byte[64 * 1024];
                // Lines are cut as bytes and decoded whole: a read may end inside a multi-byte character.
                ByteArrayOutputStream partial = new ByteArrayOutputStream();
                while (true) {
                    boolean running = follow && store.get(name).running();
                    int read;
                    while ((read = in.read(buffer)) > 0) {
                        int start = 0;
                        for (int i = 0; i < read; i++) {
                            if (buffer[i] == '\n') {
                                partial.write(buffer, start, i - start);
                                ferry.out.println(partial.toString(StandardCharsets.UTF_8));
                                partial.reset();
                                start = i + 1;
                            }
                        }
                        partial.write(buffer, start, read - start);
                    }
                    ferry.out.flush();
                    if (!running) {
                        break;
                    }
                    // inotify wakes us when the log or the description changes; the timeout catches a runner
                    // that died without a last write
                    var key = watcher.poll(1, TimeUnit.SECONDS);
                    if (key != null) {
                        key.pollEvents();
                        key.reset();
                    }
                }
                if (partial.size() > 0) {
                    ferry.out.println(partial.toString(StandardCharsets.UTF_8));
                }
            }
            return Ferry.OK;
        }
    }

    @Command(name = "stop", mixinStandardHelpOptions = true,
            description = "Stop a running job: SIGTERM to its process group, SIGKILL after the grace period; what the"
                    + " process saved is still uploaded and the job ends Stopped.")
    static final class Stop implements Callable<Integer> {
        @ParentCommand
        JobsCommand jobs;

        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        public Integer call() throws IOException {
            Ferry ferry = jobs.ferry;
            JobStore store = jobs.store();
            if (!store.stop(name)) {
                ferry.err.println("ferry: job '" + name + "' has already ended ("
                        + store.get(name).description().status() + "): nothing to stop");
                return Ferry.FAILED;
            }
            ferry.out.println("stopping job " + name + ": its process group gets SIGTERM (SIGKILL after the grace"
                    + " period); 'ferry jobs describe " + name + "' shows Stopped once it has ended");
            return Ferry.OK;
        }
    }

    @Command(name = "rm", mixinStandardHelpOptions = true,
            description = "Remove a finished job's folder (its log, description and local copies), so that its name"
                    + " can be used again. Uploaded artifacts are kept.")
    static final class Rm implements Callable<Integer> {
        @ParentCommand
        JobsCommand jobs;

        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        public Integer call() throws IOException {
            try {
                jobs.store().delete(name);
            } catch (IllegalStateException e) { // running or starting: its state refuses it, as stop of an ended job
                jobs.ferry.err.println("ferry: " + e.getMessage());
                return Ferry.FAILED;
            }
            jobs.ferry.out.println("removed job " + name);
            return Ferry.OK;
        }
    }
}
