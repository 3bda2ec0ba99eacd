package ferry.cli;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "agent", mixinStandardHelpOptions = true,
        description = {"Run the tasks when they are due, until stopped (Ctrl-C or SIGTERM).",
                "Tasks run one after another; a task is never run twice at once (a run of the same sync elsewhere"
                        + " is refused and recorded). Each run's report is kept under $FERRY_HOME/tasks/NAME/runs/."})
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
        int exit = Ferry.OK;
        while (true) {
            Instant soonest = ferry.clock.instant().plus(pollEvery);
            for (Tasks.Task listed : tasks.list()) {
                // Read again: a run of an earlier task may have taken long, and this one been changed or removed.
                Tasks.Task task;
                try {
                    task = tasks.get(listed.name());
                } catch (IllegalArgumentException removed) {
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
