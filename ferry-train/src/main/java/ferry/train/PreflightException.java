package ferry.train;

import java.io.IOException;
import java.util.List;

/**
 * The checks made before anything is staged or started failed: a location that does not answer, a missing folder,
 * too little disk. Each problem names the channel or field and what to fix. No job folder was created, so the same
 * request can be run again once it is fixed.
 */
public final class PreflightException extends IOException {
    private final List<String> problems;

    public PreflightException(String job, List<String> problems) {
        super(message(job, problems));
        this.problems = List.copyOf(problems);
    }

    private static String message(String job, List<String> problems) {
        if (problems.size() == 1) {
            return "job '" + job + "' cannot start: " + problems.getFirst();
        }
        StringBuilder text = new StringBuilder("job '" + job + "' cannot start: " + problems.size() + " problems");
        problems.forEach(p -> text.append("\n  - ").append(p));
        return text.toString();
    }

    public List<String> problems() {
        return problems;
    }
}
