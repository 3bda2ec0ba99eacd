package ferry.cli;

import ferry.store.local.ProcessLock;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "agent", mixinStandardHelpOptions = true,
        description = {"Run the tasks when they are due, until stopped (Ctrl-C or SIGTERM).",
                "One agent runs per Ferry home. Tasks run one after another; a task is never run twice at once (a"
                        + " run of the same sync elsewhere is refused and recorded). Each run's report is kept under"
                        + " $FERRY_HOME/tasks/NAME/runs/."})
final class AgentCommand implements Callable<Integer> {
    @ParentCommand
    Ferry ferry;

    @Option(names = "--once", description = "Run what is due now, then exit.")
    boolean once;

    @Option(names = "--poll", defaultValue = "60s", paramLabel = "DURATION",
            description = "Look for new or changed tasks at least this often (default: ${DEFAULT-VALUE}).")
    String poll;

    @Override
    public Integer call() throws IOException, InterruptedException {
        Duration pollEvery = Sizes.parseDuration(poll);
        if (pollEvery.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException("--poll must be at least 1s, was " + poll);
        }
        Tasks tasks = new Tasks(ferry.home());
        // One agent per Ferry home: a second would run every due task again (refused by the sync's own lock, but
        // recorded as a skipped run over the first one's report).
        Path file = ferry.home().resolve("agent.lock");
        try (ProcessLock lock = ProcessLock.acquire(file, "pid " + ProcessHandle.current().pid(),
                other -> new IOException("another agent runs the tasks of " + ferry.home() + " ("
                        + (other.isEmpty() ? "pid unknown" : other) + "): one agent per Ferry home; stop that one"
                        + " first"))) {
            return runTasks(tasks, pollEvery);
        }
    }

    private int runTasks(Tasks tasks, Duration pollEvery) throws IOException, InterruptedException {
        int exit = Ferry.OK;
        while (true) {
            Instant soonest = ferry.clock.instant().plus(pollEvery);
            for (String name : tasks.names()) {
                // Read now: a run of an earlier task may have taken long, and this one been changed or removed.
                Tasks.Task task;
                try {
                    task = tasks.get(name);
                } catch (Tasks.NoSuchTaskException removed) {
                    continue;
                } catch (Tasks.DamagedTaskException e) {
                    ferry.err.println(ferry.clock.instant() + " task " + name + ": " + e.getMessage());
                    exit = Ferry.FAILED;
                    continue;
                }
                Instant now = ferry.clock.instant();
                Instant due = task.nextRun(tasks.lastStart(task.name()), now);
                if (!due.isAfter(now)) {
                    ferry.out.println(now + " task " + task.name() + ": starting");
                    try {
                        exit = Math.max(exit, TaskCommand.runTask(ferry, tasks, task, false));
                    } catch (IOException | RuntimeException e) {
                        // Recorded with the task; one task that cannot run must not stop the others.
                        ferry.err.println(ferry.clock.instant() + " task " + task.name() + ": " + e.getMessage());
                        exit = Ferry.FAILED;
                    }
                    due = task.nextRun(tasks.lastStart(task.name()), ferry.clock.instant());
                }
                soonest = due.isBefore(soonest) ? due : soonest;
            }
            if (once) {
                return exit;
            }
            long wait = Duration.between(ferry.clock.instant(), soonest).toMillis();
            if (wait > 0) {
                Thread.sleep(wait); // the schedule's own wait: nothing to do until the next task is due
            }
        }
    }
}
