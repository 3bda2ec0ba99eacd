package ferry.train;

import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Signals a process group, as SageMaker stops a job: SIGTERM first, SIGKILL after a grace period. Java reaches one
 * process only, so the group is signalled through {@code kill(1)}; without it, the process and its descendants are
 * signalled one by one.
 */
final class Signals {
    private Signals() {}

    /** Sends {@code signal} (TERM or KILL) to the group led by {@code pid}; false if nothing was left to signal. */
    static boolean group(long pid, String signal) {
        try {
            Process kill = new ProcessBuilder(List.of("kill", "-s", signal, "--", "-" + pid))
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            if (kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0) {
                return true;
            }
            kill.destroyForcibly();
        } catch (IOException e) {
            // no kill(1): fall back to the process tree
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // No such group (the process does not lead one, or it is gone): signal what is left of its tree.
        Optional<ProcessHandle> leader = ProcessHandle.of(pid);
        if (leader.isEmpty() || !leader.get().isAlive()) {
            return false;
        }
        leader.get().descendants().forEach(p -> send(p, signal));
        send(leader.get(), signal);
        return true;
    }

    private static void send(ProcessHandle process, String signal) {
        if (signal.equals("KILL")) {
            process.destroyForcibly();
        } else {
            process.destroy();
        }
    }
}
