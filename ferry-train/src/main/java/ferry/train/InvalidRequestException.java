package ferry.train;

import java.util.List;

/**
 * A training request that cannot be run as written. Each problem names the field at fault (such as
 * {@code InputDataConfig[0].DataSource.S3DataSource.S3Uri}) and what to do. An argument error, so the command line
 * exits with 2.
 */
public final class InvalidRequestException extends IllegalArgumentException {
    private final List<String> problems;

    public InvalidRequestException(String source, List<String> problems) {
        super(message(source, problems));
        this.problems = List.copyOf(problems);
    }

    private static String message(String source, List<String> problems) {
        if (problems.size() == 1) {
            return source + ": " + problems.getFirst();
        }
        StringBuilder text = new StringBuilder(source).append(": ").append(problems.size()).append(" problems");
        for (String problem : problems) {
            text.append("\n  - ").append(problem);
        }
        return text.toString();
    }

    /** Every problem found, one sentence each. */
    public List<String> problems() {
        return problems;
    }
}
