package ferry.cli;

import ferry.store.Location;
import ferry.transfer.SyncBusyException;
import ferry.transfer.SyncReport;
import ferry.transfer.Syncer;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "task", mixinStandardHelpOptions = true,
        description = "Named sync tasks with schedules, run by 'ferry agent' (or now, by 'ferry task run').",
        subcommands = {TaskCommand.Add.class, TaskCommand.Ls.class, TaskCommand.Rm.class, TaskCommand.Run.class})
final class TaskCommand {
    @ParentCommand
    Ferry ferry;

    Tasks tasks() {
        return new Tasks(ferry.home());
    }

    @Command(name = "add", mixinStandardHelpOptions = true,
            description = {"Add a task that syncs SOURCE to DESTINATION on a schedule.",
                    "Example:  ferry task add nightly-cifar /nfs/cifar s3://ml-data/cifar/ --every 24h --at 02:00"})
    static final class Add implements Callable<Integer> {
        @ParentCommand
        TaskCommand parent;

        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Parameters(index = "1", paramLabel = "SOURCE")
        String source;

        @Parameters(index = "2", paramLabel = "DESTINATION")
        String destination;

        @Option(names = "--every", required = true, paramLabel = "DURATION",
                description = "How often: 30m, 6h, 24h, 7d.")
        String every;

        @Option(names = "--at", paramLabel = "HH:MM",
                description = "Anchor runs to this time of day (local time), e.g. 02:00.")
        String at;

        @Mixin
        SyncCommand.SyncOptions options;

        @Override
        public Integer call() throws IOException {
            Duration interval = Sizes.parseDuration(every);
            if (interval.compareTo(Duration.ofMinutes(1)) < 0) {
                throw new IllegalArgumentException("--every must be at least 1m, was " + every);
            }
            if (at != null) {
                try {
                    LocalTime.parse(at);
                } catch (DateTimeParseException e) {
                    throw new IllegalArgumentException("--at must be a time of day such as 02:00, was '" + at + "'");
                }
                if (interval.compareTo(Duration.ofDays(1)) > 0 && interval.toSeconds() % 86_400 != 0) {
                    throw new IllegalArgumentException("with --at, --every must be whole days (24h, 7d) or less than"
                            + " a day, was " + every);
                }
            }
            if (options.dryRun) {
                throw new IllegalArgumentException("a task cannot be a dry run: try 'ferry sync --dry-run' instead");
            }
            // Parse and check now, so a bad pair is refused when the task is added.
            Syncer.checkApart(Location.of(source), Location.of(destination));
            options.toOptions(Instant.now()); // the same for the filters
            Ferry ferry = parent.ferry;
            Tasks.Task task = new Tasks.Task(name, Location.of(source).asDirectory().toString(),
                    Location.of(destination).asDirectory().toString(), interval.toString(), at,
                    ZoneId.systemDefault().getId(), options.toArguments(), ferry.clock.instant().toString());
            parent.tasks().add(task);
            ferry.out.printf("added task %s: %s -> %s every %s%s; next run %s%n", name, task.source(),
                    task.destination(), every, at == null ? "" : " at " + at,
                    task.nextRun(null, ferry.clock.instant()));
            return Ferry.OK;
        }
    }

    @Command(name = "ls", mixinStandardHelpOptions = true, description = "List tasks, their last run and next run.")
    static final class Ls implements Callable<Integer> {
        @ParentCommand
        TaskCommand parent;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public Integer call() throws IOException {
            Ferry ferry = parent.ferry;
            Tasks tasks = parent.tasks();
            List<Map<String, Object>> rows = new ArrayList<>();
            int exit = Ferry.OK;
            for (String name : tasks.names()) {
                Tasks.Task task;
                try {
                    task = tasks.get(name);
                } catch (Tasks.NoSuchTaskException removed) {
                    continue;
                } catch (Tasks.DamagedTaskException e) {
                    ferry.err.println("ferry: " + e.getMessage()); // the others are still listed
                    exit = Ferry.FAILED;
                    continue;
                }
                var runs = tasks.runs(task.name());
                Instant last = runs.isEmpty() ? null : Instant.parse(runs.getLast().get("started").asText());
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("name", task.name());
                row.put("source", task.source());
                row.put("destination", task.destination());
                row.put("every", task.every());
                row.put("at", task.at());
                row.put("lastRun", last == null ? null : last.toString());
                row.put("lastStatus", runs.isEmpty() ? null : runs.getLast().get("status").asText());
                row.put("nextRun", task.nextRun(last, ferry.clock.instant()).toString());
                row.put("runs", runs.size());
                rows.add(row);
            }
            if (json) {
                Json.print(ferry.out, rows);
            } else if (rows.isEmpty() && exit == Ferry.OK) {
                ferry.err.println("no tasks; add one with: ferry task add NAME SOURCE DESTINATION --every 24h");
            } else {
                for (Map<String, Object> row : rows) {
                    ferry.out.printf("%-20s every %-8s last %-8s next %s  %s -> %s%n", row.get("name"),
                            Duration.parse((String) row.get("every")).toString().substring(2).toLowerCase(),
                            row.get("lastStatus") == null ? "never" : row.get("lastStatus"), row.get("nextRun"),
                            row.get("source"), row.get("destination"));
                }
            }
            return exit;
        }
    }

    @Command(name = "rm", mixinStandardHelpOptions = true, description = "Remove a task and its run history.")
    static final class Rm implements Callable<Integer> {
        @ParentCommand
        TaskCommand parent;

        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        public Integer call() throws IOException {
            parent.tasks().remove(name);
            parent.ferry.out.println("removed task " + name);
            return Ferry.OK;
        }
    }

    @Command(name = "run", mixinStandardHelpOptions = true, description = "Run a task now, once.")
    static final class Run implements Callable<Integer> {
        @ParentCommand
        TaskCommand parent;

        @Parameters(paramLabel = "NAME")
        String name;

        @Option(names = "--json", description = "Print the report as JSON.")
        boolean json;

        @Override
        public Integer call() throws IOException, InterruptedException {
            Tasks tasks = parent.tasks();
            return runTask(parent.ferry, tasks, tasks.get(name), json);
        }
    }

    /** Runs one task, records the run under the task, and prints its report. */
    static int runTask(Ferry ferry, Tasks tasks, Tasks.Task task, boolean json)
            throws IOException, InterruptedException {
        SyncCommand.SyncOptions options = new SyncCommand.SyncOptions();
        new CommandLine(options).parseArgs(task.arguments().toArray(String[]::new));
        Instant started = ferry.clock.instant();
        try {
            SyncReport report =
                    SyncCommand.run(ferry, Location.of(task.source()), Location.of(task.destination()), options);
            tasks.record(new Tasks.Run(task.name(), started.toString(), ferry.clock.instant().toString(),
                    report.succeeded() ? "ok" : "failed", SyncCommand.toJson(report)));
            SyncCommand.print(ferry, report, json);
            return report.succeeded() ? Ferry.OK : Ferry.FAILED;
        } catch (IOException | RuntimeException e) {
            // A run refused because the same sync is running (started by hand, or a task of the same pair) did not
            // fail: the data is being synced, and the task's last status should not say "error" meanwhile.
            String status = e instanceof SyncBusyException ? "skipped" : "error";
            tasks.record(new Tasks.Run(task.name(), started.toString(), ferry.clock.instant().toString(), status,
                    Map.of(status.equals("error") ? "error" : "reason", String.valueOf(e.getMessage()))));
            throw e;
        }
    }
}
